package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// sessionTokenLen is the length of 32 random bytes in unpadded base64url.
const sessionTokenLen = 43

// hashToken is what the database keeps instead of a secret.
func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for the user lasting ttl and returns its secret
// token, to be sent as the SessionCookie. Only its SHA-256 is stored.
func (s *Store) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		return "", time.Time{}, errors.New("create session: ttl must be positive")
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	expires := time.UnixMilli(ms(now.Add(ttl)))
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
			hashToken(token), userID, ms(now), ms(expires))
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return token, expires, nil
}

func userExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = $1", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// SessionUser returns the user of a live session; unknown or expired sessions
// and disabled users give ErrUnauthenticated.
func (s *Store) SessionUser(ctx context.Context, token string) (User, error) {
	if len(token) != sessionTokenLen {
		return User{}, ErrUnauthenticated
	}
	var expires int64
	u, err := scanUser(s.DB.R.QueryRowContext(ctx,
		"SELECT "+userCols+", s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
		hashToken(token)), &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("look up session: %w", err)
	}
	if expires <= ms(s.now()) || u.Disabled {
		return User{}, ErrUnauthenticated
	}
	return u, nil
}

// DeleteSession ends a session (signing out); an unknown token is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.DB.W.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = $1", hashToken(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions signs a user out everywhere.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.DB.W.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", userID); err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	if _, err := s.DB.W.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= $1", ms(s.now())); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
