package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
)

type loginData struct {
	Username string
	Next     string
	Error    string
}

func (u *ui) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"), "/incidents")
	if _, err := u.s.Auth.Authenticate(r); err == nil {
		seeOther(w, r, next)
		return
	}
	v := u.view(r, "", "login", loginData{Next: next})
	v.Title = i18n.T(v.Lang, "login.title")
	u.render(w, r, http.StatusOK, "login", v)
}

// login checks the password and starts a browser session. A failure says the
// same thing whether or not the user exists.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"), "/incidents")
	usr, err := u.s.Auth.Login(r.Context(), name, pw)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		v := u.view(r, "", "login", loginData{Username: name, Next: next})
		v.Title = i18n.T(v.Lang, "login.title")
		v.D = loginData{Username: name, Next: next, Error: i18n.T(v.Lang, "login.failed")}
		u.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	token, expires, err := u.s.Auth.CreateSession(r.Context(), usr.ID, u.s.SessionTTL)
	if err != nil {
		u.s.failErr(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: u.s.SecureCookies, SameSite: http.SameSiteLaxMode})
	seeOther(w, r, next)
}

func (u *ui) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		if err := u.s.Auth.DeleteSession(r.Context(), c.Value); err != nil {
			u.s.failErr(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HttpOnly: true, Secure: u.s.SecureCookies, SameSite: http.SameSiteLaxMode})
	seeOther(w, r, "/login")
}

// setLang remembers the language a person picked, in a cookie and, when they
// are logged in, as their locale.
func (u *ui) setLang(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		u.s.failErr(w, r, err)
		return
	}
	lang, ok := i18n.Supported(r.PostForm.Get("lang"))
	if !ok {
		u.s.fail(w, r, http.StatusBadRequest, "lang", "lang must be en or zh")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: u.s.SecureCookies, SameSite: http.SameSiteLaxMode})
	if usr, err := u.s.Auth.Authenticate(r); err == nil && usr.Locale != lang {
		if err := u.s.Auth.SetLocale(r.Context(), usr.ID, lang); err != nil {
			u.s.Log.Warn("save locale", "user", usr.Username, "err", err)
		}
	}
	seeOther(w, r, safeNext(r.PostForm.Get("next"), "/"))
}
