package oncall

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/internal/store"
)

var (
	// ErrNotFound is returned for an unknown team, schedule, override or user.
	ErrNotFound = errors.New("not found")
	// ErrPlanManaged is returned when changing or deleting a schedule that the
	// emergency plan owns: change the plan instead.
	ErrPlanManaged = errors.New("this schedule comes from the emergency plan; change the plan instead")
)

// FieldError names bad input, e.g. Field "layers[0].members[1]".
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store keeps teams, schedules, overrides and iCal feed secrets.
type Store struct {
	DB  *store.DB
	Now func() time.Time // nil means time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// SourcePlan marks teams and schedules created from the emergency plan.
const SourcePlan = "plan"

// Override modes.
const (
	ModeAdd     = "add"     // the user is on call on top of whoever is
	ModeReplace = "replace" // the user takes ReplacesUserID's place while that user is on call
	ModeAll     = "all"     // the user alone is on call
)

// planNote marks the overrides SyncPlan owns (with created_by NULL).
const planNote = "plan"

// Limits of schedules and overrides.
const (
	MinShiftLength  = time.Minute
	MaxShiftLength  = 365 * day
	MaxOverrideSpan = 90 * day
	MaxShiftRange   = 366 * day // longest range ScheduleShifts and UserShifts compute
	maxLayers       = 20
	maxMembers      = 200
	maxWindows      = 50
)

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func checkSlug(slug string) error {
	if !slugRe.MatchString(slug) {
		return &FieldError{"slug", "must be 1 to 63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"}
	}
	return nil
}

func checkText(field, v string, limit int, required bool) error {
	switch {
	case required && v == "":
		return &FieldError{field, "is required"}
	case len(v) > limit || !utf8.ValidString(v):
		return &FieldError{field, fmt.Sprintf("must be valid UTF-8 of at most %d bytes", limit)}
	}
	return nil
}

// newSecret returns a random 32-hex-character capability.
func newSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var secretRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func fromMs(v int64, tz *time.Location) time.Time { return time.UnixMilli(v).In(tz) }

func userString(id int64) string { return strconv.FormatInt(id, 10) }

func userID(s string) int64 {
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}

// placeholders returns "$first, $first+1, ..." for n arguments.
func placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
	}
	return b.String()
}

// ---- schedules ----

// WindowSpec restricts a layer to a daily window in the schedule's zone: From
// and To are "HH:MM" (To may be "24:00"; To <= From wraps past midnight, To ==
// From is the whole day) and Days ("mon".."sun") the days the window starts on,
// empty meaning every day.
type WindowSpec struct {
	Days []string `json:"days,omitempty"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// LayerRecord is one stored rotation of a schedule. Members are user ids in
// rotation order; Members[0] is on call from Start.
type LayerRecord struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Start       time.Time     `json:"start"`
	ShiftLength time.Duration `json:"shift_length_ns"`
	Members     []int64       `json:"members"`
	Restrict    []WindowSpec  `json:"restrict"`
}

// ScheduleRecord is a stored schedule. TeamID 0 means no team; Source is
// SourcePlan for schedules SyncPlan manages.
type ScheduleRecord struct {
	ID          int64         `json:"id"`
	Slug        string        `json:"slug"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	TimeZone    string        `json:"time_zone"`
	TeamID      int64         `json:"team_id"`
	Source      string        `json:"source"`
	ICalSecret  string        `json:"-"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	Layers      []LayerRecord `json:"layers"`
}

// DisplayName is the schedule's name, or its slug when it has none.
func (r ScheduleRecord) DisplayName() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Slug
}

// ScheduleInput is what a person sets on a schedule. Layer ids are ignored.
type ScheduleInput struct {
	Slug        string        `json:"slug"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	TimeZone    string        `json:"time_zone"` // IANA zone; empty means UTC
	TeamID      int64         `json:"team_id"`
	Layers      []LayerRecord `json:"layers"`
}

// storedWindow is a WindowSpec as the restrict column holds it.
type storedWindow struct {
	Days []int  `json:"days,omitempty"`
	From string `json:"from"`
	To   string `json:"to"`
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == dayNames[d] || s == strings.ToLower(d.String()) {
			return d, true
		}
	}
	return 0, false
}

// parseClock reads "HH:MM" as an offset from midnight; "24:00" only when allow24.
func parseClock(s string, allow24 bool) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' || m < 0 || m > 59 || h < 0 {
		return 0, false
	}
	if h > 23 && !(allow24 && h == 24 && m == 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// window converts a checked WindowSpec.
func (w WindowSpec) window() (Window, error) {
	var out Window
	for _, d := range w.Days {
		wd, ok := parseDay(d)
		if !ok {
			return out, fmt.Errorf("unknown day %q", d)
		}
		if !slices.Contains(out.Days, wd) {
			out.Days = append(out.Days, wd)
		}
	}
	var ok1, ok2 bool
	out.From, ok1 = parseClock(w.From, false)
	out.To, ok2 = parseClock(w.To, true)
	if !ok1 || !ok2 {
		return out, fmt.Errorf("invalid window %s-%s", w.From, w.To)
	}
	return out, nil
}

// checkWindow validates and normalizes w, naming fields under at.
func checkWindow(at string, w *WindowSpec) error {
	var days []string
	for i, d := range w.Days {
		wd, ok := parseDay(d)
		if !ok {
			return &FieldError{fmt.Sprintf("%s.days[%d]", at, i), "must be one of mon, tue, wed, thu, fri, sat, sun"}
		}
		if !slices.Contains(days, dayNames[wd]) {
			days = append(days, dayNames[wd])
		}
	}
	w.Days = days
	w.From, w.To = strings.TrimSpace(w.From), strings.TrimSpace(w.To)
	if _, ok := parseClock(w.From, false); !ok {
		return &FieldError{at + ".from", "must be a time of day as HH:MM (00:00 to 23:59)"}
	}
	if _, ok := parseClock(w.To, true); !ok {
		return &FieldError{at + ".to", "must be a time of day as HH:MM (00:00 to 24:00)"}
	}
	return nil
}

// checkUser reports a FieldError unless user id exists and is enabled.
func checkUser(ctx context.Context, q Querier, field string, id int64) error {
	if id <= 0 {
		return &FieldError{field, "is required"}
	}
	var disabled bool
	err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id=$1`, id).Scan(&disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return &FieldError{field, fmt.Sprintf("no user with id %d", id)}
	}
	if err != nil {
		return fmt.Errorf("check user: %w", err)
	}
	if disabled {
		return &FieldError{field, fmt.Sprintf("user %d is disabled", id)}
	}
	return nil
}

// checkSchedule validates and normalizes in.
func checkSchedule(ctx context.Context, q Querier, in *ScheduleInput) error {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if err := checkSlug(in.Slug); err != nil {
		return err
	}
	if err := checkText("name", in.Name, 200, false); err != nil {
		return err
	}
	if err := checkText("description", in.Description, 2000, false); err != nil {
		return err
	}
	if in.TimeZone == "Local" {
		return &FieldError{"time_zone", "must be an IANA time zone such as Asia/Shanghai"}
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return &FieldError{"time_zone", fmt.Sprintf("unknown time zone %q (use an IANA name such as Asia/Shanghai)", in.TimeZone)}
	}
	if in.TeamID != 0 {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id=$1`, in.TeamID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return &FieldError{"team_id", fmt.Sprintf("no team with id %d", in.TeamID)}
		} else if err != nil {
			return fmt.Errorf("check team: %w", err)
		}
	}
	switch {
	case len(in.Layers) == 0:
		return &FieldError{"layers", "at least one layer is required"}
	case len(in.Layers) > maxLayers:
		return &FieldError{"layers", fmt.Sprintf("at most %d layers", maxLayers)}
	}
	checked := map[int64]error{}
	for i := range in.Layers {
		l := &in.Layers[i]
		at := fmt.Sprintf("layers[%d]", i)
		l.Name = strings.TrimSpace(l.Name)
		if err := checkText(at+".name", l.Name, 200, false); err != nil {
			return err
		}
		if l.Start.IsZero() {
			return &FieldError{at + ".start", "is required: the first hand-off"}
		}
		if l.ShiftLength < MinShiftLength || l.ShiftLength > MaxShiftLength {
			return &FieldError{at + ".shift_length", "must be between 1 minute and 365 days"}
		}
		switch {
		case len(l.Members) == 0:
			return &FieldError{at + ".members", "at least one member is required"}
		case len(l.Members) > maxMembers:
			return &FieldError{at + ".members", fmt.Sprintf("at most %d members", maxMembers)}
		}
		for j, id := range l.Members {
			err, seen := checked[id]
			if !seen {
				err = checkUser(ctx, q, "", id)
				checked[id] = err
			}
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{fmt.Sprintf("%s.members[%d]", at, j), fe.Msg}
			} else if err != nil {
				return err
			}
		}
		if len(l.Restrict) > maxWindows {
			return &FieldError{at + ".restrict", fmt.Sprintf("at most %d windows", maxWindows)}
		}
		for k := range l.Restrict {
			if err := checkWindow(fmt.Sprintf("%s.restrict[%d]", at, k), &l.Restrict[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

func insertLayers(ctx context.Context, q Querier, scheduleID int64, layers []LayerRecord) error {
	for i, l := range layers {
		members, err := json.Marshal(l.Members)
		if err != nil {
			return err
		}
		ws := make([]storedWindow, 0, len(l.Restrict))
		for _, w := range l.Restrict {
			sw := storedWindow{From: w.From, To: w.To}
			for _, d := range w.Days {
				wd, _ := parseDay(d)
				sw.Days = append(sw.Days, int(wd))
			}
			ws = append(ws, sw)
		}
		restrict, err := json.Marshal(ws)
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO schedule_layers (schedule_id, position, name, start_at, shift_ms, members, "restrict")
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			scheduleID, i, l.Name, l.Start.UnixMilli(), l.ShiftLength.Milliseconds(), string(members), string(restrict))
		if err != nil {
			return fmt.Errorf("insert schedule layer: %w", err)
		}
	}
	return nil
}

// CreateSchedule validates in and stores a new schedule with its layers.
func (s *Store) CreateSchedule(ctx context.Context, in ScheduleInput) (ScheduleRecord, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := checkSchedule(ctx, tx, &in); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		err := tx.QueryRowContext(ctx, `INSERT INTO schedules (slug, name, description, time_zone, team_id, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, '', $6, $6) RETURNING id`,
			in.Slug, in.Name, in.Description, in.TimeZone, nullID(in.TeamID), now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return &FieldError{"slug", "a schedule with this slug exists"}
		}
		if err != nil {
			return fmt.Errorf("insert schedule: %w", err)
		}
		return insertLayers(ctx, tx, id, in.Layers)
	})
	if err != nil {
		return ScheduleRecord{}, err
	}
	return s.GetSchedule(ctx, id)
}

// scheduleSource returns the source of schedule id, or ErrNotFound.
func scheduleSource(ctx context.Context, q Querier, id int64) (string, error) {
	var src string
	err := q.QueryRowContext(ctx, `SELECT source FROM schedules WHERE id=$1`, id).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read schedule: %w", err)
	}
	return src, nil
}

// UpdateSchedule validates in and replaces the schedule's fields and layers in
// one transaction. Schedules from the plan give ErrPlanManaged.
func (s *Store) UpdateSchedule(ctx context.Context, id int64, in ScheduleInput) (ScheduleRecord, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		src, err := scheduleSource(ctx, tx, id)
		if err != nil {
			return err
		}
		if src == SourcePlan {
			return ErrPlanManaged
		}
		if err := checkSchedule(ctx, tx, &in); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE schedules SET slug=$1, name=$2, description=$3, time_zone=$4, team_id=$5, updated_at=$6 WHERE id=$7`,
			in.Slug, in.Name, in.Description, in.TimeZone, nullID(in.TeamID), s.now().UnixMilli(), id)
		if store.IsUniqueViolation(err) {
			return &FieldError{"slug", "a schedule with this slug exists"}
		}
		if err != nil {
			return fmt.Errorf("update schedule: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_layers WHERE schedule_id=$1`, id); err != nil {
			return fmt.Errorf("replace schedule layers: %w", err)
		}
		return insertLayers(ctx, tx, id, in.Layers)
	})
	if err != nil {
		return ScheduleRecord{}, err
	}
	return s.GetSchedule(ctx, id)
}

// DeleteSchedule removes a schedule with its layers and overrides. Schedules
// from the plan give ErrPlanManaged.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		src, err := scheduleSource(ctx, tx, id)
		if err != nil {
			return err
		}
		if src == SourcePlan {
			return ErrPlanManaged
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE id=$1`, id); err != nil {
			return fmt.Errorf("delete schedule: %w", err)
		}
		return nil
	})
}

// ListSchedules returns every schedule with its layers, by slug.
func (s *Store) ListSchedules(ctx context.Context) ([]ScheduleRecord, error) {
	return querySchedules(ctx, s.DB.R, "1=1")
}

// GetSchedule returns schedule id with its layers, or ErrNotFound.
func (s *Store) GetSchedule(ctx context.Context, id int64) (ScheduleRecord, error) {
	return oneSchedule(ctx, s.DB.R, "id=$1", id)
}

// ScheduleBySlug returns the schedule with slug, or ErrNotFound.
func (s *Store) ScheduleBySlug(ctx context.Context, slug string) (ScheduleRecord, error) {
	return oneSchedule(ctx, s.DB.R, "slug=$1", slug)
}

func oneSchedule(ctx context.Context, q Querier, where string, args ...any) (ScheduleRecord, error) {
	all, err := querySchedules(ctx, q, where, args...)
	if err != nil {
		return ScheduleRecord{}, err
	}
	if len(all) == 0 {
		return ScheduleRecord{}, ErrNotFound
	}
	return all[0], nil
}

// querySchedules reads the schedules matching where (over the schedules
// table, using args) with their layers.
func querySchedules(ctx context.Context, q Querier, where string, args ...any) ([]ScheduleRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, slug, name, description, time_zone, team_id, source, ical_secret, created_at, updated_at
		FROM schedules WHERE `+where+` ORDER BY slug`, args...)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var out []ScheduleRecord
	index := map[int64]int{}
	zones := map[int64]*time.Location{}
	for rows.Next() {
		var r ScheduleRecord
		var team sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.Slug, &r.Name, &r.Description, &r.TimeZone, &team, &r.Source, &r.ICalSecret, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		tz, err := time.LoadLocation(r.TimeZone)
		if err != nil {
			tz = time.UTC
		}
		r.TeamID = team.Int64
		r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		r.Layers = []LayerRecord{}
		index[r.ID], zones[r.ID] = len(out), tz
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	rows, err = q.QueryContext(ctx, `SELECT id, schedule_id, name, start_at, shift_ms, members, "restrict" FROM schedule_layers
		WHERE schedule_id IN (SELECT id FROM schedules WHERE `+where+`) ORDER BY schedule_id, position`, args...)
	if err != nil {
		return nil, fmt.Errorf("list schedule layers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l LayerRecord
		var sid, start, shift int64
		var members, restrict string
		if err := rows.Scan(&l.ID, &sid, &l.Name, &start, &shift, &members, &restrict); err != nil {
			return nil, fmt.Errorf("list schedule layers: %w", err)
		}
		i, ok := index[sid]
		if !ok {
			continue
		}
		l.Start, l.ShiftLength = fromMs(start, zones[sid]), time.Duration(shift)*time.Millisecond
		if err := json.Unmarshal([]byte(members), &l.Members); err != nil {
			return nil, fmt.Errorf("schedule layer %d: members: %w", l.ID, err)
		}
		var ws []storedWindow
		if err := json.Unmarshal([]byte(restrict), &ws); err != nil {
			return nil, fmt.Errorf("schedule layer %d: restrict: %w", l.ID, err)
		}
		if l.Members == nil {
			l.Members = []int64{}
		}
		l.Restrict = []WindowSpec{}
		for _, w := range ws {
			spec := WindowSpec{From: w.From, To: w.To}
			for _, d := range w.Days {
				if d >= 0 && d < len(dayNames) {
					spec.Days = append(spec.Days, dayNames[d])
				}
			}
			l.Restrict = append(l.Restrict, spec)
		}
		out[i].Layers = append(out[i].Layers, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedule layers: %w", err)
	}
	return out, nil
}

// ---- overrides ----

// OverrideRecord is a stored override of a schedule: UserID is on call during
// [Start, End) in addition to (ModeAdd), instead of ReplacesUserID
// (ModeReplace) or instead of everyone (ModeAll). Username and
// ReplacesUsername are filled in when reading.
type OverrideRecord struct {
	ID               int64     `json:"id"`
	ScheduleID       int64     `json:"schedule_id"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	UserID           int64     `json:"user_id"`
	Username         string    `json:"username"`
	Mode             string    `json:"mode"`
	ReplacesUserID   int64     `json:"replaces_user_id"`
	ReplacesUsername string    `json:"replaces_username"`
	Note             string    `json:"note"`
	CreatedBy        int64     `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
}

// AddOverride validates o and stores it on o.ScheduleID; ID, usernames and
// CreatedAt are ignored. CreatedBy 0 means nobody in particular.
func (s *Store) AddOverride(ctx context.Context, o OverrideRecord) (OverrideRecord, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.addOverride(ctx, tx, o)
		return err
	})
	if err != nil {
		return OverrideRecord{}, err
	}
	return s.getOverride(ctx, s.DB.R, id)
}

func (s *Store) addOverride(ctx context.Context, q Querier, o OverrideRecord) (int64, error) {
	if _, err := scheduleSource(ctx, q, o.ScheduleID); err != nil {
		return 0, err
	}
	o.Note = strings.TrimSpace(o.Note)
	switch {
	case o.Start.IsZero():
		return 0, &FieldError{"start", "is required"}
	case o.End.IsZero():
		return 0, &FieldError{"end", "is required"}
	case !o.End.After(o.Start):
		return 0, &FieldError{"end", "must be after start"}
	case o.End.Sub(o.Start) > MaxOverrideSpan:
		return 0, &FieldError{"end", "an override lasts at most 90 days"}
	case o.Note == planNote:
		return 0, &FieldError{"note", `"plan" is reserved for overrides from the emergency plan`}
	}
	if err := checkText("note", o.Note, 1000, false); err != nil {
		return 0, err
	}
	if err := checkUser(ctx, q, "user_id", o.UserID); err != nil {
		return 0, err
	}
	switch o.Mode {
	case ModeAdd, ModeAll:
		if o.ReplacesUserID != 0 {
			return 0, &FieldError{"replaces_user_id", "is only for mode replace"}
		}
	case ModeReplace:
		if o.ReplacesUserID == 0 {
			return 0, &FieldError{"replaces_user_id", "is required for mode replace: whose time this user takes"}
		}
		if o.ReplacesUserID == o.UserID {
			return 0, &FieldError{"replaces_user_id", "must be someone else than user_id"}
		}
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id=$1`, o.ReplacesUserID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, &FieldError{"replaces_user_id", fmt.Sprintf("no user with id %d", o.ReplacesUserID)}
		} else if err != nil {
			return 0, fmt.Errorf("check user: %w", err)
		}
	default:
		return 0, &FieldError{"mode", "must be add, replace or all"}
	}
	if o.CreatedBy != 0 {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id=$1`, o.CreatedBy).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, &FieldError{"created_by", fmt.Sprintf("no user with id %d", o.CreatedBy)}
		} else if err != nil {
			return 0, fmt.Errorf("check user: %w", err)
		}
	}
	return insertOverride(ctx, q, o, s.now())
}

func insertOverride(ctx context.Context, q Querier, o OverrideRecord, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO schedule_overrides
		(schedule_id, start_at, end_at, user_id, mode, replaces_user_id, note, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		o.ScheduleID, o.Start.UnixMilli(), o.End.UnixMilli(), o.UserID, o.Mode, nullID(o.ReplacesUserID),
		o.Note, nullID(o.CreatedBy), now.UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert override: %w", err)
	}
	return id, nil
}

// DeleteOverride removes override id of schedule scheduleID.
func (s *Store) DeleteOverride(ctx context.Context, scheduleID, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM schedule_overrides WHERE id=$1 AND schedule_id=$2`, id, scheduleID)
	if err != nil {
		return fmt.Errorf("delete override: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListOverrides returns the overrides of a schedule that overlap [from, to),
// by start; a zero from or to leaves that side open.
func (s *Store) ListOverrides(ctx context.Context, scheduleID int64, from, to time.Time) ([]OverrideRecord, error) {
	if _, err := scheduleSource(ctx, s.DB.R, scheduleID); err != nil {
		return nil, err
	}
	return queryOverrides(ctx, s.DB.R, scheduleID, from, to, "o.start_at, o.id")
}

func (s *Store) getOverride(ctx context.Context, q Querier, id int64) (OverrideRecord, error) {
	all, err := selectOverrides(ctx, q, "o.id=$1", "o.id", id)
	if err != nil {
		return OverrideRecord{}, err
	}
	if len(all) == 0 {
		return OverrideRecord{}, ErrNotFound
	}
	return all[0], nil
}

// applyOrder orders overrides as they apply: the plan's first (they are part
// of the plan's base schedule), then people's in the order they were made.
const applyOrder = "CASE WHEN o.note = 'plan' AND o.created_by IS NULL THEN 0 ELSE 1 END, o.id"

func queryOverrides(ctx context.Context, q Querier, scheduleID int64, from, to time.Time, order string) ([]OverrideRecord, error) {
	where, args := "o.schedule_id=$1", []any{scheduleID}
	if !from.IsZero() {
		args = append(args, from.UnixMilli())
		where += " AND o.end_at > $" + strconv.Itoa(len(args))
	}
	if !to.IsZero() {
		args = append(args, to.UnixMilli())
		where += " AND o.start_at < $" + strconv.Itoa(len(args))
	}
	return selectOverrides(ctx, q, where, order, args...)
}

func selectOverrides(ctx context.Context, q Querier, where, order string, args ...any) ([]OverrideRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT o.id, o.schedule_id, o.start_at, o.end_at, o.user_id, COALESCE(u.username, ''), o.mode,
		COALESCE(o.replaces_user_id, 0), COALESCE(r.username, ''), o.note, COALESCE(o.created_by, 0), o.created_at, s.time_zone
		FROM schedule_overrides o JOIN schedules s ON s.id = o.schedule_id
		LEFT JOIN users u ON u.id = o.user_id LEFT JOIN users r ON r.id = o.replaces_user_id
		WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	defer rows.Close()
	out := []OverrideRecord{}
	for rows.Next() {
		var o OverrideRecord
		var start, end, created int64
		var zone string
		if err := rows.Scan(&o.ID, &o.ScheduleID, &start, &end, &o.UserID, &o.Username, &o.Mode,
			&o.ReplacesUserID, &o.ReplacesUsername, &o.Note, &o.CreatedBy, &created, &zone); err != nil {
			return nil, fmt.Errorf("list overrides: %w", err)
		}
		tz, err := time.LoadLocation(zone)
		if err != nil {
			tz = time.UTC
		}
		o.Start, o.End, o.CreatedAt = fromMs(start, tz), fromMs(end, tz), time.UnixMilli(created).UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// ShiftRecord is a period during which a user is continuously on call in a
// schedule.
type ShiftRecord struct {
	ScheduleID   int64     `json:"schedule_id"`
	ScheduleSlug string    `json:"schedule_slug"`
	ScheduleName string    `json:"schedule_name"`
	UserID       int64     `json:"user_id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
}

// checkOnCall reports a FieldError unless user is on call some time in [from, to)
// of schedule scheduleID.
func checkOnCall(ctx context.Context, q Querier, field string, scheduleID, user int64, from, to time.Time) error {
	if !to.After(from) {
		return &FieldError{field, "end must be after start"}
	}
	if to.Sub(from) > MaxOverrideSpan {
		return &FieldError{field, "an override lasts at most 90 days"}
	}
	sched, _, err := loadSchedule(ctx, q, "id=$1", []any{scheduleID}, from, to)
	if err != nil {
		return err
	}
	for _, sh := range sched.Shifts(from, to) {
		if sh.User == userString(user) {
			return nil
		}
	}
	return &FieldError{field, fmt.Sprintf("user %d is not on call then", user)}
}

// TakeShift puts userID on call instead of sh.UserID during [sh.Start, sh.End)
// of schedule sh.ScheduleID (a replace override). sh.UserID must be on call
// some time in that range.
func (s *Store) TakeShift(ctx context.Context, userID int64, sh ShiftRecord, by int64, note string) (OverrideRecord, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := scheduleSource(ctx, tx, sh.ScheduleID); err != nil {
			return err
		}
		if err := checkOnCall(ctx, tx, "shift", sh.ScheduleID, sh.UserID, sh.Start, sh.End); err != nil {
			return err
		}
		var err error
		id, err = s.addOverride(ctx, tx, OverrideRecord{ScheduleID: sh.ScheduleID, Start: sh.Start, End: sh.End,
			UserID: userID, Mode: ModeReplace, ReplacesUserID: sh.UserID, Note: note, CreatedBy: by})
		return err
	})
	if err != nil {
		return OverrideRecord{}, err
	}
	return s.getOverride(ctx, s.DB.R, id)
}

// CoverRange puts userID alone on call in schedule scheduleID during [from, to)
// (an "all" override), e.g. covering for everyone during a holiday.
func (s *Store) CoverRange(ctx context.Context, scheduleID, userID int64, from, to time.Time, by int64, note string) (OverrideRecord, error) {
	return s.AddOverride(ctx, OverrideRecord{ScheduleID: scheduleID, Start: from, End: to, UserID: userID,
		Mode: ModeAll, Note: note, CreatedBy: by})
}

// Swap trades two shifts in one transaction: b.UserID takes shift a and
// a.UserID takes shift b (two replace overrides, possibly in two schedules).
func (s *Store) Swap(ctx context.Context, a, b ShiftRecord, by int64, note string) ([]OverrideRecord, error) {
	if a.UserID == b.UserID {
		return nil, &FieldError{"b.user_id", "a swap needs two different people"}
	}
	var ids []int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for i, sh := range []ShiftRecord{a, b} {
			if _, err := scheduleSource(ctx, tx, sh.ScheduleID); err != nil {
				return err
			}
			field := []string{"a", "b"}[i]
			if err := checkOnCall(ctx, tx, field, sh.ScheduleID, sh.UserID, sh.Start, sh.End); err != nil {
				return err
			}
		}
		for i, sh := range []ShiftRecord{a, b} {
			other := []int64{b.UserID, a.UserID}[i]
			id, err := s.addOverride(ctx, tx, OverrideRecord{ScheduleID: sh.ScheduleID, Start: sh.Start, End: sh.End,
				UserID: other, Mode: ModeReplace, ReplacesUserID: sh.UserID, Note: note, CreatedBy: by})
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{[]string{"a", "b"}[i] + "." + fe.Field, fe.Msg}
			} else if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]OverrideRecord, 0, len(ids))
	for _, id := range ids {
		o, err := s.getOverride(ctx, s.DB.R, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// ---- evaluation ----

// toSchedule builds the pure schedule of r with overrides ovs (in apply order).
// Users are decimal user ids; the schedule ID is the decimal schedule id.
func toSchedule(r ScheduleRecord, ovs []OverrideRecord) (*Schedule, error) {
	tz, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", r.Slug, err)
	}
	s := &Schedule{ID: strconv.FormatInt(r.ID, 10), TZ: tz}
	for _, l := range r.Layers {
		layer := Layer{Name: l.Name, Rotation: Rotation{Start: l.Start, ShiftLength: l.ShiftLength}}
		for _, m := range l.Members {
			layer.Rotation.Members = append(layer.Rotation.Members, userString(m))
		}
		for _, w := range l.Restrict {
			win, err := w.window()
			if err != nil {
				return nil, fmt.Errorf("schedule %s: layer %d: %w", r.Slug, l.ID, err)
			}
			layer.Restrict = append(layer.Restrict, win)
		}
		s.Layers = append(s.Layers, layer)
	}
	for _, o := range ovs {
		ov := Override{Start: o.Start, End: o.End, User: userString(o.UserID)}
		switch o.Mode {
		case ModeAll:
			ov.Replaces = ReplaceAll
		case ModeReplace:
			ov.Replaces = userString(o.ReplacesUserID)
		}
		s.Overrides = append(s.Overrides, ov)
	}
	return s, nil
}

// loadSchedule reads one schedule and its overrides overlapping [from, to)
// (zero sides open).
func loadSchedule(ctx context.Context, q Querier, where string, args []any, from, to time.Time) (*Schedule, ScheduleRecord, error) {
	r, err := oneSchedule(ctx, q, where, args...)
	if err != nil {
		return nil, r, err
	}
	ovs, err := queryOverrides(ctx, q, r.ID, from, to, applyOrder)
	if err != nil {
		return nil, r, err
	}
	s, err := toSchedule(r, ovs)
	return s, r, err
}

// Load builds the pure schedule of schedule id with all its overrides. Users
// in it are decimal user ids (see UserIDs); its ID is the decimal schedule id.
func Load(ctx context.Context, q Querier, id int64) (*Schedule, error) {
	s, _, err := loadSchedule(ctx, q, "id=$1", []any{id}, time.Time{}, time.Time{})
	return s, err
}

// LoadBySlug is Load for the schedule with slug.
func LoadBySlug(ctx context.Context, q Querier, slug string) (*Schedule, error) {
	s, _, err := loadSchedule(ctx, q, "slug=$1", []any{slug}, time.Time{}, time.Time{})
	return s, err
}

// UserIDs converts the users of a loaded schedule (decimal ids) to ids.
func UserIDs(users []string) []int64 {
	out := make([]int64, 0, len(users))
	for _, u := range users {
		if id := userID(u); id != 0 {
			out = append(out, id)
		}
	}
	return out
}

// OnCallIDs returns the ids of the users on call at t in the schedule with
// slug (the escalation engine's "page this schedule").
func OnCallIDs(ctx context.Context, q Querier, slug string, t time.Time) ([]int64, error) {
	s, _, err := loadSchedule(ctx, q, "slug=$1", []any{slug}, t, time.Time{})
	if err != nil {
		return nil, err
	}
	return UserIDs(s.OnCallAt(t)), nil
}

type userName struct{ username, display string }

// userNames resolves user ids to names; unknown ids are left out.
func userNames(ctx context.Context, q Querier, ids []int64) (map[int64]userName, error) {
	out := map[int64]userName{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT id, username, display_name FROM users WHERE id IN (`+placeholders(1, n)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("resolve users: %w", err)
		}
		for rows.Next() {
			var id int64
			var u userName
			if err := rows.Scan(&id, &u.username, &u.display); err != nil {
				rows.Close()
				return nil, fmt.Errorf("resolve users: %w", err)
			}
			out[id] = u
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("resolve users: %w", err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// OnCallUser is someone on call now, until the end of their current
// continuous shift (zero when that is more than two years away).
type OnCallUser struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Until       time.Time `json:"until"`
}

// OnCallNow is OnCallAt the store's current time.
func (s *Store) OnCallNow(ctx context.Context, scheduleID int64) ([]OnCallUser, error) {
	return s.OnCallAt(ctx, scheduleID, s.now())
}

// OnCallAt returns who is on call at t in schedule scheduleID, in the order of
// the schedule (layer user first, then added users).
func (s *Store) OnCallAt(ctx context.Context, scheduleID int64, t time.Time) ([]OnCallUser, error) {
	sched, rec, err := loadSchedule(ctx, s.DB.R, "id=$1", []any{scheduleID}, t, time.Time{})
	if err != nil {
		return nil, err
	}
	users := sched.OnCallAt(t)
	out := make([]OnCallUser, 0, len(users))
	if len(users) == 0 {
		return out, nil
	}
	until := map[string]time.Time{}
	longest := time.Duration(0)
	for _, l := range rec.Layers {
		longest = max(longest, l.ShiftLength)
	}
	const horizonCap = 2 * 366 * day
	for h := max(2*longest, 2*day); len(until) < len(users); h *= 4 {
		h = min(h, horizonCap)
		end := t.Add(h)
		for _, sh := range sched.Shifts(t, end) {
			if _, done := until[sh.User]; done || !sh.Start.Equal(t) || !slices.Contains(users, sh.User) {
				continue
			}
			if sh.End.Before(end) {
				until[sh.User] = sh.End
			} else if h == horizonCap {
				until[sh.User] = time.Time{}
			}
		}
		if h == horizonCap {
			break
		}
	}
	names, err := userNames(ctx, s.DB.R, UserIDs(users))
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		id := userID(u)
		n := names[id]
		out = append(out, OnCallUser{UserID: id, Username: n.username, DisplayName: n.display, Until: until[u]})
	}
	return out, nil
}

func checkRange(from, to time.Time) error {
	switch {
	case from.IsZero():
		return &FieldError{"from", "is required"}
	case !to.After(from):
		return &FieldError{"to", "must be after from"}
	case to.Sub(from) > MaxShiftRange:
		return &FieldError{"to", "the range spans at most 366 days"}
	}
	return nil
}

// shiftRecords converts the shifts of sched in [from, to), keeping only user
// when it is non-zero, resolving names.
func shiftRecords(ctx context.Context, q Querier, rec ScheduleRecord, sched *Schedule, from, to time.Time, user int64) ([]ShiftRecord, error) {
	var out []ShiftRecord
	var ids []int64
	for _, sh := range sched.Shifts(from, to) {
		id := userID(sh.User)
		if user != 0 && id != user {
			continue
		}
		out = append(out, ShiftRecord{ScheduleID: rec.ID, ScheduleSlug: rec.Slug, ScheduleName: rec.DisplayName(),
			UserID: id, Start: sh.Start, End: sh.End})
		ids = append(ids, id)
	}
	names, err := userNames(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		n := names[out[i].UserID]
		out[i].Username, out[i].DisplayName = n.username, n.display
	}
	return out, nil
}

// ScheduleShifts returns the shifts of schedule id in [from, to) (at most 366
// days), clipped to it, by start.
func (s *Store) ScheduleShifts(ctx context.Context, id int64, from, to time.Time) ([]ShiftRecord, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	sched, rec, err := loadSchedule(ctx, s.DB.R, "id=$1", []any{id}, from, to)
	if err != nil {
		return nil, err
	}
	out, err := shiftRecords(ctx, s.DB.R, rec, sched, from, to, 0)
	if out == nil && err == nil {
		out = []ShiftRecord{}
	}
	return out, err
}

// UserShifts returns the shifts of userID in [from, to) (at most 366 days)
// across every schedule they appear in, by start then schedule slug.
func (s *Store) UserShifts(ctx context.Context, userID int64, from, to time.Time) ([]ShiftRecord, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	q := s.DB.R
	var one int
	if err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id=$1`, userID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	ids, err := userScheduleIDs(ctx, q, userID, from, to)
	if err != nil {
		return nil, err
	}
	out := []ShiftRecord{}
	for _, id := range ids {
		sched, rec, err := loadSchedule(ctx, q, "id=$1", []any{id}, from, to)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		shs, err := shiftRecords(ctx, q, rec, sched, from, to, userID)
		if err != nil {
			return nil, err
		}
		out = append(out, shs...)
	}
	slices.SortStableFunc(out, func(a, b ShiftRecord) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ScheduleSlug, b.ScheduleSlug)
	})
	return out, nil
}

// userScheduleIDs returns the schedules with userID in a layer or in an
// override overlapping [from, to).
func userScheduleIDs(ctx context.Context, q Querier, userID int64, from, to time.Time) ([]int64, error) {
	var ids []int64
	rows, err := q.QueryContext(ctx, `SELECT schedule_id, members FROM schedule_layers`)
	if err != nil {
		return nil, fmt.Errorf("find user schedules: %w", err)
	}
	for rows.Next() {
		var id int64
		var members string
		if err := rows.Scan(&id, &members); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find user schedules: %w", err)
		}
		var ms []int64
		if json.Unmarshal([]byte(members), &ms) == nil && slices.Contains(ms, userID) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find user schedules: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT DISTINCT schedule_id FROM schedule_overrides WHERE user_id=$1 AND end_at > $2 AND start_at < $3`,
		userID, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("find user schedules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find user schedules: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find user schedules: %w", err)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// ---- iCal feeds ----

// ICalPast and ICalFuture bound the shifts of the iCal feeds around now.
const (
	ICalPast   = 7 * day
	ICalFuture = 60 * day
)

// ensureSecret returns the secret column of table row id, creating it when
// empty; rotate replaces it.
func (s *Store) ensureSecret(ctx context.Context, table string, id int64, rotate bool) (string, error) {
	if !rotate {
		var sec string
		err := s.DB.R.QueryRowContext(ctx, `SELECT ical_secret FROM `+table+` WHERE id=$1`, id).Scan(&sec)
		if errors.Is(err, sql.ErrNoRows) {
			return "", ErrNotFound
		}
		if err != nil {
			return "", fmt.Errorf("read ical secret: %w", err)
		}
		if sec != "" {
			return sec, nil
		}
	}
	var sec string
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		cond := ` AND ical_secret=''`
		if rotate {
			cond = ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET ical_secret=$1 WHERE id=$2`+cond, newSecret(), id); err != nil {
			return fmt.Errorf("set ical secret: %w", err)
		}
		err := tx.QueryRowContext(ctx, `SELECT ical_secret FROM `+table+` WHERE id=$1`, id).Scan(&sec)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	return sec, err
}

// ScheduleICalSecret returns the secret of the schedule's iCal feed, creating
// it on first use.
func (s *Store) ScheduleICalSecret(ctx context.Context, id int64) (string, error) {
	return s.ensureSecret(ctx, "schedules", id, false)
}

// RotateScheduleICalSecret replaces the schedule's iCal secret; the old feed
// URL stops working.
func (s *Store) RotateScheduleICalSecret(ctx context.Context, id int64) (string, error) {
	return s.ensureSecret(ctx, "schedules", id, true)
}

// ScheduleByICalSecret returns the schedule whose feed secret is secret, or
// ErrNotFound.
func (s *Store) ScheduleByICalSecret(ctx context.Context, secret string) (ScheduleRecord, error) {
	if !secretRe.MatchString(secret) {
		return ScheduleRecord{}, ErrNotFound
	}
	return oneSchedule(ctx, s.DB.R, "ical_secret=$1", secret)
}

// UserICalSecret returns the secret of the user's personal iCal feed,
// creating it on first use.
func (s *Store) UserICalSecret(ctx context.Context, userID int64) (string, error) {
	return s.ensureSecret(ctx, "users", userID, false)
}

// RotateUserICalSecret replaces the user's iCal secret.
func (s *Store) RotateUserICalSecret(ctx context.Context, userID int64) (string, error) {
	return s.ensureSecret(ctx, "users", userID, true)
}

// UserByICalSecret returns the id of the enabled user whose feed secret is
// secret, or ErrNotFound.
func (s *Store) UserByICalSecret(ctx context.Context, secret string) (int64, error) {
	if !secretRe.MatchString(secret) {
		return 0, ErrNotFound
	}
	var id int64
	var disabled bool
	err := s.DB.R.QueryRowContext(ctx, `SELECT id, disabled FROM users WHERE ical_secret=$1`, secret).Scan(&id, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && disabled) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("look up ical secret: %w", err)
	}
	return id, nil
}

// ScheduleICal renders the schedule's shifts from now-7d to now+60d as an
// iCalendar feed with usernames as names.
func (s *Store) ScheduleICal(ctx context.Context, id int64, now time.Time) ([]byte, error) {
	from, to := now.Add(-ICalPast), now.Add(ICalFuture)
	sched, rec, err := loadSchedule(ctx, s.DB.R, "id=$1", []any{id}, from, to)
	if err != nil {
		return nil, err
	}
	recs, err := shiftRecords(ctx, s.DB.R, rec, sched, from, to, 0)
	if err != nil {
		return nil, err
	}
	shifts := make([]Shift, len(recs))
	for i, r := range recs {
		name := r.Username
		if name == "" {
			name = fmt.Sprintf("user %d", r.UserID)
		}
		shifts[i] = Shift{User: name, Start: r.Start, End: r.End}
	}
	return ICal(sched, shifts, rec.DisplayName(), now), nil
}

// UserICal renders the user's shifts in every schedule from now-7d to now+60d
// as an iCalendar feed; each event is named after its schedule.
func (s *Store) UserICal(ctx context.Context, userID int64, now time.Time) ([]byte, error) {
	recs, err := s.UserShifts(ctx, userID, now.Add(-ICalPast), now.Add(ICalFuture))
	if err != nil {
		return nil, err
	}
	names, err := userNames(ctx, s.DB.R, []int64{userID})
	if err != nil {
		return nil, err
	}
	// Name events after their schedule, with the slug when names clash.
	byName := map[string]map[int64]bool{}
	for _, r := range recs {
		if byName[r.ScheduleName] == nil {
			byName[r.ScheduleName] = map[int64]bool{}
		}
		byName[r.ScheduleName][r.ScheduleID] = true
	}
	shifts := make([]Shift, len(recs))
	for i, r := range recs {
		label := r.ScheduleName
		if len(byName[label]) > 1 {
			label += " (" + r.ScheduleSlug + ")"
		}
		shifts[i] = Shift{User: label, Start: r.Start, End: r.End}
	}
	user := names[userID].username
	return ICal(&Schedule{ID: "user-" + strconv.FormatInt(userID, 10)}, shifts, "On call: "+user, now), nil
}
