package web

import "net/http"

// ui renders the browser pages. (Being built: see registerUI.)
type ui struct{}

func (u *ui) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	http.Error(w, msg, status)
}

func (s *Server) registerUI() {}
