package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// LangCookie names the cookie holding the language a person picked.
const LangCookie = "firebreak_lang"

// uiPages are the page templates; each is parsed with the layout and the partials.
// Pages of other areas are listed beside their handlers (oncallPages, pagingPages, checksPages).
var uiPages = slices.Concat([]string{"login", "incidents", "incident", "declare", "services", "error"}, oncallPages, pagingPages, checksPages)

// ui renders the browser pages: server-side html/template in the reader's
// language, a stylesheet and a small script, all embedded in the binary.
type ui struct {
	s *Server
	// pages holds one parsed template set per language and page.
	pages map[string]map[string]*template.Template
	// static serves the embedded files; versions maps a file to its content hash.
	static   fs.FS
	versions map[string]string
	// heartbeat is how often an idle live stream sends a comment.
	heartbeat time.Duration
}

func newUI(s *Server) *ui {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic("web: static files: " + err.Error())
	}
	u := &ui{s: s, static: sub, versions: map[string]string{}, heartbeat: 25 * time.Second,
		pages: map[string]map[string]*template.Template{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u.versions[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic("web: static files: " + err.Error())
	}
	for _, lang := range i18n.Langs {
		base, err := template.New("").Funcs(u.funcs(lang)).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
		if err != nil {
			panic("web: templates: " + err.Error())
		}
		u.pages[lang] = map[string]*template.Template{}
		for _, p := range uiPages {
			t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+p+".html")
			if err != nil {
				panic("web: templates: " + err.Error())
			}
			u.pages[lang][p] = t
		}
	}
	return u
}

// staticURL is the address of an embedded file, versioned by its content so
// browsers may cache it for good.
func (u *ui) staticURL(name string) string {
	return "/static/" + name + "?v=" + u.versions[name]
}

func (s *Server) registerUI() {
	s.ui = newUI(s)
	u := s.ui
	s.handle("GET /{$}", Viewer, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/me", http.StatusSeeOther) // home: my on-call shifts
	})
	s.handle("GET /static/", Public, u.serveStatic)

	s.handle("GET /login", Public, u.loginForm)
	s.handle("POST /login", Public, u.login)
	s.handle("POST /logout", Viewer, u.logout)
	s.handle("POST /lang", Public, u.setLang)

	s.handle("GET /incidents", Viewer, u.incidentList)
	s.handle("GET /incidents/stream", Viewer, u.listStream)
	s.handle("GET /incidents/new", Responder, u.declareForm)
	s.handle("POST /incidents", Responder, u.declare)
	s.handle("GET /incidents/{id}", Viewer, u.incidentPage)
	s.handle("GET /incidents/{id}/stream", Viewer, u.incidentStream)
	s.handle("POST /incidents/{id}/status", Responder, u.setStatus)
	s.handle("POST /incidents/{id}/level", Responder, u.setLevel)
	s.handle("POST /incidents/{id}/notes", Responder, u.addNote)

	s.handle("GET /services", Viewer, u.servicesPage)
	s.handle("POST /services", Admin, u.createService)
	s.handle("POST /services/{id}/keys", Admin, u.addKey)
}

// serveStatic serves the embedded stylesheet and script. A request naming the
// current version (?v=…) may be cached for a year; others for five minutes.
func (u *ui) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	ver, ok := u.versions[name]
	if !ok || name == "" || strings.HasSuffix(name, "/") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(u.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if r.URL.Query().Get("v") == ver {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", `"`+ver+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(b))
}

// view is what every page template gets: the page's own data is D.
type view struct {
	Lang       string
	User       auth.User
	UserName   string
	CanRespond bool
	IsAdmin    bool
	Title      string
	Nav        string // the active top-nav entry
	Path       string // where the language switch returns to
	D          any
}

// lang picks the language of a request: cookie, the user's locale, Accept-Language, English.
func (u *ui) lang(r *http.Request) string {
	var cookie string
	if c, err := r.Cookie(LangCookie); err == nil {
		cookie = c.Value
	}
	usr, _ := auth.UserFrom(r.Context())
	return i18n.Negotiate(cookie, usr.Locale, r.Header.Get("Accept-Language"))
}

func (u *ui) view(r *http.Request, title, nav string, d any) view {
	usr, _ := auth.UserFrom(r.Context())
	name := usr.DisplayName
	if name == "" {
		name = usr.Username
	}
	back := "/"
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		back = r.URL.RequestURI()
	case r.URL.Path == "/login":
		back = "/login"
	}
	return view{Lang: u.lang(r), User: usr, UserName: name, CanRespond: usr.Role.AtLeast(auth.Responder),
		IsAdmin: usr.Role.AtLeast(auth.Admin), Title: title, Nav: nav, Path: back, D: d}
}

// securityHeaders keeps the pages to their own scripts and styles and out of frames.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// render writes a whole page in the layout.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	u.execute(w, r, status, page, "layout", v)
}

// execute runs one named template of a page's set into a buffer first, so a
// template error becomes a clean 500 rather than half a page.
func (u *ui) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	lang := u.lang(r)
	if v, ok := data.(view); ok {
		lang = v.Lang
	}
	var buf bytes.Buffer
	if err := u.pages[lang][page].ExecuteTemplate(&buf, name, data); err != nil {
		u.s.Log.Error("render page", "page", page, "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	securityHeaders(h)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fragment renders one template of a page's set to a string (live updates).
func (u *ui) fragment(lang, page, name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := u.pages[lang][page].ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	return buf.String(), nil
}

type errorData struct {
	Status  int
	Heading string
	Message string
	Back    string // the page the person came from, on this site
}

// referrer returns the local page a request came from, or "".
func referrer(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host || ref.Path == r.URL.Path {
		return ""
	}
	return safeNext(ref.RequestURI(), "")
}

// errorPage renders a friendly error page in the layout.
func (u *ui) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	lang := u.lang(r)
	key := "error.heading"
	switch status {
	case http.StatusUnauthorized:
		key = "error.401"
	case http.StatusForbidden:
		key = "error.403"
	case http.StatusNotFound:
		key = "error.404"
	case http.StatusConflict:
		key = "error.409"
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		key = "error.400"
	}
	if status >= 500 {
		key = "error.500"
	}
	heading := i18n.T(lang, key)
	u.render(w, r, status, "error", u.view(r, heading, "", errorData{Status: status, Heading: heading, Message: msg, Back: referrer(r)}))
}

// safeNext returns next when it is a path on this site, else fallback. It
// refuses absolute URLs, scheme-relative ones ("//host", "/\host") and
// anything with control characters, so a login link cannot send a person away.
func safeNext(next, fallback string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return fallback
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return fallback
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fallback
		}
	}
	p, err := url.Parse(next)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil {
		return fallback
	}
	return next
}

// seeOther redirects after a form post.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parseForm reads a form body of at most 1 MB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return &jsonError{http.StatusBadRequest, "", "cannot read the form: " + err.Error()}
	}
	return nil
}
