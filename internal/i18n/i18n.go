// Package i18n is firebreak's message catalogue: every string the browser UI
// shows, in English and Simplified Chinese, and the choice of language for a
// request.
package i18n

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
)

// Supported languages, the default first.
const (
	EN = "en"
	ZH = "zh"
)

// Langs lists the supported languages, the default first.
var Langs = []string{EN, ZH}

// Message is one catalogue entry in every supported language. Texts are
// fmt formats when the caller passes arguments.
type Message struct {
	EN, ZH string
}

// In returns the message text in lang, falling back to English.
func (m Message) In(lang string) string {
	if lang == ZH && m.ZH != "" {
		return m.ZH
	}
	return m.EN
}

// T returns the message key in lang, formatted with args when there are any.
// An unknown key is returned as it is, so a missing entry shows on the page
// (and fails the catalogue tests) rather than vanishing.
func T(lang, key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	s := m.In(lang)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether the catalogue holds key.
func Has(key string) bool {
	_, ok := catalogue[key]
	return ok
}

// Lookup returns the catalogue entry of key.
func Lookup(key string) (Message, bool) {
	m, ok := catalogue[key]
	return m, ok
}

// Keys returns every catalogue key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(catalogue))
	for k := range catalogue {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Supported returns the supported language a tag such as "zh-CN", "zh-Hans" or
// "en_GB" stands for.
func Supported(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	base, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	switch base {
	case EN:
		return EN, true
	case ZH:
		return ZH, true
	}
	return "", false
}

// Negotiate picks the language of a request: the language cookie, else the
// user's saved locale, else the best supported Accept-Language entry (any zh*
// is Chinese), else English.
func Negotiate(cookie, userLocale, acceptLanguage string) string {
	if l, ok := Supported(cookie); ok {
		return l
	}
	if l, ok := Supported(userLocale); ok {
		return l
	}
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(part, ";")
		l, ok := Supported(tag)
		if !ok {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	if best != "" {
		return best
	}
	return EN
}

// FuncMap returns the template functions of one language: {{t "key" args...}}.
// Parse a template set per language with it.
func FuncMap(lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return T(lang, key, args...) },
	}
}
