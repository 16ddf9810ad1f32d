package escalation_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestPolicyStore(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.Exec(`INSERT INTO users (username, role, created_at) VALUES ('ann', 'responder', 0), ('ben', 'responder', 0)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`INSERT INTO teams (slug, name, created_at) VALUES ('dba', 'DBA', 0)`); err != nil {
			t.Fatal(err)
		}
		s := &escalation.Store{DB: db}
		var in escalation.Input
		if err := json.Unmarshal([]byte(`{"slug":"db","name":"Database","repeat":2,"ack_timeout":"30m",
			"steps":[{"after":"0s","targets":[{"kind":"user","id":"ann"}]},{"after":"10m","targets":[{"kind":"team","id":"dba"},{"kind":"user","id":"ben"}]}]}`), &in); err != nil {
			t.Fatal(err)
		}
		rec, err := s.Create(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Repeat != 2 || time.Duration(rec.AckTimeout) != 30*time.Minute || len(rec.Steps) != 2 || rec.Steps[1].Targets[0] != (escalation.Target{Kind: "team", ID: "dba"}) {
			t.Fatalf("stored %+v", rec)
		}
		p := rec.Policy()
		if p.Steps[1].After != 10*time.Minute || len(p.Steps[1].Targets) != 2 {
			t.Errorf("policy %+v", p)
		}
		b, _ := json.Marshal(rec)
		var back map[string]any
		_ = json.Unmarshal(b, &back)
		if back["ack_timeout"] != "30m0s" {
			t.Errorf("json %s", b)
		}
		// Update replaces the steps.
		in.Steps = in.Steps[:1]
		if rec, err = s.Update(ctx, rec.ID, in); err != nil || len(rec.Steps) != 1 {
			t.Fatalf("update: %+v %v", rec, err)
		}
		bad := []struct {
			mutate func(*escalation.Input)
			field  string
		}{
			{func(i *escalation.Input) { i.Slug = "Has Space" }, "slug"},
			{func(i *escalation.Input) { i.Repeat = -1 }, "repeat"},
			{func(i *escalation.Input) { i.AckTimeout = escalation.Duration(48 * time.Hour) }, "ack_timeout"},
			{func(i *escalation.Input) { i.Steps = nil }, "steps"},
			{func(i *escalation.Input) {
				i.Steps = []escalation.StepRecord{{After: escalation.Duration(time.Hour), Targets: i.Steps[0].Targets}, {Targets: i.Steps[0].Targets}}
			}, "steps[1].after"},
			{func(i *escalation.Input) { i.Steps = []escalation.StepRecord{{}} }, "steps[0].targets"},
			{func(i *escalation.Input) {
				i.Steps = []escalation.StepRecord{{Targets: []escalation.Target{{Kind: "user", ID: "ann"}, {Kind: "schedule", ID: "none"}}}}
			}, "steps[0].targets[1].id"},
			{func(i *escalation.Input) {
				i.Steps = []escalation.StepRecord{{Targets: []escalation.Target{{Kind: "pager", ID: "x"}}}}
			}, "steps[0].targets[0].kind"},
		}
		for _, c := range bad {
			x := in
			x.Slug = "other"
			c.mutate(&x)
			_, err := s.Create(ctx, x)
			var fe *escalation.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("want error on %s, got %v", c.field, err)
			}
		}
		if _, err := s.Create(ctx, in); err == nil {
			t.Error("duplicate slug accepted")
		} else if fe := (*escalation.FieldError)(nil); !errors.As(err, &fe) || fe.Field != "slug" {
			t.Errorf("duplicate slug: %v", err)
		}
		var d escalation.Duration
		if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil {
			t.Error("bad duration accepted")
		}
		if err := s.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, rec.ID); !errors.Is(err, escalation.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
	})
}
