// Package service keeps the services alerts are about and the integration keys
// senders use to reach them.
package service

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/store"
)

// ErrNotFound is returned for an unknown service or key.
var ErrNotFound = errors.New("service not found")

// FieldError names bad input.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Service is something alerts are about, such as "checkout" or "payments-db".
type Service struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	AutoResolve bool   `json:"auto_resolve"`
	// EscalationPolicyID is the escalation policy paging for the service's
	// incidents; 0 means the plan's policy for the incident's level.
	EscalationPolicyID int64            `json:"escalation_policy_id,omitempty"`
	CreatedAt          time.Time        `json:"created_at"`
	Keys               []IntegrationKey `json:"integration_keys"`
}

// IntegrationKey routes an inbound signal to its service. It appears in webhook
// URLs and as the PagerDuty routing key.
type IntegrationKey struct {
	ID        int64     `json:"id"`
	ServiceID int64     `json:"service_id"`
	Name      string    `json:"name"`
	Key       string    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
}

// Store reads and changes services.
type Store struct {
	DB  *store.DB
	Now func() time.Time

	// keys caches integration key → service for the ingest path. Entries live
	// keyTTL, so a key revoked on another replica stops working within it; a key
	// revoked here stops at once.
	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	serviceID int64
	until     time.Time
}

const keyTTL = 10 * time.Second

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewKey returns a fresh 32-hex-character key, the length PagerDuty uses.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Input is what a person sets on a service.
type Input struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	AutoResolve *bool  `json:"auto_resolve"`
	// EscalationPolicyID chooses the service's escalation policy: 0 means the
	// plan's policy for the incident's level; nil means none on create and
	// "keep" on update.
	EscalationPolicyID *int64 `json:"escalation_policy_id"`
}

func (in *Input) check() error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	switch {
	case in.Name == "":
		return &FieldError{"name", "is required"}
	case len(in.Name) > 200 || !utf8.ValidString(in.Name):
		return &FieldError{"name", "must be valid UTF-8 of at most 200 bytes"}
	case len(in.Description) > 2000 || !utf8.ValidString(in.Description):
		return &FieldError{"description", "must be valid UTF-8 of at most 2000 bytes"}
	case in.EscalationPolicyID != nil && *in.EscalationPolicyID < 0:
		return &FieldError{"escalation_policy_id", "must be a policy id, or 0 for the plan's policy of the incident's level"}
	}
	return nil
}

// policyRef returns the escalation_policy_id column's value for id (NULL for
// 0), checking inside q that the policy exists.
func policyRef(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, id int64) (any, error) {
	if id == 0 {
		return nil, nil
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM escalation_policies WHERE id=$1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &FieldError{"escalation_policy_id", fmt.Sprintf("no escalation policy with id %d", id)}
	}
	if err != nil {
		return nil, fmt.Errorf("look up escalation policy: %w", err)
	}
	return id, nil
}

// Create adds a service with one integration key.
func (s *Store) Create(ctx context.Context, in Input) (Service, error) {
	if err := in.check(); err != nil {
		return Service{}, err
	}
	auto := in.AutoResolve == nil || *in.AutoResolve
	now := s.now()
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var pid int64
		if in.EscalationPolicyID != nil {
			pid = *in.EscalationPolicyID
		}
		policy, err := policyRef(ctx, tx, pid)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO services (name, description, auto_resolve, escalation_policy_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			in.Name, in.Description, auto, policy, now.UnixMilli()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return &FieldError{"name", "a service with this name exists"}
		}
		if err != nil {
			return fmt.Errorf("insert service: %w", err)
		}
		_, err = insertKey(ctx, tx, id, "default", now)
		return err
	})
	if err != nil {
		return Service{}, err
	}
	return s.Get(ctx, id)
}

// Update changes a service's name, description, auto-resolve and escalation
// policy (the last two kept when nil).
func (s *Store) Update(ctx context.Context, id int64, in Input) (Service, error) {
	if err := in.check(); err != nil {
		return Service{}, err
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var auto bool
		var pid sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT auto_resolve, escalation_policy_id FROM services WHERE id=$1`, id).Scan(&auto, &pid)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read service: %w", err)
		}
		if in.AutoResolve != nil {
			auto = *in.AutoResolve
		}
		var policy any
		if pid.Valid {
			policy = pid.Int64
		}
		if in.EscalationPolicyID != nil {
			if policy, err = policyRef(ctx, tx, *in.EscalationPolicyID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE services SET name=$1, description=$2, auto_resolve=$3, escalation_policy_id=$4 WHERE id=$5`,
			in.Name, in.Description, auto, policy, id)
		if store.IsUniqueViolation(err) {
			return &FieldError{"name", "a service with this name exists"}
		}
		if err != nil {
			return fmt.Errorf("update service: %w", err)
		}
		return nil
	})
	if err != nil {
		return Service{}, err
	}
	return s.Get(ctx, id)
}

func insertKey(ctx context.Context, tx *sql.Tx, serviceID int64, name string, now time.Time) (IntegrationKey, error) {
	k := IntegrationKey{ServiceID: serviceID, Name: name, Key: NewKey(), CreatedAt: now}
	err := tx.QueryRowContext(ctx, `INSERT INTO integration_keys (service_id, name, key, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		serviceID, name, k.Key, now.UnixMilli()).Scan(&k.ID)
	if err != nil {
		return k, fmt.Errorf("insert integration key: %w", err)
	}
	return k, nil
}

// AddKey adds an integration key to a service.
func (s *Store) AddKey(ctx context.Context, serviceID int64, name string) (IntegrationKey, error) {
	name = strings.TrimSpace(name)
	if len(name) > 200 || !utf8.ValidString(name) {
		return IntegrationKey{}, &FieldError{"name", "must be valid UTF-8 of at most 200 bytes"}
	}
	var k IntegrationKey
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM services WHERE id=$1`, serviceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		var err error
		k, err = insertKey(ctx, tx, serviceID, name, s.now())
		return err
	})
	return k, err
}

// DeleteKey revokes an integration key; senders using it get "unknown key".
func (s *Store) DeleteKey(ctx context.Context, serviceID, keyID int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM integration_keys WHERE id=$1 AND service_id=$2`, keyID, serviceID)
	s.mu.Lock()
	s.keys = nil // forget every cached key: the deleted one must stop working now
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("delete key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Get reads a service with its keys.
func (s *Store) Get(ctx context.Context, id int64) (Service, error) {
	all, err := s.list(ctx, id)
	if err != nil {
		return Service{}, err
	}
	if len(all) == 0 {
		return Service{}, ErrNotFound
	}
	return all[0], nil
}

// List returns every service with its keys, by name.
func (s *Store) List(ctx context.Context) ([]Service, error) { return s.list(ctx, 0) }

func (s *Store) list(ctx context.Context, id int64) ([]Service, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT s.id, s.name, s.description, s.auto_resolve, COALESCE(s.escalation_policy_id, 0), s.created_at,
		COALESCE(k.id, 0), COALESCE(k.name, ''), COALESCE(k.key, ''), COALESCE(k.created_at, 0)
		FROM services s LEFT JOIN integration_keys k ON k.service_id = s.id
		WHERE ($1 = 0 OR s.id = $1) ORDER BY s.name, s.id, k.id`, id)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	var out []Service
	for rows.Next() {
		var sv Service
		var k IntegrationKey
		var created, kcreated int64
		if err := rows.Scan(&sv.ID, &sv.Name, &sv.Description, &sv.AutoResolve, &sv.EscalationPolicyID, &created, &k.ID, &k.Name, &k.Key, &kcreated); err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != sv.ID {
			sv.CreatedAt = time.UnixMilli(created).UTC()
			sv.Keys = []IntegrationKey{}
			out = append(out, sv)
		}
		if k.ID != 0 {
			k.ServiceID, k.CreatedAt = sv.ID, time.UnixMilli(kcreated).UTC()
			last := &out[len(out)-1]
			last.Keys = append(last.Keys, k)
		}
	}
	return out, rows.Err()
}

// ByKey returns the service an integration key routes to.
func (s *Store) ByKey(ctx context.Context, key string) (int64, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.keys[key]
	s.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.serviceID, nil
	}
	id, err := s.lookupKey(ctx, key)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.keys == nil || len(s.keys) > 10000 {
		s.keys = map[string]cachedKey{}
	}
	s.keys[key] = cachedKey{id, now.Add(keyTTL)}
	s.mu.Unlock()
	return id, nil
}

func (s *Store) lookupKey(ctx context.Context, key string) (int64, error) {
	var id int64
	err := s.DB.R.QueryRowContext(ctx, `SELECT service_id FROM integration_keys WHERE key=$1`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("look up integration key: %w", err)
	}
	return id, nil
}
