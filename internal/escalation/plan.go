package escalation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/plan"
)

// FromPlan turns the plan's escalation into the policy for one level. A step's
// `page: level` expands to the level's own page list, so a level that pages
// several targets (P0) pages all of them at once in that step; explicit ids
// follow in the same step. Ids are classified as users (people), schedules or
// contacts; unknown ids are an error naming all of them.
//
// A level with an empty page list (P3) does not page, so its policy has no
// steps: escalation is for levels that page someone and get no answer. Steps
// left without targets otherwise are kept and advance silently.
func FromPlan(esc plan.Escalation, level plan.LevelSpec, people, schedules, contacts map[string]bool) (Policy, error) {
	if len(level.Page) == 0 {
		return Policy{}, nil
	}
	if esc.Repeat < 0 {
		return Policy{}, fmt.Errorf("escalation: repeat %d is negative", esc.Repeat)
	}
	classify := func(id string) (Target, bool) {
		switch {
		case people[id]:
			return Target{KindUser, id}, true
		case schedules[id]:
			return Target{KindSchedule, id}, true
		case contacts[id]:
			return Target{KindContact, id}, true
		}
		return Target{}, false
	}
	var unknown []string
	seenUnknown := map[string]bool{}
	resolve := func(ids []string) []Target {
		var ts []Target
		for _, id := range ids {
			t, ok := classify(id)
			if !ok {
				if !seenUnknown[id] {
					seenUnknown[id] = true
					unknown = append(unknown, id)
				}
				continue
			}
			ts = append(ts, t)
		}
		return ts
	}
	steps := esc.Steps
	if len(steps) == 0 {
		// No escalation configured: page the level once.
		steps = []plan.EscalationStep{{Page: plan.Page{Level: true}}}
	}
	var pol Policy
	pol.Repeat = esc.Repeat
	for i, s := range steps {
		after := s.After.D()
		if after < 0 {
			return Policy{}, fmt.Errorf("escalation: step %d: after %s is negative", i, after)
		}
		if i > 0 && after < steps[i-1].After.D() {
			return Policy{}, fmt.Errorf("escalation: step %d: after %s is before the previous step's", i, after)
		}
		var ids []string
		if s.Page.Level {
			ids = append(ids, level.Page...)
		}
		ids = append(ids, s.Page.Targets...)
		pol.Steps = append(pol.Steps, Step{After: after, Targets: dedupe(resolve(ids))})
	}
	if len(unknown) > 0 {
		return Policy{}, fmt.Errorf("escalation for level %s: unknown ids (not a person, schedule or contact): %s",
			level.ID, strings.Join(unknown, ", "))
	}
	return pol, nil
}

// Sets returns the id sets FromPlan classifies with: people handles,
// schedule ids and contact ids of p.
func Sets(p *plan.Plan) (people, schedules, contacts map[string]bool) {
	people, schedules, contacts = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, x := range p.People {
		people[x.Handle] = true
	}
	for _, x := range p.Schedules {
		schedules[x.ID] = true
	}
	for _, x := range p.Contacts {
		contacts[x.ID] = true
	}
	return
}

// SyncPlan makes the plan's policies inside tx: one per level that pages
// someone, with slug PlanSlug(level) and source "plan". People, schedules and
// contacts must already be stored (users, schedules, channels); plan contacts
// that could not become a channel (no e-mail) are left out of the steps.
// Plan policies of levels that no longer page are deleted; policies made by
// people are never touched, and a slug clash with one is an error.
func SyncPlan(ctx context.Context, tx *sql.Tx, p *plan.Plan, now time.Time) error {
	people, schedules, contacts := Sets(p)
	keep := map[string]bool{}
	for _, lv := range p.Levels {
		pol, err := FromPlan(p.Escalation, lv, people, schedules, contacts)
		if err != nil {
			return err
		}
		if len(pol.Steps) == 0 {
			continue
		}
		in := Input{
			Slug:        PlanSlug(lv.ID),
			Name:        "Plan: " + lv.ID,
			Description: "Made from the emergency plan's escalation and level " + lv.ID + "'s page list; change the plan to change it.",
			Repeat:      pol.Repeat,
			Source:      "plan",
		}
		for _, st := range pol.Steps {
			var ts []Target
			for _, t := range st.Targets {
				if t.Kind == KindContact {
					t.Kind = KindChannel
				}
				ok, err := TargetExists(ctx, tx, t)
				if err != nil {
					return err
				}
				if ok {
					ts = append(ts, t)
				}
			}
			if len(ts) > 0 {
				in.Steps = append(in.Steps, StepRecord{After: Duration(st.After), Targets: ts})
			}
		}
		if len(in.Steps) == 0 {
			continue
		}
		keep[in.Slug] = true
		old, err := BySlug(ctx, tx, in.Slug)
		switch {
		case errors.Is(err, ErrNotFound):
			_, err = Put(ctx, tx, 0, in, now)
		case err == nil && old.Source != "plan":
			return fmt.Errorf("escalation policy %q was made by a person; rename it so the plan can use that name", in.Slug)
		case err == nil:
			_, err = Put(ctx, tx, old.ID, in, now)
		}
		if err != nil {
			return fmt.Errorf("plan escalation for level %s: %w", lv.ID, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, slug FROM escalation_policies WHERE source = 'plan'`)
	if err != nil {
		return err
	}
	var drop []int64
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			rows.Close()
			return err
		}
		if !keep[slug] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, `DELETE FROM escalation_policies WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}
