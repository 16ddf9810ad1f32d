package contact

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/firebreak/firebreak/internal/notify"
	"github.com/firebreak/firebreak/internal/notify/dingtalk"
	"github.com/firebreak/firebreak/internal/notify/email"
	"github.com/firebreak/firebreak/internal/notify/feishu"
	"github.com/firebreak/firebreak/internal/notify/slack"
	"github.com/firebreak/firebreak/internal/notify/sms"
	"github.com/firebreak/firebreak/internal/notify/teams"
	"github.com/firebreak/firebreak/internal/notify/webhook"
	"github.com/firebreak/firebreak/internal/notify/wecom"
)

// Deps are the server-wide settings delivery needs.
type Deps struct {
	SMTP   *email.Config // nil: email is not configured
	SMS    *sms.Config   // nil: sms and voice are not configured
	Client *http.Client  // for HTTP channels; nil means notify.DefaultClient
}

// ErrNotConfigured is wrapped by Build's error when the server lacks the
// settings a kind needs (SMTP for email, an SMS account for sms and voice).
var ErrNotConfigured = errors.New("not configured")

type notConfigured struct{ what, settings string }

func (e *notConfigured) Error() string { return e.what + " is not configured: set " + e.settings }
func (e *notConfigured) Unwrap() error { return ErrNotConfigured }

// Build returns a channel delivering to address (with secret) by kind.
func Build(deps Deps, kind, address, secret string) (notify.Channel, error) {
	address, err := CheckAddress(kind, address, secret)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindEmail:
		c := deps.SMTP
		switch {
		case c == nil || strings.TrimSpace(c.Host) == "":
			return nil, &notConfigured{"email", "smtp_host"}
		case strings.TrimSpace(c.From) == "":
			return nil, &notConfigured{"email", "smtp_from"}
		}
		cfg := *c
		cfg.To = []string{address}
		return ready(email.New(cfg))
	case KindWebhook:
		return ready(webhook.New(webhook.Config{URL: address, Secret: secret, Client: deps.Client}))
	case KindSlack:
		return ready(slack.New(slack.Config{WebhookURL: address, Client: deps.Client}))
	case KindTeams:
		return ready(teams.New(teams.Config{WebhookURL: address, Client: deps.Client}))
	case KindDingTalk:
		return ready(dingtalk.New(address, secret, deps.Client))
	case KindFeishu:
		return ready(feishu.New(address, secret, deps.Client))
	case KindWeCom:
		return ready(wecom.New(address, secret, deps.Client))
	case KindSMS, KindVoice:
		what := "sms"
		if kind == KindVoice {
			what = "voice calling"
		}
		c := deps.SMS
		switch {
		case c == nil || strings.TrimSpace(c.AccountSID) == "":
			return nil, &notConfigured{what, "sms_account_sid"}
		case strings.TrimSpace(c.AuthToken) == "":
			return nil, &notConfigured{what, "sms_auth_token"}
		case strings.TrimSpace(c.From) == "":
			return nil, &notConfigured{what, "sms_from"}
		}
		cfg := *c
		if cfg.Client == nil {
			cfg.Client = deps.Client
		}
		p, err := sms.New(cfg)
		if err != nil {
			return nil, err
		}
		if kind == KindVoice {
			return p.Voice(address)
		}
		return p.SMS(address)
	}
	return nil, fmt.Errorf("unknown kind %q", kind) // unreachable: CheckAddress knows every kind
}

// ready turns a constructor's result into a notify.Channel, nil on error (not
// an interface holding a nil pointer).
func ready[T notify.Channel](c T, err error) (notify.Channel, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// BuildMethod returns the channel that reaches a contact method.
func BuildMethod(deps Deps, m Method) (notify.Channel, error) {
	return Build(deps, m.Kind, m.Address, m.Secret)
}

// BuildChan returns the channel that reaches a shared channel.
func BuildChan(deps Deps, c Chan) (notify.Channel, error) {
	return Build(deps, c.Kind, c.Address, c.Secret)
}
