package oncall

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/plan"
)

// SyncPlan makes the schedules with source SourcePlan match the plan's
// schedules, inside tx: each plan schedule is upserted by slug = plan id with
// one layer built by FromPlan anchored at now (members mapped from handles to
// user ids by userIDs) and its plan overrides as "all" overrides (replacing
// the previous plan overrides; overrides people made stay). Plan schedules no
// longer in the plan are deleted. Schedules people made are never touched: a
// plan id equal to one's slug is an error.
//
// Re-applying a plan does not shift a rotation: when a schedule's shift length
// and members are unchanged, the plan gives no start date and the stored start
// is still a hand-off of the plan's rotation, the stored start is kept instead
// of re-anchoring at now.
func SyncPlan(ctx context.Context, tx *sql.Tx, schedules []plan.Schedule, userIDs map[string]int64, now time.Time) error {
	keep := map[string]bool{}
	for _, ps := range schedules {
		if err := syncSchedule(ctx, tx, ps, userIDs, now); err != nil {
			return err
		}
		keep[ps.ID] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, slug FROM schedules WHERE source=$1`, SourcePlan)
	if err != nil {
		return fmt.Errorf("list plan schedules: %w", err)
	}
	var gone []int64
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			rows.Close()
			return fmt.Errorf("list plan schedules: %w", err)
		}
		if !keep[slug] {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list plan schedules: %w", err)
	}
	for _, id := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE id=$1`, id); err != nil {
			return fmt.Errorf("delete plan schedule: %w", err)
		}
	}
	return nil
}

func syncSchedule(ctx context.Context, tx *sql.Tx, ps plan.Schedule, userIDs map[string]int64, now time.Time) error {
	if ps.ID == "" || len(ps.ID) > 200 {
		return fmt.Errorf("schedule %q: invalid id", ps.ID)
	}
	sched, err := FromPlan(ps, now)
	if err != nil {
		return err
	}
	layer := sched.Layers[0]
	members := make([]int64, len(layer.Rotation.Members))
	for i, h := range layer.Rotation.Members {
		id, ok := userIDs[h]
		if !ok || id == 0 {
			return fmt.Errorf("schedule %s: rotation.members[%d]: no user for person %q", ps.ID, i, h)
		}
		members[i] = id
	}
	overrides := make([]OverrideRecord, len(sched.Overrides))
	for i, o := range sched.Overrides {
		id, ok := userIDs[o.User]
		if !ok || id == 0 {
			return fmt.Errorf("schedule %s: overrides[%d].person: no user for person %q", ps.ID, i, o.User)
		}
		if !o.End.After(o.Start) {
			return fmt.Errorf("schedule %s: overrides[%d]: to must be after from", ps.ID, i)
		}
		overrides[i] = OverrideRecord{Start: o.Start, End: o.End, UserID: id, Mode: ModeAll, Note: planNote}
	}
	name := strings.TrimSpace(ps.Name.EN)
	if name == "" {
		name = strings.TrimSpace(ps.Name.ZH)
	}
	if name == "" {
		name = ps.ID
	}
	zone := ps.Timezone
	if zone == "" {
		zone = "UTC"
	}
	start := layer.Rotation.Start

	var id int64
	var source string
	err = tx.QueryRowContext(ctx, `SELECT id, source FROM schedules WHERE slug=$1`, ps.ID).Scan(&id, &source)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRowContext(ctx, `INSERT INTO schedules (slug, name, time_zone, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, ps.ID, name, zone, SourcePlan, now.UnixMilli()).Scan(&id)
		if err != nil {
			return fmt.Errorf("schedule %s: insert: %w", ps.ID, err)
		}
	case err != nil:
		return fmt.Errorf("schedule %s: read: %w", ps.ID, err)
	case source != SourcePlan:
		return fmt.Errorf("schedule %s: a schedule with slug %q was made in firebreak, not by the plan; rename or delete it, or rename the plan's schedule", ps.ID, ps.ID)
	default:
		if kept, ok, err := keptStart(ctx, tx, id, ps, layer, members); err != nil {
			return err
		} else if ok {
			start = kept
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schedules SET name=$1, time_zone=$2, updated_at=$3 WHERE id=$4`,
			name, zone, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("schedule %s: update: %w", ps.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_layers WHERE schedule_id=$1`, id); err != nil {
			return fmt.Errorf("schedule %s: replace layers: %w", ps.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_overrides WHERE schedule_id=$1 AND note=$2 AND created_by IS NULL`,
			id, planNote); err != nil {
			return fmt.Errorf("schedule %s: replace overrides: %w", ps.ID, err)
		}
	}
	err = insertLayers(ctx, tx, id, []LayerRecord{{
		Name: layer.Name, Start: start, ShiftLength: layer.Rotation.ShiftLength, Members: members,
	}})
	if err != nil {
		return fmt.Errorf("schedule %s: %w", ps.ID, err)
	}
	for _, o := range overrides {
		o.ScheduleID = id
		if _, err := insertOverride(ctx, tx, o, now); err != nil {
			return fmt.Errorf("schedule %s: %w", ps.ID, err)
		}
	}
	return nil
}

// keptStart returns the stored start of plan schedule id when re-anchoring
// would be the only change: one stored layer with the same shift length and
// members, no start date in the plan, and the stored start still a hand-off
// of the plan's rotation (same zone, hand-off day and time).
func keptStart(ctx context.Context, tx *sql.Tx, id int64, ps plan.Schedule, layer Layer, members []int64) (time.Time, bool, error) {
	if ps.Rotation.Start != "" {
		return time.Time{}, false, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT start_at, shift_ms, members FROM schedule_layers WHERE schedule_id=$1`, id)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("schedule %s: read layers: %w", ps.ID, err)
	}
	defer rows.Close()
	type stored struct {
		start, shift int64
		members      string
	}
	var ls []stored
	for rows.Next() {
		var l stored
		if err := rows.Scan(&l.start, &l.shift, &l.members); err != nil {
			return time.Time{}, false, fmt.Errorf("schedule %s: read layers: %w", ps.ID, err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("schedule %s: read layers: %w", ps.ID, err)
	}
	if len(ls) != 1 || ls[0].shift != layer.Rotation.ShiftLength.Milliseconds() {
		return time.Time{}, false, nil
	}
	var old []int64
	if json.Unmarshal([]byte(ls[0].members), &old) != nil || !slices.Equal(old, members) {
		return time.Time{}, false, nil
	}
	start := time.UnixMilli(ls[0].start)
	again, err := FromPlan(ps, start)
	if err != nil || !again.Layers[0].Rotation.Start.Equal(start) {
		return time.Time{}, false, nil
	}
	return start, true, nil
}
