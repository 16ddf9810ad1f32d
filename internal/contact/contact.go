// Package contact keeps how people and shared chat channels are reached: a
// person's contact methods and their verification, the person's notification
// rules ("page me by this method this long after I am paged, for these
// levels"), shared channels escalation steps can page, a person's phone number
// and chat ids, and the construction of a ready notify.Channel for any of them.
package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/notify"
	"github.com/firebreak/firebreak/internal/notify/sms"
	"github.com/firebreak/firebreak/internal/notify/webhook"
	"github.com/firebreak/firebreak/internal/store"
)

// Delivery kinds.
const (
	KindEmail    = "email"
	KindWebhook  = "webhook"
	KindSlack    = "slack"
	KindTeams    = "teams"
	KindDingTalk = "dingtalk"
	KindFeishu   = "feishu"
	KindWeCom    = "wecom"
	KindSMS      = "sms"
	KindVoice    = "voice"
)

// SourcePlan marks methods and channels created from the emergency plan.
const SourcePlan = "plan"

var kinds = []string{KindEmail, KindWebhook, KindSlack, KindTeams, KindDingTalk, KindFeishu, KindWeCom, KindSMS, KindVoice}

// Kinds returns every delivery kind a contact method may have.
func Kinds() []string { return slices.Clone(kinds) }

// ChannelKinds returns the kinds a shared channel may have: every kind but
// sms and voice.
func ChannelKinds() []string {
	return slices.DeleteFunc(Kinds(), func(k string) bool { return k == KindSMS || k == KindVoice })
}

// Limits on input.
const (
	MaxName           = 100 // characters
	MaxAddress        = 2000
	MaxSecret         = 1000
	MaxThrottleCount  = 10000
	MaxThrottleWindow = 24 * time.Hour
	MaxDelay          = 24 * time.Hour
)

var (
	// ErrNotFound is returned for an unknown contact method, rule, channel or user.
	ErrNotFound = errors.New("not found")
)

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Querier runs queries: a *sql.DB or a *sql.Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// Store reads and changes contact methods, notification rules, channels and
// people's phone numbers and chat ids.
type Store struct {
	DB  *store.DB
	Now func() time.Time // nil means time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// q returns q, or the store's reader when q is nil.
func (s *Store) q(q Querier) Querier {
	if q == nil {
		return s.DB.R
	}
	return q
}

// fromMs converts stored unix milliseconds back; 0 (never) becomes the zero time.
func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// CheckAddress validates and normalises the address and secret of a delivery
// kind, as a contact method has them; it returns the address to store. Errors
// are *FieldError naming "kind", "address" or "secret".
func CheckAddress(kind, address, secret string) (string, error) {
	return checkAddress(kind, address, secret, false)
}

// CheckChannelAddress is CheckAddress for a shared channel, which cannot be
// sms or voice.
func CheckChannelAddress(kind, address, secret string) (string, error) {
	return checkAddress(kind, address, secret, true)
}

func checkAddress(kind, address, secret string, channel bool) (string, error) {
	allowed := kinds
	if channel {
		allowed = ChannelKinds()
	}
	if !slices.Contains(allowed, kind) {
		if channel && (kind == KindSMS || kind == KindVoice) {
			return "", &FieldError{"kind", kind + " is for a person's contact methods, not a shared channel"}
		}
		return "", &FieldError{"kind", "must be one of " + strings.Join(allowed, ", ")}
	}
	address = strings.TrimSpace(address)
	switch {
	case address == "":
		return "", &FieldError{"address", "is required"}
	case len(address) > MaxAddress || !utf8.ValidString(address):
		return "", &FieldError{"address", fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxAddress)}
	case len(secret) > MaxSecret || !utf8.ValidString(secret):
		return "", &FieldError{"secret", fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxSecret)}
	}
	noSecret := func() error {
		if secret != "" {
			return &FieldError{"secret", "is not used by " + kind + "; leave it empty"}
		}
		return nil
	}
	checkURL := func() error {
		if err := notify.CheckURL(address); err != nil {
			return &FieldError{"address", err.Error()}
		}
		return nil
	}
	switch kind {
	case KindEmail:
		a, err := mail.ParseAddress(address)
		if err != nil {
			if strings.ContainsAny(address, ",;") {
				return "", &FieldError{"address", "must be a single mail address"}
			}
			return "", &FieldError{"address", "is not a valid mail address"}
		}
		if len(a.Address) > 254 {
			return "", &FieldError{"address", "is longer than 254 bytes"}
		}
		return a.Address, noSecret()
	case KindWebhook:
		if err := checkURL(); err != nil {
			return "", err
		}
		if len(secret) < webhook.MinSecretLen {
			return "", &FieldError{"secret", fmt.Sprintf("must be at least %d bytes", webhook.MinSecretLen)}
		}
		return address, nil
	case KindSlack, KindTeams:
		if err := checkURL(); err != nil {
			return "", err
		}
		return address, noSecret()
	case KindDingTalk:
		if err := checkURL(); err != nil {
			return "", err
		}
		if secret != "" && !strings.HasPrefix(secret, "SEC") {
			return "", &FieldError{"secret", `a DingTalk signing secret starts with "SEC"`}
		}
		return address, nil
	case KindFeishu:
		return address, checkURL()
	case KindWeCom:
		if err := checkURL(); err != nil {
			return "", err
		}
		if u, _ := url.Parse(address); u.Query().Get("key") == "" {
			return "", &FieldError{"address", "must be the robot's webhook URL, with its key=…"}
		}
		return address, noSecret()
	default: // sms, voice
		n, err := sms.NormalizePhone(address)
		if err != nil {
			return "", &FieldError{"address", err.Error()}
		}
		return n, noSecret()
	}
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName || strings.ContainsAny(name, "\r\n") {
		return "", &FieldError{"name", fmt.Sprintf("must be one line of at most %d characters", MaxName)}
	}
	return name, nil
}

// Method is one way to reach a person.
type Method struct {
	ID      int64  `json:"id"`
	UserID  int64  `json:"user_id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Address string `json:"address"`
	// Secret signs requests (webhook, DingTalk, Feishu); never shown.
	Secret    string `json:"-"`
	HasSecret bool   `json:"has_secret"`
	// At most ThrottleCount messages per ThrottleWindow (0: no throttle).
	ThrottleCount  int           `json:"throttle_count"`
	ThrottleWindow time.Duration `json:"-"` // throttle_window_seconds in JSON
	Verified       bool          `json:"verified"`
	VerifiedAt     time.Time     `json:"verified_at,omitzero"`
	Disabled       bool          `json:"disabled"`
	Source         string        `json:"source"`
	CreatedAt      time.Time     `json:"created_at"`
}

// MarshalJSON writes ThrottleWindow as throttle_window_seconds.
func (m Method) MarshalJSON() ([]byte, error) {
	type plain Method
	return json.Marshal(struct {
		plain
		ThrottleWindow int64 `json:"throttle_window_seconds"`
	}{plain(m), secs(m.ThrottleWindow)})
}

// MethodInput is what is set on a contact method.
type MethodInput struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Address string `json:"address"`
	// Secret: on Update, empty keeps the current secret when the kind stays
	// the same (the secret is never shown back); ClearSecret removes it.
	Secret         string        `json:"secret"`
	ClearSecret    bool          `json:"clear_secret"`
	ThrottleCount  int           `json:"throttle_count"`
	ThrottleWindow time.Duration `json:"-"` // throttle_window_seconds in JSON

	// Source and Verified are for trusted callers only (the plan): a method
	// with source "plan" or Verified set is stored verified. They are never
	// read from JSON.
	Source   string `json:"-"`
	Verified bool   `json:"-"`
}

// UnmarshalJSON reads throttle_window_seconds into ThrottleWindow.
func (in *MethodInput) UnmarshalJSON(b []byte) error {
	type plain MethodInput
	var v struct {
		plain
		ThrottleWindow int64 `json:"throttle_window_seconds"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ThrottleWindow < 0 || v.ThrottleWindow > secs(MaxThrottleWindow) {
		return &FieldError{"throttle_window_seconds", "must be between 0 and 86400 (24 hours)"}
	}
	*in = MethodInput(v.plain)
	in.Source, in.Verified = "", false
	in.ThrottleWindow = time.Duration(v.ThrottleWindow) * time.Second
	return nil
}

// checkThrottle validates the throttle and returns the window in milliseconds.
func checkThrottle(count int, window time.Duration) (int64, error) {
	switch {
	case count < 0 || count > MaxThrottleCount:
		return 0, &FieldError{"throttle_count", fmt.Sprintf("must be between 0 and %d", MaxThrottleCount)}
	case window < 0 || window > MaxThrottleWindow:
		return 0, &FieldError{"throttle_window_seconds", "must be between 0 and 86400 (24 hours)"}
	}
	ms := window.Milliseconds()
	switch {
	case count > 0 && ms == 0:
		return 0, &FieldError{"throttle_window_seconds", "is required when throttle_count is set"}
	case count == 0 && ms > 0:
		return 0, &FieldError{"throttle_count", "is required when throttle_window_seconds is set"}
	}
	return ms, nil
}
