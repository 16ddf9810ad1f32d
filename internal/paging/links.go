package paging

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/store"
)

// One-click action links: a token is "v1.<payload>.<mac>", payload being
// base64url("incident|action|user|expiry-unix|nonce") and mac the first 16
// bytes of HMAC-SHA256 over the payload with the instance's link key (kept in
// the settings table, shared by every replica). A token acts once: its nonce
// goes into action_tokens_used in the same transaction as the action.

// Actions a link can take.
const (
	ActionAcknowledge = "acknowledge"
	ActionResolve     = "resolve"
)

// Link errors.
var (
	ErrLinkInvalid = errors.New("this link is not valid")
	ErrLinkExpired = errors.New("this link has expired")
	ErrLinkUsed    = errors.New("this link has already been used")
)

// LinkClaims is what a verified token says.
type LinkClaims struct {
	IncidentID int64
	Action     string
	UserID     int64 // 0 for links sent to shared channels
	Expires    time.Time
	Nonce      string
}

// Signer makes and checks action links.
type Signer struct {
	key []byte
}

// LoadSigner reads the link key, creating it on first use.
func LoadSigner(ctx context.Context, db *store.DB) (*Signer, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if _, err := db.W.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('action_link_key', $1) ON CONFLICT (key) DO NOTHING`, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("create link key: %w", err)
	}
	var v string
	if err := db.W.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'action_link_key'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read link key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, errors.New("settings: action_link_key is damaged")
	}
	return &Signer{key: key}, nil
}

// NewSigner returns a signer with a fixed key (tests).
func NewSigner(key []byte) *Signer { return &Signer{key: key} }

func (s *Signer) mac(payload string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// Token makes a token for one action.
func (s *Signer) Token(incidentID int64, action string, userID int64, expires time.Time) string {
	n := make([]byte, 12)
	_, _ = rand.Read(n)
	raw := fmt.Sprintf("%d|%s|%d|%d|%s", incidentID, action, userID, expires.Unix(), base64.RawURLEncoding.EncodeToString(n))
	payload := base64.RawURLEncoding.EncodeToString([]byte(raw))
	return "v1." + payload + "." + s.mac(payload)
}

// Verify checks a token's signature and expiry (not whether it was used).
func (s *Signer) Verify(token string, now time.Time) (LinkClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return LinkClaims{}, ErrLinkInvalid
	}
	if !hmac.Equal([]byte(s.mac(parts[1])), []byte(parts[2])) {
		return LinkClaims{}, ErrLinkInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return LinkClaims{}, ErrLinkInvalid
	}
	f := strings.Split(string(raw), "|")
	if len(f) != 5 {
		return LinkClaims{}, ErrLinkInvalid
	}
	var c LinkClaims
	var err1, err2, err3 error
	c.IncidentID, err1 = strconv.ParseInt(f[0], 10, 64)
	c.Action = f[1]
	c.UserID, err2 = strconv.ParseInt(f[2], 10, 64)
	exp, err3 := strconv.ParseInt(f[3], 10, 64)
	c.Nonce = f[4]
	if err1 != nil || err2 != nil || err3 != nil || (c.Action != ActionAcknowledge && c.Action != ActionResolve) {
		return LinkClaims{}, ErrLinkInvalid
	}
	c.Expires = time.Unix(exp, 0).UTC()
	if !now.Before(c.Expires) {
		return c, ErrLinkExpired
	}
	return c, nil
}

// UseToken marks a token's nonce used inside tx; ErrLinkUsed if it was.
func UseToken(ctx context.Context, tx *sql.Tx, c LinkClaims, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO action_tokens_used (nonce, used_at) VALUES ($1, $2)`, c.Nonce, now.UnixMilli())
	if store.IsUniqueViolation(err) {
		return ErrLinkUsed
	}
	if err != nil {
		return fmt.Errorf("use link: %w", err)
	}
	return nil
}

// TokenUsed reports whether a token's nonce was used already.
func TokenUsed(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, c LinkClaims) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM action_tokens_used WHERE nonce = $1`, c.Nonce).Scan(&n)
	return n > 0, err
}
