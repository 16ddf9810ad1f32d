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
	})
}
