package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenPrefix starts every API token, so leaked tokens are easy to recognise.
const TokenPrefix = "fbt_"

const (
	tokenBodyLen  = 40 // base32 characters of 25 random bytes (200 bits)
	tokenShownLen = 8  // characters after TokenPrefix kept for display
	// lastUsedEvery limits how often a token's last_used_at is written.
	lastUsedEvery = time.Minute
)

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Token describes an API token; the secret itself is shown once, at creation.
type Token struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"` // first characters after TokenPrefix, for recognising it
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // zero: never used
	ExpiresAt  time.Time `json:"expires_at,omitzero"`   // zero: never expires
}

// CreateToken issues an API token acting as the user. ttl 0 means it never
// expires. The plaintext is returned once; only its SHA-256 is stored.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", Token{}, &FieldError{"name", "must be 1 to 100 characters"}
	}
	if ttl < 0 {
		return "", Token{}, &FieldError{"ttl", "must not be negative"}
	}
	b := make([]byte, tokenBodyLen*5/8)
	rand.Read(b)
	body := tokenEncoding.EncodeToString(b)
	now := time.UnixMilli(ms(s.now()))
	t := Token{UserID: userID, Name: name, Prefix: body[:tokenShownLen], CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = time.UnixMilli(ms(now.Add(ttl)))
	}
	plain := TokenPrefix + body
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx,
			`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, last_used_at, expires_at)
			 VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id`,
			userID, name, hashToken(plain), t.Prefix, ms(now), msOrZero(t.ExpiresAt)).Scan(&t.ID)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return plain, t, nil
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// TokenUser returns the user an API token acts as; unknown or expired tokens
// and disabled users give ErrUnauthenticated. It records the use at most once
// a minute per token.
func (s *Store) TokenUser(ctx context.Context, plaintext string) (User, error) {
	if len(plaintext) != len(TokenPrefix)+tokenBodyLen || !strings.HasPrefix(plaintext, TokenPrefix) {
		return User{}, ErrUnauthenticated
	}
	var id, expires, lastUsed int64
	u, err := scanUser(s.DB.R.QueryRowContext(ctx,
		"SELECT "+userCols+", t.id, t.expires_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
		hashToken(plaintext)), &id, &expires, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("look up token: %w", err)
	}
	now := ms(s.now())
	if (expires != 0 && expires <= now) || u.Disabled {
		return User{}, ErrUnauthenticated
	}
	if since := now - lastUsed; since >= lastUsedEvery.Milliseconds() || since < 0 {
		if _, err := s.DB.W.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at = $3",
			now, id, lastUsed); err != nil {
			return User{}, fmt.Errorf("record token use: %w", err)
		}
	}
	return u, nil
}

// ListTokens returns the user's tokens, newest first.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.DB.R.QueryContext(ctx,
		`SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at
		 FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []Token
	for rows.Next() {
		var t Token
		var created, used, expires int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &created, &used, &expires); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMs(created), fromMs(used), fromMs(expires)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken deletes one of the user's tokens; ErrNotFound if the user has no
// such token.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	res, err := s.DB.W.ExecContext(ctx, "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2", tokenID, userID)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}
