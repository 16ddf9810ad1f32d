package contact

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/notify"
)

// Verification settings.
const (
	CodeTTL     = 15 * time.Minute
	MaxAttempts = 5
)

// Verification errors.
var (
	ErrNoCode          = errors.New("no verification code is pending: request a new code")
	ErrCodeWrong       = errors.New("the verification code is wrong")
	ErrCodeExpired     = errors.New("the verification code has expired: request a new code")
	ErrTooManyAttempts = errors.New("too many wrong verification codes: request a new code")
)

func hashCode(id int64, code string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d:%s", id, code))
	return hex.EncodeToString(sum[:])
}

// StartVerification makes a new 6-digit code for a contact method, replacing
// any pending one, and returns it for the caller to send through the method
// (see VerificationMessage). Only its hash is stored; it expires after CodeTTL.
func (s *Store) StartVerification(ctx context.Context, id int64) (code string, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("verification code: %w", err)
	}
	code = fmt.Sprintf("%06d", n.Int64())
	expires := s.now().Add(CodeTTL).UnixMilli()
	res, err := s.DB.W.ExecContext(ctx, `UPDATE contact_methods SET verify_code_hash=$1, verify_expires_at=$2, verify_attempts=0 WHERE id=$3`,
		hashCode(id, code), expires, id)
	if err != nil {
		return "", fmt.Errorf("start verification: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", ErrNotFound
	}
	return code, nil
}

// Verify checks a code sent by StartVerification. The right code marks the
// method verified and clears the code; a wrong one counts an attempt, and the
// MaxAttempts-th wrong one invalidates the code (ErrTooManyAttempts).
func (s *Store) Verify(ctx context.Context, id int64, code string) error {
	code = strings.TrimSpace(code)
	now := s.now().UnixMilli()
	var result error
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Claim an attempt first: the row lock serialises concurrent guesses.
		var hash string
		var attempts int
		err := tx.QueryRowContext(ctx, `UPDATE contact_methods SET verify_attempts = verify_attempts + 1
			WHERE id=$1 AND verify_code_hash <> '' AND verify_attempts < $2 AND verify_expires_at > $3
			RETURNING verify_code_hash, verify_attempts`, id, MaxAttempts, now).Scan(&hash, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			result, err = whyNoAttempt(ctx, tx, id, now)
			return err
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(hash), []byte(hashCode(id, code))) != 1 {
			result = ErrCodeWrong
			if attempts >= MaxAttempts {
				result = ErrTooManyAttempts
				_, err = tx.ExecContext(ctx, `UPDATE contact_methods SET verify_code_hash='', verify_expires_at=0 WHERE id=$1`, id)
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE contact_methods SET verified_at=$1, verify_code_hash='', verify_expires_at=0, verify_attempts=0
			WHERE id=$2`, now, id)
		return err
	})
	if err != nil {
		return err
	}
	return result
}

// whyNoAttempt explains why a code cannot be tried.
func whyNoAttempt(ctx context.Context, q Querier, id, now int64) (error, error) {
	var hash string
	var expires int64
	var attempts int
	err := q.QueryRowContext(ctx, `SELECT verify_code_hash, verify_expires_at, verify_attempts FROM contact_methods WHERE id=$1`, id).
		Scan(&hash, &expires, &attempts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("verify: %w", err)
	case attempts >= MaxAttempts:
		return ErrTooManyAttempts, nil
	case hash == "":
		return ErrNoCode, nil
	case expires <= now:
		return ErrCodeExpired, nil
	}
	return ErrNoCode, nil
}

// VerificationMessage is the message carrying a verification code, in lang
// ("zh" or English), for the caller to send through the method's channel.
func VerificationMessage(lang, code string) notify.Message {
	mins := int(CodeTTL / time.Minute)
	if lang == "zh" {
		return notify.Message{
			Title: "firebreak 验证码 " + code,
			Body:  fmt.Sprintf("您的 firebreak 验证码是 %s，%d 分钟内有效。如果不是您本人的操作，请忽略本消息。", code, mins),
			Lang:  "zh",
		}
	}
	return notify.Message{
		Title: "firebreak verification code " + code,
		Body:  fmt.Sprintf("Your firebreak verification code is %s. It expires in %d minutes. If you did not ask for it, ignore this message.", code, mins),
		Lang:  "en",
	}
}
