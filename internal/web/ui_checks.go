package web

// checksPages are the page templates of the early-warning area.
var checksPages = []string{}

// registerChecksUI registers the pages of checks, maintenance windows and
// restore tests.
func (s *Server) registerChecksUI() {
}
