package incident_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestCheckTransition(t *testing.T) {
	for _, c := range []struct {
		from, to incident.Status
		ok       bool
	}{
		{incident.Triggered, incident.Acknowledged, true},
		{incident.Triggered, incident.Resolved, true},
		{incident.Monitoring, incident.Investigating, true},
		{incident.Resolved, incident.Investigating, true}, // reopen
		{incident.Resolved, incident.Closed, true},
		{incident.Investigating, incident.Closed, false},
		{incident.Closed, incident.Investigating, false},
		{incident.Acknowledged, incident.Triggered, false},
		{incident.Acknowledged, incident.Acknowledged, false},
		{incident.Acknowledged, "bogus", false},
	} {
		err := incident.CheckTransition(c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: err %v, want ok=%v", c.from, c.to, err, c.ok)
		}
	}
}

func setup(t *testing.T, db *store.DB, now *time.Time) *incident.Store {
	t.Helper()
	if _, err := plan.ApplyDefaultIfEmpty(context.Background(), db, *now); err != nil {
		t.Fatal(err)
	}
	return &incident.Store{DB: db, Now: func() time.Time { return *now }}
}

func TestDeclareAndLifecycle(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		s := setup(t, db, &now)
		var changed []int64
		s.Changed = func(ids ...int64) { changed = append(changed, ids...) }
		ann := incident.Actor{Name: "ann"}

		for _, c := range []struct {
			d     incident.Declaration
			field string
		}{
			{incident.Declaration{Type: "site-down"}, "title"},
			{incident.Declaration{Title: "x", Type: "nope"}, "type"},
			{incident.Declaration{Title: "x"}, "level"},
			{incident.Declaration{Title: "x", Level: "P9"}, "level"},
			{incident.Declaration{Title: "x", Level: "P1", ServiceID: 999}, "service_id"},
		} {
			_, err := s.Declare(ctx, ann, c.d)
			var re *incident.RuleError
			if !errors.As(err, &re) || re.Field != c.field {
				t.Errorf("declare %+v: err %v, want field %s", c.d, err, c.field)
			}
		}

		inc, err := s.Declare(ctx, ann, incident.Declaration{Title: " Shop down ", Type: "site-down", Impact: "no orders"})
		if err != nil {
			t.Fatal(err)
		}
		if inc.Level != "P0" || inc.Title != "Shop down" || inc.Status != incident.Triggered || inc.PlanVersionID == 0 || inc.Source != "manual" {
			t.Fatalf("declared %+v", inc)
		}
		now = now.Add(3 * time.Minute)
		if inc, err = s.ChangeStatus(ctx, ann, inc.ID, incident.Investigating, "on it"); err != nil {
			t.Fatal(err)
		}
		if !inc.AcknowledgedAt.Equal(now) {
			t.Fatalf("acknowledged_at %v, want %v", inc.AcknowledgedAt, now)
		}
		if _, err := s.ChangeStatus(ctx, ann, inc.ID, incident.Closed, ""); err == nil {
			t.Fatal("closed an unresolved incident")
		}
		if inc, err = s.ChangeLevel(ctx, ann, inc.ID, "P1", "fewer users hit"); err != nil || inc.Level != "P1" {
			t.Fatalf("level: %v %+v", err, inc)
		}
		if _, err := s.AddNote(ctx, ann, inc.ID, "  "); err == nil {
			t.Fatal("empty note accepted")
		}
		if _, err := s.AddNote(ctx, ann, 12345, "x"); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("note on missing incident: %v", err)
		}
		if _, err := s.AddNote(ctx, ann, inc.ID, "rolled back"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if inc, err = s.ChangeStatus(ctx, ann, inc.ID, incident.Resolved, ""); err != nil || !inc.ResolvedAt.Equal(now) {
			t.Fatalf("resolve: %v %+v", err, inc)
		}
		if inc, err = s.ChangeStatus(ctx, ann, inc.ID, incident.Closed, ""); err != nil || inc.ClosedAt.IsZero() {
			t.Fatalf("close: %v %+v", err, inc)
		}
		if _, err := s.ChangeStatus(ctx, ann, inc.ID, incident.Investigating, ""); err == nil {
			t.Fatal("closed incident reopened")
		}
		tl, err := s.Timeline(ctx, inc.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
			if e.Actor != "ann" {
				t.Errorf("entry %s actor %q", e.Kind, e.Actor)
			}
		}
		want := "[declared status_changed level_changed note status_changed status_changed]"
		if got := fmtSlice(kinds); got != want {
			t.Fatalf("timeline %s, want %s", got, want)
		}
		if after, _ := s.Timeline(ctx, inc.ID, tl[3].ID); len(after) != 2 {
			t.Fatalf("timeline after: %d entries", len(after))
		}
		if len(changed) != 6 {
			t.Fatalf("change notices %v", changed)
		}
	})
}

func fmtSlice(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func TestListFiltersAndPages(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		s := setup(t, db, &now)
		var ids []int64
		for i := range 7 {
			level := "P2"
			if i%2 == 0 {
				level = "P1"
			}
			inc, err := s.Declare(ctx, incident.Actor{Name: "x"}, incident.Declaration{Title: "i", Level: level})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inc.ID)
		}
		if _, err := s.ChangeStatus(ctx, incident.Actor{}, ids[0], incident.Resolved, ""); err != nil {
			t.Fatal(err)
		}
		var seen []int64
		cursor := ""
		for pages := 0; ; pages++ {
			items, next, err := s.List(ctx, incident.Filter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				seen = append(seen, it.ID)
			}
			if next == "" {
				if pages != 2 {
					t.Fatalf("%d pages", pages+1)
				}
				break
			}
			cursor = next
		}
		if len(seen) != 7 || seen[0] != ids[6] || seen[6] != ids[0] {
			t.Fatalf("pages gave %v for %v", seen, ids)
		}
		open, _, _ := s.List(ctx, incident.Filter{Open: true})
		p1, _, _ := s.List(ctx, incident.Filter{Level: "P1"})
		res, _, _ := s.List(ctx, incident.Filter{Statuses: []incident.Status{incident.Resolved}})
		if len(open) != 6 || len(p1) != 4 || len(res) != 1 || res[0].ID != ids[0] {
			t.Fatalf("open %d p1 %d resolved %d", len(open), len(p1), len(res))
		}
		if _, _, err := s.List(ctx, incident.Filter{Cursor: "!!"}); err == nil {
			t.Fatal("bad cursor accepted")
		}
		counts, err := s.CountOpenByLevel(ctx)
		if err != nil || counts["P1"] != 3 || counts["P2"] != 3 {
			t.Fatalf("counts %v %v", counts, err)
		}
	})
}
