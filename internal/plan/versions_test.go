package plan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestApplyLoadExport(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		if _, err := Load(ctx, db); !errors.Is(err, ErrNoPlan) {
			t.Fatalf("Load on empty db: %v", err)
		}
		if _, err := Export(ctx, db); !errors.Is(err, ErrNoPlan) {
			t.Fatalf("Export on empty db: %v", err)
		}

		applied, err := ApplyDefaultIfEmpty(ctx, db, now)
		if err != nil || !applied {
			t.Fatalf("ApplyDefaultIfEmpty = %v, %v", applied, err)
		}
		if applied, err := ApplyDefaultIfEmpty(ctx, db, now); err != nil || applied {
			t.Fatalf("second ApplyDefaultIfEmpty = %v, %v", applied, err)
		}
		p, src := Default()
		v1, changed, err := Apply(ctx, db, p, src, "alice", now)
		if err != nil || changed || v1 == 0 {
			t.Fatalf("Apply same source = %d, %v, %v", v1, changed, err)
		}
		if n := versions(t, db); n != 1 {
			t.Fatalf("%d versions after applying the same plan twice", n)
		}

		c, err := Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if c.VersionID != v1 || c.Name != "Production incident emergency plan" || len(c.Levels) != 4 || len(c.Types) != 5 || len(c.Roles) != 6 {
			t.Fatalf("current = %+v", c)
		}
		p0, ok := c.Level("P0")
		if !ok || p0.Position != 0 || p0.AckTarget != 5*time.Minute || p0.FirstPublicNotice != 10*time.Minute ||
			p0.ResolveTarget != 8*time.Hour || p0.Name.ZH != "一级事故" || p0.Postmortem != PostmortemRequired {
			t.Errorf("P0 = %+v", p0)
		}
		if p3, _ := c.Level("P3"); p3.Position != 3 || p3.AckTarget != 0 || p3.Postmortem != PostmortemNone {
			t.Errorf("P3 = %+v", p3)
		}
		if sb, ok := c.Type("security-breach"); !ok || !sb.Restricted || sb.DefaultLevel != "P0" || sb.Playbook != "security-breach" {
			t.Errorf("security-breach = %+v", sb)
		}
		if sd, _ := c.Type("site-down"); sd.Restricted {
			t.Errorf("site-down restricted")
		}
		if r, ok := c.Role("commander"); !ok || r.Name.ZH != "应急指挥" || r.Duties == "" {
			t.Errorf("commander = %+v", r)
		}
		for sev, want := range map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "", "bogus": ""} {
			if got := c.LevelForSeverity(sev); got != want {
				t.Errorf("LevelForSeverity(%q) = %q, want %q", sev, got, want)
			}
		}

		// A changed plan: P3 becomes P4, P0 acknowledges faster.
		next := strings.NewReplacer("- id: P3", "- id: P4", "warning: P3", "warning: P4", "acknowledge: 5m", "acknowledge: 3m").Replace(string(src))
		np, err := Parse([]byte(next))
		if err != nil {
			t.Fatal(err)
		}
		v2, changed, err := Apply(ctx, db, np, []byte(next), "bob", now.Add(time.Hour))
		if err != nil || !changed || v2 <= v1 {
			t.Fatalf("Apply changed plan = %d, %v, %v", v2, changed, err)
		}
		if n := versions(t, db); n != 2 {
			t.Fatalf("%d versions, want 2", n)
		}
		c, err = Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Level("P3"); ok || c.VersionID != v2 || len(c.Levels) != 4 || c.Levels[3].ID != "P4" || c.LevelForSeverity("warning") != "P4" {
			t.Errorf("levels not replaced: %+v", c.Levels)
		}
		if p0, _ := c.Level("P0"); p0.AckTarget != 3*time.Minute {
			t.Errorf("P0 ack = %v", p0.AckTarget)
		}
		out, err := Export(ctx, db)
		if err != nil || string(out) != next {
			t.Errorf("Export = %v, differs from applied source: %v", err, string(out) != next)
		}

		// An invalid plan is refused and changes nothing.
		bad := *np
		bad.Version = 2
		if _, _, err := Apply(ctx, db, &bad, []byte("version: 2"), "eve", now); err == nil || !strings.Contains(err.Error(), "version") {
			t.Errorf("Apply invalid plan: %v", err)
		}
		if n := versions(t, db); n != 2 {
			t.Errorf("%d versions after a refused apply", n)
		}
		var by string
		var at int64
		if err := db.R.QueryRow(`SELECT applied_by, applied_at FROM plan_versions WHERE id = $1`, v2).Scan(&by, &at); err != nil || by != "bob" || at != now.Add(time.Hour).UnixMilli() {
			t.Errorf("version row = %q, %d, %v", by, at, err)
		}
	})
}

func versions(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM plan_versions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplyConcurrent(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, src := Default()
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				s := src
				if i%2 == 1 { // two distinct sources, each applied four times at once
					s = append([]byte("# revised\n"), src...)
				}
				p, err := Parse(s)
				if err == nil {
					_, _, err = Apply(ctx, db, p, s, "ci", time.Now())
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := versions(t, db); n < 2 || n > 8 {
			t.Errorf("%d versions", n)
		}
		if c, err := Load(ctx, db); err != nil || len(c.Levels) != 4 || len(c.SeverityLevels) != 4 {
			t.Errorf("Load = %+v, %v", c, err)
		}
	})
}
