package web

import (
	"encoding/json"
	"html/template"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/i18n"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
)

// funcs are the template functions of one language.
func (u *ui) funcs(lang string) template.FuncMap {
	m := i18n.FuncMap(lang)
	m["status"] = func(s incident.Status) string { return label(lang, "status.", string(s)) }
	m["severity"] = func(s alert.Severity) string { return label(lang, "severity.", string(s)) }
	m["alertStatus"] = func(s alert.Status) string { return label(lang, "alert_status.", string(s)) }
	m["role"] = func(r auth.Role) string { return label(lang, "role.", string(r)) }
	m["ago"] = func(t time.Time) string { return ago(lang, time.Since(t)) }
	m["abs"] = absTime
	m["iso"] = func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	m["dur"] = func(d time.Duration) string { return durText(lang, d) }
	m["static"] = u.staticURL
	return m
}

// label translates a value of a closed set (a status, a severity) by prefix+value,
// showing the value itself when the catalogue does not know it.
func label(lang, prefix, v string) string {
	if v == "" {
		return ""
	}
	if i18n.Has(prefix + v) {
		return i18n.T(lang, prefix+v)
	}
	return v
}

func absTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long ago something happened, coarsely.
func ago(lang string, d time.Duration) string {
	switch {
	case d < 45*time.Second:
		return i18n.T(lang, "time.just_now")
	case d < 90*time.Second:
		return i18n.T(lang, "time.minute_ago")
	case d < 45*time.Minute:
		return i18n.T(lang, "time.minutes_ago", int(d.Round(time.Minute)/time.Minute))
	case d < 90*time.Minute:
		return i18n.T(lang, "time.hour_ago")
	case d < 22*time.Hour:
		return i18n.T(lang, "time.hours_ago", int(d.Round(time.Hour)/time.Hour))
	case d < 36*time.Hour:
		return i18n.T(lang, "time.day_ago")
	default:
		return i18n.T(lang, "time.days_ago", int(d.Round(24*time.Hour)/(24*time.Hour)))
	}
}

// durText writes a duration for people: "2h 5m", "2小时5分钟".
func durText(lang string, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return i18n.T(lang, "dur.s", int(d/time.Second))
	case d < time.Hour:
		return i18n.T(lang, "dur.m", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return i18n.T(lang, "dur.h", h)
		}
		return i18n.T(lang, "dur.hm", h, m)
	default:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return i18n.T(lang, "dur.d", days)
		}
		return i18n.T(lang, "dur.dh", days, h)
	}
}

// levelView is a level as a badge: P0 red … P3 grey, by its place in the plan.
type levelView struct {
	ID, Name, Class string
}

func levelOf(cur *plan.Current, lang, id string) levelView {
	l, ok := cur.Level(id)
	if !ok {
		return levelView{ID: id, Name: id, Class: "lv-x"}
	}
	pos := min(l.Position, 3)
	return levelView{ID: id, Name: l.Name.In(lang), Class: "lv-" + string(rune('0'+pos))}
}

func levelsOf(cur *plan.Current, lang string) []levelView {
	out := make([]levelView, len(cur.Levels))
	for i, l := range cur.Levels {
		out[i] = levelOf(cur, lang, l.ID)
	}
	return out
}

// entryView is one timeline row: the kind as a sentence in the reader's language.
type entryView struct {
	ID       int64
	At       time.Time
	Kind     string
	Actor    string
	Sentence string
	Body     string
}

func entryOf(lang string, e incident.Entry) entryView {
	var d struct {
		From, To, Level, Severity, Type string
		// Paging entries.
		Key, User, Channel, Method, Outcome, Error, Policy string
		RetryAt                                            time.Time `json:"retry_at"`
		FallbackTo                                         string    `json:"fallback_to"`
		Attempt, Bundled                                   int
		Users, Channels, Problems                          []string
	}
	_ = json.Unmarshal(e.Data, &d)
	v := entryView{ID: e.ID, At: e.At, Kind: e.Kind, Actor: e.Actor, Body: e.Body}
	switch e.Kind {
	case incident.KindOpened:
		v.Sentence = i18n.T(lang, "entry.opened", d.Level)
		v.Actor = label(lang, "source.", e.Actor)
		v.Body = "" // the alert's summary: the title, and the next row again
	case incident.KindDeclared:
		v.Sentence = i18n.T(lang, "entry.declared", d.Level)
		v.Body = "" // the title, shown in the header already
	case incident.KindAlertAttached:
		v.Sentence = i18n.T(lang, "entry.alert_attached", label(lang, "severity.", d.Severity))
		v.Actor = label(lang, "source.", e.Actor)
	case incident.KindAlertAcknowledged:
		v.Sentence = i18n.T(lang, "entry.alert_acknowledged")
		v.Actor = label(lang, "source.", e.Actor)
	case incident.KindAlertResolved:
		v.Sentence = i18n.T(lang, "entry.alert_resolved")
		v.Actor = label(lang, "source.", e.Actor)
	case incident.KindStatusChanged:
		v.Sentence = i18n.T(lang, "entry.status_changed", label(lang, "status.", d.From), label(lang, "status.", d.To))
	case incident.KindLevelChanged:
		v.Sentence = i18n.T(lang, "entry.level_changed", d.From, d.To)
	case incident.KindNote:
		v.Sentence = i18n.T(lang, "entry.note")
	case paging.KindEscalated:
		who := strings.Join(append(d.Users, hashed(d.Channels)...), ", ")
		if who == "" {
			who = i18n.T(lang, "entry.nobody")
		}
		if strings.HasPrefix(d.Key, "m") {
			v.Sentence = i18n.T(lang, "entry.reassigned", who)
		} else {
			v.Sentence = i18n.T(lang, "entry.escalated", stepLabel(lang, d.Key), who)
		}
	case paging.KindNotification:
		who := d.User
		if who == "" {
			who = "#" + d.Channel
		}
		switch d.Outcome {
		case "sent":
			v.Sentence = i18n.T(lang, "entry.notify_sent", who, d.Method)
			if d.Bundled > 1 {
				v.Sentence += " " + i18n.T(lang, "entry.notify_bundled", d.Bundled)
			}
		case "retry":
			v.Sentence = i18n.T(lang, "entry.notify_retry", who, d.Method, d.Attempt, absTime(d.RetryAt))
		case "failed":
			v.Sentence = i18n.T(lang, "entry.notify_failed", who, d.Method)
			if d.FallbackTo != "" {
				v.Sentence += " " + i18n.T(lang, "entry.notify_fallback", d.FallbackTo)
			} else if d.User != "" {
				v.Sentence += " " + i18n.T(lang, "entry.notify_no_fallback")
			}
		case "cancelled":
			v.Sentence = i18n.T(lang, "entry.notify_cancelled", who, d.Method)
		case "throttled":
			v.Sentence = i18n.T(lang, "entry.notify_throttled", who, d.Method, absTime(d.RetryAt))
		default:
			v.Sentence = i18n.T(lang, "entry.other", e.Kind)
		}
	case paging.KindPolicy:
		v.Sentence = i18n.T(lang, "entry.policy_changed", d.Policy, d.Level)
	case paging.KindEscalateNow:
		v.Sentence = i18n.T(lang, "entry.escalate_now")
	case incident.KindAckExpired:
		v.Sentence = i18n.T(lang, "entry.ack_expired")
	default:
		v.Sentence = i18n.T(lang, "entry.other", e.Kind)
	}
	if v.Actor == "" {
		v.Actor = i18n.T(lang, "entry.system")
	}
	return v
}

// hashed prefixes channel slugs with #.
func hashed(slugs []string) []string {
	out := make([]string, len(slugs))
	for i, s := range slugs {
		out[i] = "#" + s
	}
	return out
}

func entriesOf(lang string, es []incident.Entry) []entryView {
	out := make([]entryView, len(es))
	for i, e := range es {
		out[i] = entryOf(lang, e)
	}
	return out
}

// targetView is one response target of the incident's level and how it stands.
type targetView struct {
	Label  string
	Target time.Duration
	State  string // met, missed, pending, overdue, none
	Text   string
	Due    time.Time
}

// targetOf judges a target of d from start, done when done is set.
func targetOf(lang, labelKey string, start, done, now time.Time, d time.Duration, open bool) targetView {
	t := targetView{Label: i18n.T(lang, labelKey), Target: d}
	if d <= 0 {
		t.State, t.Text = "none", i18n.T(lang, "target.none")
		return t
	}
	t.Due = start.Add(d)
	switch {
	case !done.IsZero() && !done.After(t.Due):
		t.State, t.Text = "met", i18n.T(lang, "target.met", durText(lang, done.Sub(start)))
	case !done.IsZero():
		t.State, t.Text = "missed", i18n.T(lang, "target.missed", durText(lang, done.Sub(t.Due)))
	case !open:
		t.State, t.Text = "none", i18n.T(lang, "target.stopped")
	case now.After(t.Due):
		t.State, t.Text = "overdue", i18n.T(lang, "target.overdue", durText(lang, now.Sub(t.Due)))
	default:
		t.State, t.Text = "pending", i18n.T(lang, "target.remaining", durText(lang, t.Due.Sub(now)))
	}
	return t
}

// statusActions are the lifecycle buttons, in lifecycle order.
var statusActions = []incident.Status{incident.Acknowledged, incident.Investigating, incident.Identified,
	incident.Monitoring, incident.Resolved, incident.Closed}

// canMoveTo says whether to offer a status button: what CheckTransition allows,
// except going back to acknowledged once past it.
func canMoveTo(from, to incident.Status) bool {
	if incident.CheckTransition(from, to) != nil {
		return false
	}
	return to != incident.Acknowledged || from == incident.Triggered
}

type actionView struct {
	Status  incident.Status
	Label   string
	Class   string
	Allowed bool
}

func actionsFor(lang string, from incident.Status) []actionView {
	out := make([]actionView, len(statusActions))
	for i, to := range statusActions {
		cls := ""
		switch to {
		case incident.Acknowledged:
			cls = "primary"
		case incident.Resolved:
			cls = "ok"
		}
		out[i] = actionView{Status: to, Label: i18n.T(lang, "action."+string(to)), Class: cls, Allowed: canMoveTo(from, to)}
	}
	return out
}
