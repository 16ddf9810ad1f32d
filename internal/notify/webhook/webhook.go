package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

// Header names used by the signing scheme.
const (
	HeaderTimestamp   = "X-Firebreak-Timestamp"
	HeaderSignature   = "X-Firebreak-Signature"
	HeaderIdempotency = "Idempotency-Key"

	// Event is the value of the payload's "event" field.
	Event = "incident.notification"
)

// Payload is the JSON body of every webhook request.
type Payload struct {
	Event   string         `json:"event"`
	SentAt  string         `json:"sent_at"` // RFC 3339, UTC
	Message notify.Message `json:"message"`
}

// Config configures a webhook channel.
type Config struct {
	// URL receives the POSTs; http or https.
	URL string
	// Secret keys the HMAC-SHA256 signature; at least 16 bytes.
	Secret string
	// Header holds extra headers sent with every request (e.g. an
	// Authorization header the receiver expects). Optional.
	Header http.Header
	// Client is the HTTP client; nil means notify.DefaultClient.
	Client *http.Client
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// MinSecretLen is the shortest secret New accepts.
const MinSecretLen = 16

// Channel posts signed JSON to one URL.
type Channel struct {
	url    string
	secret []byte
	header http.Header
	client *http.Client
	now    func() time.Time
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and returns a channel.
func New(cfg Config) (*Channel, error) {
	if err := notify.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("webhook: url: %w", err)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: secret: must be at least %d bytes", MinSecretLen)
	}
	for k := range cfg.Header {
		switch http.CanonicalHeaderKey(k) {
		case HeaderTimestamp, HeaderSignature, HeaderIdempotency, "Content-Type", "Content-Length", "Host":
			return nil, fmt.Errorf("webhook: header: %q is set by firebreak", k)
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Channel{url: cfg.URL, secret: []byte(cfg.Secret), header: cfg.Header.Clone(), client: cfg.Client, now: now}, nil
}

// Kind returns "webhook".
func (c *Channel) Kind() string { return "webhook" }

// Send posts m, signed.
func (c *Channel) Send(ctx context.Context, m notify.Message) (retry bool, err error) {
	now := c.now()
	body, err := json.Marshal(Payload{Event: Event, SentAt: now.UTC().Format(time.RFC3339), Message: m})
	if err != nil {
		return false, fmt.Errorf("webhook: encode: %w", err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, "sha256="+sign(c.secret, ts, body))
	if m.IdempotencyKey != "" {
		h.Set(HeaderIdempotency, m.IdempotencyKey)
	}
	_, retry, err = notify.Post(ctx, c.client, c.url, "application/json", body, h)
	if err != nil {
		return retry, fmt.Errorf("webhook: %w", err)
	}
	return false, nil
}

func sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Errors returned by Verify.
var (
	ErrNoTimestamp  = errors.New("webhook: missing or malformed " + HeaderTimestamp)
	ErrNoSignature  = errors.New("webhook: missing " + HeaderSignature)
	ErrBadSignature = errors.New("webhook: signature mismatch")
	ErrStale        = errors.New("webhook: timestamp outside tolerance")
)

// Verify checks a received request: the signature in header must be the
// HMAC-SHA256 under secret of the timestamp header, ".", and body (the raw
// bytes as received), and the timestamp must be within tolerance of now in
// either direction, so old requests cannot be replayed. tolerance <= 0 means
// five minutes. The signature header may list several comma-separated
// "sha256=" values (e.g. during secret rotation); one match suffices.
//
// Verify does not remember requests; receivers wanting exactly-once handling
// should also deduplicate on the Idempotency-Key header.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return errors.New("webhook: empty secret")
	}
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	ts := header.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts == "" || ts[0] == '+' || ts[0] == '-' {
		return ErrNoTimestamp
	}
	sigs := header.Values(HeaderSignature)
	if len(sigs) == 0 {
		return ErrNoSignature
	}
	want := []byte(sign([]byte(secret), ts, body))
	ok := false
	for _, v := range sigs {
		for _, s := range strings.Split(v, ",") {
			hexSig, found := strings.CutPrefix(strings.TrimSpace(s), "sha256=")
			if found && hmac.Equal([]byte(hexSig), want) {
				ok = true
			}
		}
	}
	if !ok {
		return ErrBadSignature
	}
	// Checked after the signature so an attacker learns nothing from timing.
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
