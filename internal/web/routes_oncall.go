package web

// oncallPages are the page templates of the on-call area.
var oncallPages = []string{}

// registerOnCall registers the on-call area: people, contact methods and
// notification rules, teams, schedules and overrides, iCal feeds, escalation
// policies (API and UI).
func (s *Server) registerOnCall() {
}
