package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/store"
)

// Outcome says what one event did.
type Outcome string

const (
	Created      Outcome = "created"      // a new alert (or a resolved one firing again)
	Deduplicated Outcome = "deduplicated" // a repeat of a firing alert
	Acked        Outcome = "acknowledged"
	ResolvedOut  Outcome = "resolved"
	Ignored      Outcome = "ignored" // acknowledge/resolve of an unknown or already resolved alert
)

// Result is what happened to one event, in the order submitted.
type Result struct {
	AlertID     int64
	IncidentID  int64 // 0 when the alert opened no incident (info) or was ignored
	Fingerprint string
	Outcome     Outcome
	SilencedBy  int64 // the maintenance window the alert was raised in (no incident)
}

// ErrStopped is returned by Submit once the writer has shut down.
var ErrStopped = errors.New("alert writer stopped")

// Writer is the single writer of the ingest path. Requests queue on a channel; the
// writer takes everything queued, commits it in one transaction (group commit) and
// only then answers each request, so a 2xx always means durable.
type Writer struct {
	DB  *store.DB
	Now func() time.Time
	// Committed, when set, is called after each commit with the incidents touched.
	Committed func(incidentIDs []int64)
	// MaxBatch bounds the events in one transaction (default 5000).
	MaxBatch int

	reqs chan *request
	done chan struct{}
}

type request struct {
	ctx     context.Context
	events  []Event
	results []Result
	err     error
	done    chan struct{}
}

// Start runs the writer until ctx is cancelled; queued requests are still committed.
func (w *Writer) Start(ctx context.Context) {
	w.reqs = make(chan *request, 1024)
	w.done = make(chan struct{})
	go w.loop(ctx)
}

// Wait blocks until the writer has stopped after its context ended.
func (w *Writer) Wait() { <-w.done }

// Submit stores events and returns once they are committed.
func (w *Writer) Submit(ctx context.Context, events []Event) ([]Result, error) {
	r := &request{ctx: ctx, events: events, done: make(chan struct{})}
	select {
	case <-w.done:
		return nil, ErrStopped
	default:
	}
	select {
	case w.reqs <- r:
	case <-w.done:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued the request is committed or failed; wait for that answer even if the
	// caller goes away, so nothing is reported lost that was in fact stored.
	select {
	case <-r.done:
	case <-w.done:
		select {
		case <-r.done: // committed while the writer was draining
		default:
			return nil, ErrStopped // queued after the final drain: never written
		}
	}
	return r.results, r.err
}

func (w *Writer) loop(ctx context.Context) {
	defer close(w.done)
	maxBatch := w.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 5000
	}
	for {
		var first *request
		select {
		case first = <-w.reqs:
		case <-ctx.Done():
			// Drain what is already queued, then stop.
			for {
				select {
				case r := <-w.reqs:
					w.commit([]*request{r})
				default:
					return
				}
			}
		}
		batch := []*request{first}
		n := len(first.events)
	fill:
		for n < maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
				n += len(r.events)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

// commit applies a batch in one transaction. If the transaction fails, each request
// is retried alone so one bad request cannot fail its neighbours.
func (w *Writer) commit(batch []*request) {
	touched, err := w.apply(batch)
	if store.IsUniqueViolation(err) {
		// Another replica stored one of these alerts first; a retry reads it and updates it.
		touched, err = w.apply(batch)
	}
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			w.commit([]*request{r})
		}
		return
	}
	if err == nil && len(touched) > 0 && w.Committed != nil {
		w.Committed(touched)
	}
	for _, r := range batch {
		if err != nil {
			r.results, r.err = nil, err
		}
		close(r.done)
	}
}

func (w *Writer) apply(batch []*request) ([]int64, error) {
	now := w.now()
	var a *applier
	err := w.DB.Tx(context.Background(), func(tx *sql.Tx) error {
		a = newApplier(tx, now, w.DB.Dialect)
		defer a.close()
		if err := a.prefetch(batch); err != nil {
			return err
		}
		for _, r := range batch {
			r.results = make([]Result, len(r.events))
			for i := range r.events {
				res, err := a.event(&r.events[i])
				if err != nil {
					return err
				}
				r.results[i] = res
				if a.lastNew != nil {
					a.fixups = append(a.fixups, fixup{&r.results[i], a.lastNew})
					a.lastNew = nil
				}
			}
		}
		return a.finish()
	})
	if err != nil {
		return nil, err
	}
	return a.touchedIDs(), nil
}

// stored is the part of an alert row the applier needs.
type stored struct {
	id         int64
	status     Status
	incidentID int64
	pending    bool // inserted at the next flush (PostgreSQL); id is 0 until then
	silenced   bool // raised inside a maintenance window
}

type openIncident struct {
	inc  incident.Incident
	rank int
}

// alertKey identifies an alert: its service and fingerprint.
type alertKey struct {
	service     int64
	fingerprint string
}

// applier applies events inside one transaction, caching what it has read.
type applier struct {
	ctx     context.Context
	tx      *sql.Tx
	dialect store.Dialect
	now     time.Time
	alerts  map[alertKey]*stored
	absent  map[alertKey]bool // known not to be stored (see prefetch)
	open    map[int64]*openIncident
	auto    map[int64]bool
	sevLvl  map[Severity]string
	ranks   map[string]int // level → rank, read once per transaction
	planVer int64
	touched map[int64]struct{}
	stmts   map[string]*sql.Stmt

	// On PostgreSQL new alerts and timeline entries are written in bulk, one
	// statement per kind and batch, instead of one round trip per row.
	bulk    bool
	newRows []newAlert
	entries []pendingEntry
	fixups  []fixup
	lastNew *stored // set by event when its result names a pending alert

	windows       []*maintenance.Window // maintenance windows, read once per transaction
	windowsLoaded bool
}

// silencedBy returns the maintenance window that covers ev now, or 0.
func (a *applier) silencedBy(ev *Event) (int64, error) {
	if !a.windowsLoaded {
		ws, err := maintenance.All(a.ctx, a.tx)
		if err != nil {
			return 0, err
		}
		a.windows, a.windowsLoaded = ws, true
	}
	if len(a.windows) == 0 {
		return 0, nil
	}
	if w := maintenance.Silencing(a.windows, a.now, ev.ServiceID, ev.Labels); w != nil {
		return w.ID, nil
	}
	return 0, nil
}

// unsilence attaches a still-firing alert whose window ended to an incident.
func (a *applier) unsilence(ev *Event, cur *stored, res Result) (Result, error) {
	inc, err := a.incidentFor(ev)
	if err != nil || inc == nil {
		return res, err
	}
	if _, err := a.tx.ExecContext(a.ctx, `UPDATE alerts SET incident_id = $1, silenced_by = 0 WHERE id = $2`, inc.inc.ID, cur.id); err != nil {
		return res, fmt.Errorf("attach alert: %w", err)
	}
	cur.incidentID, cur.silenced = inc.inc.ID, false
	res.IncidentID, res.Outcome = inc.inc.ID, Created
	data, _ := json.Marshal(map[string]any{"alert_id": cur.id, "fingerprint": ev.Fingerprint, "severity": ev.Severity, "labels": nonNil(ev.Labels)})
	return res, a.entry(inc.inc.ID, incident.KindAlertAttached, string(ev.Source), ev.Summary, data)
}

type newAlert struct {
	s                                      *stored
	serviceID, incidentID                  int64
	fingerprint, severity, summary, source string
	labels, details                        string
}

type pendingEntry struct {
	incidentID        int64
	kind, actor, body string
	data              func() string
}

type fixup struct {
	res *Result
	s   *stored
}

func newApplier(tx *sql.Tx, now time.Time, dialect store.Dialect) *applier {
	return &applier{ctx: context.Background(), tx: tx, dialect: dialect, now: now, alerts: map[alertKey]*stored{}, absent: map[alertKey]bool{},
		open: map[int64]*openIncident{}, auto: map[int64]bool{}, ranks: map[string]int{}, touched: map[int64]struct{}{}, stmts: map[string]*sql.Stmt{},
		bulk: dialect == store.Postgres}
}

func (a *applier) close() {
	for _, s := range a.stmts {
		s.Close()
	}
}

// stmt prepares a statement once per transaction.
func (a *applier) stmt(q string) (*sql.Stmt, error) {
	if s, ok := a.stmts[q]; ok {
		return s, nil
	}
	s, err := a.tx.PrepareContext(a.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	a.stmts[q] = s
	return s, nil
}

func (a *applier) touchedIDs() []int64 {
	out := make([]int64, 0, len(a.touched))
	for id := range a.touched {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

const (
	qFindAlert   = `SELECT id, status, COALESCE(incident_id, 0), silenced_by <> 0 FROM alerts WHERE service_id=$1 AND fingerprint=$2`
	qInsertAlert = `INSERT INTO alerts (service_id, fingerprint, status, severity, summary, source, labels, details, incident_id, first_seen, last_seen, repeat_count)
		VALUES ($1, $2, 'firing', $3, $4, $5, $6, $7, $8, $9, $9, 1) RETURNING id`
	qRepeat = `UPDATE alerts SET last_seen=$1, repeat_count=repeat_count+1, severity=$2, summary=$3, labels=$4, details=$5 WHERE id=$6`
	qRefire = `UPDATE alerts SET status='firing', last_seen=$1, repeat_count=repeat_count+1, severity=$2, summary=$3, labels=$4, details=$5,
		incident_id=$6, acknowledged_at=0, resolved_at=0 WHERE id=$7`
	// qBulk* are PostgreSQL's one-statement-per-batch inserts; WITH ORDINALITY and
	// ORDER BY keep the rows (and so the timeline ids) in the order they happened.
	qBulkAlerts = `INSERT INTO alerts (service_id, fingerprint, status, severity, summary, source, labels, details, incident_id, first_seen, last_seen, repeat_count)
		SELECT u.s, u.f, 'firing', u.sev, u.sm, u.src, u.l, u.d, NULLIF(u.i, 0), $9, $9, 1
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) WITH ORDINALITY AS u(s, f, sev, sm, src, l, d, i, n)
		ORDER BY u.n RETURNING id, service_id, fingerprint`
	qBulkEntries = `INSERT INTO timeline (incident_id, at, kind, actor_id, actor, body, data)
		SELECT u.i, $2, u.k, NULL, u.a, u.b, u.d
		FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(i, k, a, b, d, n)
		ORDER BY u.n`
	qEntry = `INSERT INTO timeline (incident_id, at, kind, actor_id, actor, body, data) VALUES ($1, $2, $3, NULL, $4, $5, $6)`
	// qPrefetch* find the stored alerts of one service among a list of fingerprints.
	qPrefetchSQLite   = `SELECT id, status, COALESCE(incident_id, 0), fingerprint, silenced_by <> 0 FROM alerts WHERE service_id=$1 AND fingerprint IN (SELECT value FROM json_each($2))`
	qPrefetchPostgres = `SELECT id, status, COALESCE(incident_id, 0), fingerprint, silenced_by <> 0 FROM alerts WHERE service_id=$1 AND fingerprint = ANY($2::text[])`
	// qIncident reads what the writer needs of an incident; unlike incident.GetTx it
	// does not count the incident's alerts, which grows with the incident.
	qIncident = `SELECT id, status, level, COALESCE(service_id, 0), updated_at, acknowledged_at, resolved_at, closed_at FROM incidents`
)

// prefetch reads the stored alerts a batch's events name with one query per
// service and chunk (instead of one per event), so that find answers from memory.
func (a *applier) prefetch(batch []*request) error {
	byService := map[int64][]string{}
	for _, r := range batch {
		for i := range r.events {
			ev := &r.events[i]
			k := alertKey{ev.ServiceID, ev.Fingerprint}
			if ev.Fingerprint == "" || a.absent[k] {
				continue
			}
			a.absent[k] = true // until found below
			byService[ev.ServiceID] = append(byService[ev.ServiceID], ev.Fingerprint)
		}
	}
	q := qPrefetchSQLite
	if a.dialect == store.Postgres {
		q = qPrefetchPostgres
	}
	st, err := a.stmt(q)
	if err != nil {
		return err
	}
	const chunk = 1000
	for svc, fps := range byService {
		for len(fps) > 0 {
			part := fps[:min(chunk, len(fps))]
			fps = fps[len(part):]
			var list any = part // PostgreSQL: a text[] parameter
			if a.dialect != store.Postgres {
				b, err := json.Marshal(part) // SQLite: a JSON array read by json_each
				if err != nil {
					return err
				}
				list = string(b)
			}
			if err := a.readStored(st, svc, list); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *applier) readStored(st *sql.Stmt, svc int64, list any) error {
	rows, err := st.QueryContext(a.ctx, svc, list)
	if err != nil {
		return fmt.Errorf("find alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s := &stored{}
		var status, fp string
		if err := rows.Scan(&s.id, &status, &s.incidentID, &fp, &s.silenced); err != nil {
			return fmt.Errorf("find alerts: %w", err)
		}
		s.status = Status(status)
		k := alertKey{svc, fp}
		delete(a.absent, k)
		a.alerts[k] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find alerts: %w", err)
	}
	return nil
}

func (a *applier) find(ev *Event) (*stored, error) {
	key := alertKey{ev.ServiceID, ev.Fingerprint}
	if s, ok := a.alerts[key]; ok {
		return s, nil
	}
	if a.absent[key] {
		return nil, nil
	}
	st, err := a.stmt(qFindAlert)
	if err != nil {
		return nil, err
	}
	s := &stored{}
	var status string
	err = st.QueryRowContext(a.ctx, ev.ServiceID, ev.Fingerprint).Scan(&s.id, &status, &s.incidentID, &s.silenced)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find alert: %w", err)
	}
	s.status = Status(status)
	a.alerts[key] = s
	return s, nil
}

func (a *applier) event(ev *Event) (Result, error) {
	if ev.Fingerprint == "" {
		return Result{}, errors.New("event without fingerprint")
	}
	res := Result{Fingerprint: ev.Fingerprint}
	cur, err := a.find(ev)
	if err != nil {
		return res, err
	}
	if cur != nil && cur.pending {
		// This batch created the alert and now needs its id.
		if err := a.flushAlerts(); err != nil {
			return res, err
		}
	}
	at := a.now
	actor := string(ev.Source)
	switch ev.Action {
	case Trigger:
		labels, _ := json.Marshal(nonNil(ev.Labels))
		details := string(ev.Details)
		if details == "" || details == "null" {
			details = "{}"
		}
		silence, err := a.silencedBy(ev)
		if err != nil {
			return res, err
		}
		if cur != nil && cur.status != Resolved {
			st, err := a.stmt(qRepeat)
			if err != nil {
				return res, err
			}
			if _, err := st.ExecContext(a.ctx, ms(at), string(ev.Severity), ev.Summary, string(labels), details, cur.id); err != nil {
				return res, fmt.Errorf("update alert: %w", err)
			}
			res.AlertID, res.IncidentID, res.Outcome = cur.id, cur.incidentID, Deduplicated
			if cur.incidentID == 0 && silence == 0 && cur.silenced {
				// Its maintenance window has ended and it still fires: now it
				// opens (or joins) an incident like any new alert.
				return a.unsilence(ev, cur, res)
			}
			return res, nil
		}
		var inc *openIncident
		if silence == 0 {
			if inc, err = a.incidentFor(ev); err != nil {
				return res, err
			}
		}
		var incID int64
		if inc != nil {
			incID = inc.inc.ID
		}
		if cur == nil && a.bulk && silence == 0 {
			cur = &stored{status: Firing, incidentID: incID, pending: true}
			a.newRows = append(a.newRows, newAlert{s: cur, serviceID: ev.ServiceID, incidentID: incID, fingerprint: ev.Fingerprint,
				severity: string(ev.Severity), summary: ev.Summary, source: string(ev.Source), labels: string(labels), details: details})
			a.alerts[alertKey{ev.ServiceID, ev.Fingerprint}] = cur
			delete(a.absent, alertKey{ev.ServiceID, ev.Fingerprint})
			a.lastNew = cur
		} else if cur == nil {
			st, err := a.stmt(qInsertAlert)
			if err != nil {
				return res, err
			}
			cur = &stored{}
			if err := st.QueryRowContext(a.ctx, ev.ServiceID, ev.Fingerprint, string(ev.Severity), ev.Summary, string(ev.Source),
				string(labels), details, nullID(incID), ms(at)).Scan(&cur.id); err != nil {
				return res, fmt.Errorf("insert alert: %w", err)
			}
			a.alerts[alertKey{ev.ServiceID, ev.Fingerprint}] = cur
			delete(a.absent, alertKey{ev.ServiceID, ev.Fingerprint})
		} else {
			st, err := a.stmt(qRefire)
			if err != nil {
				return res, err
			}
			if _, err := st.ExecContext(a.ctx, ms(at), string(ev.Severity), ev.Summary, string(labels), details, nullID(incID), cur.id); err != nil {
				return res, fmt.Errorf("refire alert: %w", err)
			}
		}
		cur.status, cur.incidentID = Firing, incID
		if silence != 0 || cur.silenced {
			if _, err := a.tx.ExecContext(a.ctx, `UPDATE alerts SET silenced_by = $1 WHERE id = $2`, silence, cur.id); err != nil {
				return res, fmt.Errorf("mark alert silenced: %w", err)
			}
			cur.silenced = silence != 0
		}
		res.AlertID, res.IncidentID, res.Outcome = cur.id, incID, Created
		res.SilencedBy = silence
		if inc != nil {
			s, fp, sev, lbl := cur, ev.Fingerprint, ev.Severity, nonNil(ev.Labels)
			data := func() string { // rendered once the alert has its id
				b, _ := json.Marshal(map[string]any{"alert_id": s.id, "fingerprint": fp, "severity": sev, "labels": lbl})
				return string(b)
			}
			if err := a.entryFunc(incID, incident.KindAlertAttached, actor, ev.Summary, data); err != nil {
				return res, err
			}
		}
		return res, nil

	case Acknowledge:
		if cur == nil || cur.status != Firing {
			if cur != nil {
				res.AlertID, res.IncidentID = cur.id, cur.incidentID
			}
			res.Outcome = Ignored
			return res, nil
		}
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE alerts SET status='acknowledged', acknowledged_at=$1, last_seen=$1 WHERE id=$2`, ms(at), cur.id); err != nil {
			return res, fmt.Errorf("acknowledge alert: %w", err)
		}
		cur.status = Acknowledged
		res.AlertID, res.IncidentID, res.Outcome = cur.id, cur.incidentID, Acked
		if cur.incidentID == 0 {
			return res, nil
		}
		if err := a.entry(cur.incidentID, incident.KindAlertAcknowledged, actor, ev.Summary, alertData(cur.id, ev.Fingerprint)); err != nil {
			return res, err
		}
		inc, err := a.incident(cur.incidentID)
		if err != nil || inc == nil {
			return res, err
		}
		if inc.inc.Status == incident.Triggered {
			if err := a.flushEntries(); err != nil {
				return res, err
			}
			if err := incident.SetStatus(a.ctx, a.tx, &inc.inc, incident.Acknowledged, incident.Actor{Name: actor}, "", at); err != nil {
				return res, err
			}
		}
		return res, nil

	case Resolve:
		if cur == nil || cur.status == Resolved {
			if cur != nil {
				res.AlertID, res.IncidentID = cur.id, cur.incidentID
			}
			res.Outcome = Ignored
			return res, nil
		}
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE alerts SET status='resolved', resolved_at=$1, last_seen=$1 WHERE id=$2`, ms(at), cur.id); err != nil {
			return res, fmt.Errorf("resolve alert: %w", err)
		}
		cur.status = Resolved
		res.AlertID, res.IncidentID, res.Outcome = cur.id, cur.incidentID, ResolvedOut
		if cur.incidentID == 0 {
			return res, nil
		}
		if err := a.entry(cur.incidentID, incident.KindAlertResolved, actor, ev.Summary, alertData(cur.id, ev.Fingerprint)); err != nil {
			return res, err
		}
		return res, a.maybeAutoResolve(cur.incidentID, ev.ServiceID, actor, at)
	}
	return res, fmt.Errorf("unknown action %q", ev.Action)
}

// maybeAutoResolve resolves an incident whose alerts have all resolved, when its
// service allows it.
func (a *applier) maybeAutoResolve(incidentID, serviceID int64, actor string, at time.Time) error {
	auto, err := a.autoResolve(serviceID)
	if err != nil || !auto {
		return err
	}
	inc, err := a.incident(incidentID)
	if err != nil || inc == nil || !inc.inc.Status.Open() {
		return err
	}
	// EXISTS over the two unresolved statuses seeks the (incident_id, status) index;
	// counting "status <> 'resolved'" read every alert of the incident, for every
	// resolve, which made resolving a large incident quadratic.
	if err := a.flushAlerts(); err != nil { // the batch's new alerts count too
		return err
	}
	var left bool
	if err := a.tx.QueryRowContext(a.ctx, `SELECT EXISTS (SELECT 1 FROM alerts WHERE incident_id=$1 AND status IN ('firing', 'acknowledged'))`, incidentID).Scan(&left); err != nil {
		return fmt.Errorf("find unresolved alerts: %w", err)
	}
	if left {
		return nil
	}
	if err := a.flushEntries(); err != nil {
		return err
	}
	if err := incident.SetStatus(a.ctx, a.tx, &inc.inc, incident.Resolved, incident.Actor{Name: actor}, "all alerts resolved", at); err != nil {
		return err
	}
	delete(a.open, serviceID)
	return nil
}

func (a *applier) autoResolve(serviceID int64) (bool, error) {
	if v, ok := a.auto[serviceID]; ok {
		return v, nil
	}
	var v bool
	if err := a.tx.QueryRowContext(a.ctx, `SELECT auto_resolve FROM services WHERE id=$1`, serviceID).Scan(&v); err != nil {
		return false, fmt.Errorf("read service: %w", err)
	}
	a.auto[serviceID] = v
	return v, nil
}

// incident returns a cached incident by id (any status).
func (a *applier) incident(id int64) (*openIncident, error) {
	for _, o := range a.open {
		if o.inc.ID == id {
			return o, nil
		}
	}
	inc, err := a.readIncident(`WHERE id=$1`, id)
	if err != nil || inc == nil {
		return nil, err
	}
	o := &openIncident{inc: *inc, rank: -1}
	if inc.Status.Open() && inc.ServiceID != 0 {
		if _, ok := a.open[inc.ServiceID]; !ok {
			a.open[inc.ServiceID] = o
		}
	}
	return o, nil
}

// incidentFor finds the open incident that groups a new alert on its service, or
// opens one. It returns nil when the alert's severity opens no incident.
func (a *applier) incidentFor(ev *Event) (*openIncident, error) {
	level, rank, err := a.levelFor(ev.Severity)
	if err != nil {
		return nil, err
	}
	if ev.Level != "" {
		r, err := a.levelRank(ev.Level)
		if err != nil {
			return nil, err
		}
		if r >= 0 {
			level, rank = ev.Level, r
		}
	}
	if level == "" {
		return nil, nil
	}
	o, ok := a.open[ev.ServiceID]
	if !ok {
		if a.dialect == store.Postgres {
			// Replicas sharing PostgreSQL each run a writer: serialise "find or open the
			// service's incident" per service so two replicas never open two incidents.
			if _, err := a.tx.ExecContext(a.ctx, `SELECT pg_advisory_xact_lock(7401, $1::int)`, int32(ev.ServiceID)); err != nil {
				return nil, fmt.Errorf("lock service: %w", err)
			}
		}
		inc, err := a.readIncident(`WHERE service_id=$1 AND status NOT IN ('resolved','closed') ORDER BY id DESC LIMIT 1`, ev.ServiceID)
		if err != nil {
			return nil, fmt.Errorf("find open incident: %w", err)
		}
		if inc != nil {
			o = &openIncident{inc: *inc, rank: -1}
			a.open[ev.ServiceID] = o
		}
	}
	if o != nil && o.inc.Status.Open() {
		if o.rank < 0 {
			if o.rank, err = a.levelRank(o.inc.Level); err != nil {
				return nil, err
			}
		}
		// A worse alert raises the incident's level; a milder one never lowers it.
		if o.rank >= 0 && rank < o.rank {
			if err := a.flushEntries(); err != nil {
				return nil, err
			}
			if err := incident.SetLevel(a.ctx, a.tx, &o.inc, level, incident.Actor{Name: string(ev.Source)}, ev.Summary, a.now); err != nil {
				return nil, err
			}
			o.rank = rank
		}
		return o, nil
	}
	inc := incident.Incident{Title: ev.Summary, Status: incident.Triggered, Level: level, Type: ev.Type, ServiceID: ev.ServiceID,
		Source: string(ev.Source), PlanVersionID: a.planVer, CreatedAt: a.now, UpdatedAt: a.now}
	if err := incident.Insert(a.ctx, a.tx, &inc); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"level": level, "plan_version_id": a.planVer, "severity": ev.Severity})
	if err := a.entry(inc.ID, incident.KindOpened, string(ev.Source), ev.Summary, data); err != nil {
		return nil, err
	}
	o = &openIncident{inc: inc, rank: rank}
	a.open[ev.ServiceID] = o
	return o, nil
}

// levelFor maps a severity to a level and its rank using the plan in force.
func (a *applier) levelFor(sev Severity) (string, int, error) {
	if a.sevLvl == nil {
		a.sevLvl = map[Severity]string{}
		rows, err := a.tx.QueryContext(a.ctx, `SELECT severity, level FROM severity_levels`)
		if err != nil {
			return "", 0, fmt.Errorf("read severity levels: %w", err)
		}
		for rows.Next() {
			var s, l string
			if err := rows.Scan(&s, &l); err != nil {
				rows.Close()
				return "", 0, err
			}
			a.sevLvl[Severity(s)] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", 0, err
		}
		if a.planVer, err = incident.LatestPlanVersion(a.ctx, a.tx); err != nil {
			return "", 0, err
		}
	}
	level, ok := a.sevLvl[sev]
	if !ok {
		level = DefaultLevels[sev]
	}
	if level == "" || strings.EqualFold(level, "none") {
		return "", 0, nil
	}
	rank, err := a.levelRank(level)
	if err != nil {
		return "", 0, err
	}
	if rank < 0 {
		rank = 1 << 20 // a level the plan no longer has sorts last
	}
	return level, rank, nil
}

// levelRank returns a level's rank (-1 when the plan has no such level), reading
// each level once per transaction.
func (a *applier) levelRank(level string) (int, error) {
	if r, ok := a.ranks[level]; ok {
		return r, nil
	}
	r, err := incident.LevelRank(a.ctx, a.tx, level)
	if err != nil {
		return 0, err
	}
	a.ranks[level] = r
	return r, nil
}

// readIncident reads the first incident matching where (nil when none) with the
// fields the writer uses and changes.
func (a *applier) readIncident(where string, args ...any) (*incident.Incident, error) {
	var inc incident.Incident
	var status string
	var updated, acked, resolved, closed int64
	err := a.tx.QueryRowContext(a.ctx, qIncident+" "+where, args...).Scan(&inc.ID, &status, &inc.Level, &inc.ServiceID, &updated, &acked, &resolved, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read incident: %w", err)
	}
	inc.Status = incident.Status(status)
	inc.UpdatedAt, inc.AcknowledgedAt, inc.ResolvedAt, inc.ClosedAt = fromMS(updated), fromMS(acked), fromMS(resolved), fromMS(closed)
	return &inc, nil
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// DefaultLevels is the severity→level mapping used when the plan has none.
var DefaultLevels = map[Severity]string{Critical: "P1", Error: "P2", Warning: "P3", Info: ""}

func (a *applier) entry(incidentID int64, kind, actor, body string, data []byte) error {
	if data == nil {
		data = []byte("{}")
	}
	d := string(data)
	return a.entryFunc(incidentID, kind, actor, body, func() string { return d })
}

// entryFunc appends a timeline entry whose data is rendered when it is written.
func (a *applier) entryFunc(incidentID int64, kind, actor, body string, data func() string) error {
	a.touched[incidentID] = struct{}{}
	if a.bulk {
		a.entries = append(a.entries, pendingEntry{incidentID, kind, actor, body, data})
		return nil
	}
	st, err := a.stmt(qEntry)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(a.ctx, incidentID, ms(a.now), kind, actor, body, data()); err != nil {
		return fmt.Errorf("append timeline: %w", err)
	}
	return nil
}

// flushAlerts inserts the batch's pending new alerts in one statement (PostgreSQL)
// and gives each its id.
func (a *applier) flushAlerts() error {
	if len(a.newRows) == 0 {
		return nil
	}
	n := len(a.newRows)
	svc, inc := make([]int64, n), make([]int64, n)
	fp, sev, sum, src, lbl, det := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	byKey := make(map[alertKey]*stored, n)
	for i, r := range a.newRows {
		svc[i], inc[i], fp[i], sev[i], sum[i], src[i], lbl[i], det[i] = r.serviceID, r.incidentID, r.fingerprint, r.severity, r.summary, r.source, r.labels, r.details
		byKey[alertKey{r.serviceID, r.fingerprint}] = r.s
	}
	a.newRows = a.newRows[:0]
	rows, err := a.tx.QueryContext(a.ctx, qBulkAlerts, svc, fp, sev, sum, src, lbl, det, inc, ms(a.now))
	if err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id, service int64
		var f string
		if err := rows.Scan(&id, &service, &f); err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		if s := byKey[alertKey{service, f}]; s != nil {
			s.id, s.pending = id, false
			got++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	if got != n {
		return fmt.Errorf("insert alerts: %d of %d rows came back", got, n)
	}
	return nil
}

// flushEntries writes the buffered timeline entries in order, in one statement
// (PostgreSQL). It runs before anything appends to a timeline directly, so ids keep
// the order in which things happened.
func (a *applier) flushEntries() error {
	if len(a.entries) == 0 {
		return nil
	}
	if err := a.flushAlerts(); err != nil { // entries name their alerts' ids
		return err
	}
	n := len(a.entries)
	inc := make([]int64, n)
	kind, actor, body, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range a.entries {
		inc[i], kind[i], actor[i], body[i], data[i] = e.incidentID, e.kind, e.actor, e.body, e.data()
	}
	a.entries = a.entries[:0]
	if _, err := a.tx.ExecContext(a.ctx, qBulkEntries, inc, ms(a.now), kind, actor, body, data); err != nil {
		return fmt.Errorf("append timeline: %w", err)
	}
	return nil
}

// finish stamps updated_at once on every incident the batch touched.
func (a *applier) finish() error {
	if err := a.flushEntries(); err != nil {
		return err
	}
	if err := a.flushAlerts(); err != nil {
		return err
	}
	for _, f := range a.fixups {
		f.res.AlertID = f.s.id
	}
	for id := range a.touched {
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE incidents SET updated_at=$1 WHERE id=$2 AND updated_at < $1`, ms(a.now), id); err != nil {
			return fmt.Errorf("touch incident: %w", err)
		}
	}
	return nil
}

func alertData(id int64, fp string) []byte {
	b, _ := json.Marshal(map[string]any{"alert_id": id, "fingerprint": fp})
	return b
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func ms(t time.Time) int64 { return t.UnixMilli() }
