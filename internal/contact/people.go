package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/notify/sms"
)

// ChatIDs are a person's user ids on chat platforms, used to @-mention them
// in group messages.
type ChatIDs struct {
	DingTalk string `json:"dingtalk,omitempty"`
	Feishu   string `json:"feishu,omitempty"`
	WeCom    string `json:"wecom,omitempty"`
	Slack    string `json:"slack,omitempty"`
}

// MaxChatID is the longest chat id accepted, in bytes.
const MaxChatID = 128

func (c *ChatIDs) check() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"dingtalk", &c.DingTalk}, {"feishu", &c.Feishu}, {"wecom", &c.WeCom}, {"slack", &c.Slack}} {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > MaxChatID || !utf8.ValidString(*f.v) || strings.ContainsFunc(*f.v, unicode.IsControl) {
			return &FieldError{"chat_ids." + f.name, fmt.Sprintf("must be one line of at most %d bytes", MaxChatID)}
		}
	}
	return nil
}

// SetPhone sets a person's phone number, normalised to E.164; "" clears it.
func (s *Store) SetPhone(ctx context.Context, userID int64, phone string) error {
	if strings.TrimSpace(phone) != "" {
		n, err := sms.NormalizePhone(phone)
		if err != nil {
			return &FieldError{"phone", err.Error()}
		}
		phone = n
	} else {
		phone = ""
	}
	return s.setUser(ctx, userID, "phone", phone)
}

// Phone returns a person's phone number ("" when none is set), read through q
// (nil: the store's database).
func (s *Store) Phone(ctx context.Context, q Querier, userID int64) (string, error) {
	var phone string
	err := s.q(q).QueryRowContext(ctx, `SELECT phone FROM users WHERE id=$1`, userID).Scan(&phone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("load phone: %w", err)
	}
	return phone, nil
}

// SetChatIDs replaces a person's chat ids.
func (s *Store) SetChatIDs(ctx context.Context, userID int64, ids ChatIDs) error {
	if err := ids.check(); err != nil {
		return err
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("encode chat ids: %w", err)
	}
	return s.setUser(ctx, userID, "chat_ids", string(b))
}

// ChatIDs returns a person's chat ids, read through q (nil: the store's
// database).
func (s *Store) ChatIDs(ctx context.Context, q Querier, userID int64) (ChatIDs, error) {
	var raw string
	err := s.q(q).QueryRowContext(ctx, `SELECT chat_ids FROM users WHERE id=$1`, userID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return ChatIDs{}, ErrNotFound
	}
	if err != nil {
		return ChatIDs{}, fmt.Errorf("load chat ids: %w", err)
	}
	var ids ChatIDs
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return ChatIDs{}, fmt.Errorf("decode chat ids of user %d: %w", userID, err)
		}
	}
	return ids, nil
}

func (s *Store) setUser(ctx context.Context, userID int64, col string, v any) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE users SET `+col+`=$1 WHERE id=$2`, v, userID)
	if err != nil {
		return fmt.Errorf("set %s: %w", col, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
