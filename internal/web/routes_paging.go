package web

// pagingPages are the page templates of the paging area.
var pagingPages = []string{}

// registerPaging registers one-click action links, escalate now, reassign and
// the notification log (API and UI).
func (s *Server) registerPaging() {
}
