package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestServices(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := &service.Store{DB: db}
		var fe *service.FieldError
		if _, err := s.Create(ctx, service.Input{Name: "  "}); !errors.As(err, &fe) || fe.Field != "name" {
			t.Fatalf("empty name: %v", err)
		}
		off := false
		sv, err := s.Create(ctx, service.Input{Name: "checkout", Description: "shop", AutoResolve: &off})
		if err != nil {
			t.Fatal(err)
		}
		if sv.AutoResolve || len(sv.Keys) != 1 || len(sv.Keys[0].Key) != 32 {
			t.Fatalf("created %+v", sv)
		}
		if _, err := s.Create(ctx, service.Input{Name: "checkout"}); !errors.As(err, &fe) || fe.Field != "name" {
			t.Fatalf("duplicate: %v", err)
		}
		k2, err := s.AddKey(ctx, sv.ID, "grafana")
		if err != nil {
			t.Fatal(err)
		}
		if id, err := s.ByKey(ctx, k2.Key); err != nil || id != sv.ID {
			t.Fatalf("by key: %d %v", id, err)
		}
		if err := s.DeleteKey(ctx, sv.ID, k2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ByKey(ctx, k2.Key); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("deleted key still routes: %v", err)
		}
		if err := s.DeleteKey(ctx, sv.ID, k2.ID); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.AddKey(ctx, 999, "x"); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("key on missing service: %v", err)
		}
		on := true
		up, err := s.Update(ctx, sv.ID, service.Input{Name: "checkout-v2", AutoResolve: &on})
		if err != nil || up.Name != "checkout-v2" || !up.AutoResolve || len(up.Keys) != 1 {
			t.Fatalf("update: %v %+v", err, up)
		}
		if _, err := s.Create(ctx, service.Input{Name: "api"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.List(ctx)
		if err != nil || len(all) != 2 || all[0].Name != "api" {
			t.Fatalf("list: %v %+v", err, all)
		}
		if _, err := s.Get(ctx, 999); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if _, err := s.Update(ctx, 999, service.Input{Name: "ghost"}); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})
}

func TestServiceEscalationPolicy(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := &service.Store{DB: db}
		var pid int64
		err := db.W.QueryRowContext(ctx, `INSERT INTO escalation_policies (slug, name, created_at, updated_at) VALUES ('night', 'Night', 1, 1) RETURNING id`).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		id := func(v int64) *int64 { return &v }
		var fe *service.FieldError
		if _, err := s.Create(ctx, service.Input{Name: "db", EscalationPolicyID: id(pid + 100)}); !errors.As(err, &fe) || fe.Field != "escalation_policy_id" {
			t.Fatalf("unknown policy: %v", err)
		}
		if _, err := s.Create(ctx, service.Input{Name: "db", EscalationPolicyID: id(-1)}); !errors.As(err, &fe) || fe.Field != "escalation_policy_id" {
			t.Fatalf("negative policy: %v", err)
		}
		sv, err := s.Create(ctx, service.Input{Name: "db", EscalationPolicyID: id(pid)})
		if err != nil || sv.EscalationPolicyID != pid {
			t.Fatalf("create with policy: %v %+v", err, sv)
		}
		// Absent keeps it; 0 clears it; a bad id changes nothing.
		if sv, err = s.Update(ctx, sv.ID, service.Input{Name: "db2"}); err != nil || sv.EscalationPolicyID != pid || sv.Name != "db2" {
			t.Fatalf("update keeping the policy: %v %+v", err, sv)
		}
		if _, err := s.Update(ctx, sv.ID, service.Input{Name: "db3", EscalationPolicyID: id(pid + 100)}); !errors.As(err, &fe) || fe.Field != "escalation_policy_id" {
			t.Fatalf("update to an unknown policy: %v", err)
		}
		if got, _ := s.Get(ctx, sv.ID); got.Name != "db2" || got.EscalationPolicyID != pid {
			t.Fatalf("a refused update changed the service: %+v", got)
		}
		if sv, err = s.Update(ctx, sv.ID, service.Input{Name: "db2", EscalationPolicyID: id(0)}); err != nil || sv.EscalationPolicyID != 0 {
			t.Fatalf("clear the policy: %v %+v", err, sv)
		}
		if sv, err = s.Update(ctx, sv.ID, service.Input{Name: "db2", EscalationPolicyID: id(pid)}); err != nil || sv.EscalationPolicyID != pid {
			t.Fatalf("set the policy: %v %+v", err, sv)
		}
		// Deleting the policy falls back to the plan's.
		if _, err := db.W.ExecContext(ctx, `DELETE FROM escalation_policies WHERE id=$1`, pid); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, sv.ID); err != nil || got.EscalationPolicyID != 0 {
			t.Fatalf("after deleting the policy: %v %+v", err, got)
		}
	})
}
