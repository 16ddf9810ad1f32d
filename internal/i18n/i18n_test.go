package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs lists a format's verbs (not %%), sorted, so translations may reorder words but not arguments' kinds.
func verbs(s string) []string {
	var out []string
	for _, v := range verb.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	slices.Sort(out)
	return out
}

func TestCatalogueComplete(t *testing.T) {
	if len(catalogue) == 0 {
		t.Fatal("empty catalogue")
	}
	for _, key := range Keys() {
		m := catalogue[key]
		if strings.TrimSpace(m.EN) == "" || strings.TrimSpace(m.ZH) == "" {
			t.Errorf("%s: missing a language: en %q zh %q", key, m.EN, m.ZH)
			continue
		}
		if en, zh := verbs(m.EN), verbs(m.ZH); !slices.Equal(en, zh) {
			t.Errorf("%s: verbs differ: en %v %q, zh %v %q", key, en, m.EN, zh, m.ZH)
		}
		if m.EN != strings.TrimSpace(m.EN) || m.ZH != strings.TrimSpace(m.ZH) {
			t.Errorf("%s: leading or trailing space", key)
		}
	}
}

func TestT(t *testing.T) {
	for _, c := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "nav.incidents", nil, "Incidents"},
		{"zh", "nav.incidents", nil, "事故"},
		{"zh", "nav.services", nil, "服务"},
		{"zh", "status.resolved", nil, "已解决"},
		{"zh", "incident.timeline", nil, "时间线"},
		{"en", "time.minutes_ago", []any{5}, "5 minutes ago"},
		{"zh", "time.minutes_ago", []any{5}, "5 分钟前"},
		{"fr", "nav.logout", nil, "Log out"},
		{"en", "no.such.key", nil, "no.such.key"},
	} {
		if got := T(c.lang, c.key, c.args...); got != c.want {
			t.Errorf("T(%q, %q, %v) = %q, want %q", c.lang, c.key, c.args, got, c.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		cookie, locale, accept, want string
	}{
		{"", "", "", "en"},
		{"zh", "", "en-US", "zh"},
		{"en", "zh-CN", "zh", "en"},
		{"bogus", "zh-CN", "en", "zh"},
		{"", "en", "zh-CN", "en"},
		{"", "", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"", "", "zh-TW", "zh"},
		{"", "", "zh_Hans", "zh"},
		{"", "", "en-US,en;q=0.9,zh;q=0.8", "en"},
		{"", "", "fr-FR,zh;q=0.7,en;q=0.5", "zh"},
		{"", "", "fr-FR, de;q=0.8", "en"},
		{"", "", "en;q=0, zh;q=0.1", "zh"},
		{"", "", "zh;q=0", "en"},
		{"", "", "*", "en"},
	} {
		if got := Negotiate(c.cookie, c.locale, c.accept); got != c.want {
			t.Errorf("Negotiate(%q, %q, %q) = %q, want %q", c.cookie, c.locale, c.accept, got, c.want)
		}
	}
}

func TestFuncMap(t *testing.T) {
	f, ok := FuncMap("zh")["t"].(func(string, ...any) string)
	if !ok {
		t.Fatal("FuncMap has no t(key, args...)")
	}
	if got := f("dur.hm", 2, 5); got != "2 小时 5 分钟" {
		t.Errorf("t = %q", got)
	}
}
