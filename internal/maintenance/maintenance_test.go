package maintenance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestRecurringWindowInItsZone(t *testing.T) {
	// Every Sunday 02:00–04:00 Shanghai time.
	w := Window{Title: "Weekly patching", Cron: "0 2 * * sun", TimeZone: "Asia/Shanghai", Duration: Duration(2 * time.Hour)}
	if err := w.Prepare(); err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		at     time.Time
		active bool
	}{
		{time.Date(2026, 11, 22, 1, 59, 0, 0, sh), false},
		{time.Date(2026, 11, 22, 2, 0, 0, 0, sh), true},
		{time.Date(2026, 11, 22, 3, 59, 59, 0, sh), true},
		{time.Date(2026, 11, 22, 4, 0, 0, 0, sh), false},
		{time.Date(2026, 11, 23, 2, 30, 0, 0, sh), false}, // Monday
	}
	for _, c := range cases {
		if got := w.ActiveAt(c.at); got != c.active {
			t.Errorf("%v: active %v, want %v", c.at, got, c.active)
		}
	}
	s, e, ok := w.Span(time.Date(2026, 11, 23, 12, 0, 0, 0, sh))
	if !ok || !s.Equal(time.Date(2026, 11, 29, 2, 0, 0, 0, sh)) || e.Sub(s) != 2*time.Hour {
		t.Errorf("next occurrence %v–%v %v", s, e, ok)
	}
}

func TestScope(t *testing.T) {
	w := Window{Title: "x", StartsAt: time.Unix(0, 0), EndsAt: time.Unix(3600, 0), Services: []int64{7}, Checks: []string{"db-probe"},
		Matchers: []Matcher{{Label: "env", Equals: "staging"}, {Label: "host", Regex: "db-[0-9]+"}}}
	if err := w.Prepare(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		svc    int64
		labels map[string]string
		want   bool
	}{
		{7, nil, true},
		{8, map[string]string{"check": "db-probe"}, true},
		{8, map[string]string{"env": "staging", "host": "db-12"}, true},
		{8, map[string]string{"env": "staging", "host": "web-1"}, false},
		{8, map[string]string{"env": "prod", "host": "db-1"}, false},
		{8, map[string]string{"host": "db-1"}, false},
	}
	for _, c := range cases {
		if got := w.Covers(c.svc, c.labels); got != c.want {
			t.Errorf("service %d labels %v: %v, want %v", c.svc, c.labels, got, c.want)
		}
	}
	all := Window{Title: "everything", StartsAt: time.Unix(0, 0), EndsAt: time.Unix(10, 0)}
	if err := all.Prepare(); err != nil || !all.Covers(1, nil) {
		t.Errorf("an unscoped window covers everything: %v", err)
	}
}

func TestPrepareNamesFields(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		w     Window
		field string
	}{
		{Window{}, "title"},
		{Window{Title: "x"}, "starts_at"},
		{Window{Title: "x", StartsAt: now, EndsAt: now}, "ends_at"},
		{Window{Title: "x", StartsAt: now, EndsAt: now.Add(100 * 24 * time.Hour)}, "ends_at"},
		{Window{Title: "x", Cron: "0 25 * * *", Duration: Duration(time.Hour)}, "cron"},
		{Window{Title: "x", Cron: "0 2 * * *"}, "duration"},
		{Window{Title: "x", Cron: "0 2 * * *", Duration: Duration(time.Hour), TimeZone: "Nowhere/City"}, "time_zone"},
		{Window{Title: "x", Cron: "0 2 * * *", Duration: Duration(time.Hour), StartsAt: now}, "cron"},
		{Window{Title: "x", StartsAt: now, EndsAt: now.Add(time.Hour), Matchers: []Matcher{{Label: "a", Regex: "("}}}, "matchers[0].regex"},
		{Window{Title: "x", StartsAt: now, EndsAt: now.Add(time.Hour), Matchers: []Matcher{{Label: "a"}}}, "matchers[0]"},
	}
	for _, c := range cases {
		err := c.w.Prepare()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want an error on %s", c.w, err, c.field)
		}
	}
}

func TestStore(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
		s := &Store{DB: db, Now: func() time.Time { return now }}
		a, err := s.Create(ctx, Window{Title: "DB upgrade", StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), Public: true, Checks: []string{"db"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, Window{Title: "Internal", Cron: "0 * * * *", Duration: Duration(10 * time.Minute), Public: false}); err != nil {
			t.Fatal(err)
		}
		up, err := s.Upcoming(ctx, now.Add(24*time.Hour), true)
		if err != nil || len(up) != 1 || up[0].Window.ID != a.ID || up[0].Active {
			t.Fatalf("public upcoming %+v %v", up, err)
		}
		all, err := s.Upcoming(ctx, now.Add(24*time.Hour), false)
		if err != nil || len(all) != 2 || !all[0].Active || all[0].Window.Title != "Internal" {
			t.Fatalf("all upcoming %+v %v", all, err)
		}
		a.Title = "DB upgrade to 16"
		if _, err := s.Update(ctx, a.ID, *a); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted: %v", err)
		}
	})
}
