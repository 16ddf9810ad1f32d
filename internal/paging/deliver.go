package paging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/notify"
)

// Notification states.
const (
	StatePending   = "pending"
	StateSending   = "sending"
	StateSent      = "sent"
	StateTemporary = "failed_temporary"
	StatePermanent = "failed_permanent"
	StateCancelled = "cancelled"
)

// leaseMargin is added to the send timeout: a row left "sending" longer than
// that (the leader died mid-send) is tried again.
const leaseMargin = 15 * time.Second

const claimBatch = 500

// job is one claimed notification.
type job struct {
	ID, IncidentID, UserID, MethodID, ChannelID int64
	Kind, StepKey, Key                          string
	Attempts                                    int
	Created                                     time.Time
}

func (j job) target() string {
	if j.MethodID != 0 {
		return fmt.Sprintf("m%d", j.MethodID)
	}
	return fmt.Sprintf("c%d", j.ChannelID)
}

// claim moves due notifications to "sending" with a lease.
func (e *Engine) claim(ctx context.Context, now time.Time, limit int) ([]job, error) {
	var jobs []job
	lease := now.Add(e.Options.Timeout + leaseMargin)
	err := e.DB.Tx(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(incident_id, 0), COALESCE(user_id, 0), COALESCE(contact_method_id, 0), COALESCE(channel_id, 0),
			kind, step_key, idem_key, attempts, created_at, state
			FROM notifications WHERE state IN ('pending', 'sending', 'failed_temporary') AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $2`, ms(now), limit)
		if err != nil {
			return err
		}
		var states []string
		for rows.Next() {
			var j job
			var created int64
			var state string
			if err := rows.Scan(&j.ID, &j.IncidentID, &j.UserID, &j.MethodID, &j.ChannelID, &j.Kind, &j.StepKey, &j.Key, &j.Attempts, &created, &state); err != nil {
				rows.Close()
				return err
			}
			j.Created = fromMS(created)
			jobs = append(jobs, j)
			states = append(states, state)
		}
		rows.Close()
		for i := range jobs {
			jobs[i].Attempts++
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET state = 'sending', attempts = $1, next_attempt_at = $2, lease_until = $2 WHERE id = $3 AND state = $4`,
				jobs[i].Attempts, ms(lease), jobs[i].ID, states[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return jobs, err
}

func (e *Engine) deliverDue(ctx context.Context, now time.Time, wait bool) error {
	for {
		// Claim no more than there are free senders, so the loop never waits
		// for one (escalations go on while slow targets time out) and nothing
		// claimed waits in "sending" for a sender. A sender that finishes
		// wakes the engine for the rest.
		free := cap(e.sem) - len(e.sem)
		if free == 0 {
			return nil
		}
		jobs, err := e.claim(ctx, now, min(free, claimBatch))
		if err != nil {
			return fmt.Errorf("claim notifications: %w", err)
		}
		// One message per destination: several pages due for the same
		// method or channel go out bundled.
		groups := map[string][]job{}
		var order []string
		for _, j := range jobs {
			t := j.target()
			if _, ok := groups[t]; !ok {
				order = append(order, t)
			}
			groups[t] = append(groups[t], j)
		}
		for _, t := range order {
			g := groups[t]
			select {
			case e.sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			e.sends.Add(1)
			go func() {
				defer e.sends.Done()
				defer func() { <-e.sem }()
				// A send in flight finishes even when the engine is stopping.
				sctx := context.WithoutCancel(ctx)
				if err := e.deliverGroup(sctx, g); err != nil {
					e.Log.Error("deliver", "err", err)
				}
				if !wait {
					e.Wake()
				}
			}()
		}
		if wait {
			e.sends.Wait()
		}
		if len(jobs) < free {
			return nil
		}
	}
}

// dest is where a group goes.
type dest struct {
	method  *contact.Method
	channel *contact.Chan
	lang    string
	phone   string // the person's phone, for @-mentions
	user    string // username
	userID  int64
}

func (d dest) describe() string {
	kind, name, addr := "", "", ""
	if d.method != nil {
		kind, name, addr = d.method.Kind, d.method.Name, d.method.Address
	} else if d.channel != nil {
		kind, name, addr = d.channel.Kind, d.channel.Name, d.channel.Address
		if name == "" {
			name = d.channel.Slug
		}
	}
	switch kind {
	case "email", "sms", "voice":
		return kind + " " + addr
	}
	if name != "" {
		return kind + " " + name
	}
	if u, err := url.Parse(addr); err == nil {
		return kind + " " + u.Host // never the URL: it carries the secret
	}
	return kind
}

// attemptData is the timeline record of one attempt.
type attemptData struct {
	Notification int64  `json:"notification"`
	User         string `json:"user,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Method       string `json:"method"`
	Outcome      string `json:"outcome"` // sent, retry, failed, cancelled, throttled, fallback
	Attempt      int    `json:"attempt"`
	Error        string `json:"error,omitempty"`
	RetryAt      string `json:"retry_at,omitempty"`
	Bundled      int    `json:"bundled,omitempty"`
	FallbackTo   string `json:"fallback_to,omitempty"`
}

func (e *Engine) deliverGroup(ctx context.Context, g []job) error {
	now := e.now()
	first := g[0]
	var d dest
	var why string // a permanent problem with the destination
	if first.MethodID != 0 {
		m, err := e.contacts().MethodByID(ctx, e.DB.R, first.MethodID)
		switch {
		case err != nil:
			why = "contact method removed"
		case m.Disabled:
			why = "contact method disabled"
		case !m.Verified:
			why = "contact method not verified"
		}
		if err == nil {
			d.method = &m
		}
		d.userID = first.UserID
		_ = e.DB.R.QueryRowContext(ctx, `SELECT username, locale, phone FROM users WHERE id = $1`, first.UserID).Scan(&d.user, &d.lang, &d.phone)
	} else {
		c, err := e.contacts().ChannelByID(ctx, e.DB.R, first.ChannelID)
		if err != nil {
			why = "channel removed"
		} else {
			d.channel = &c
		}
		if d.channel != nil {
			switch d.channel.Kind {
			case "dingtalk", "feishu", "wecom":
				d.lang = "zh"
			}
		}
	}
	if d.lang != "zh" {
		d.lang = "en"
	}

	// Drop pages nobody needs any more: the incident was acknowledged or resolved.
	var live []job
	var incs []incident.Incident
	for _, j := range g {
		inc, err := incident.GetTx(ctx, e.DB.R, j.IncidentID)
		// Policy steps ("c…") stop once someone acknowledged; manual pages
		// (reassign) go out until the incident is resolved.
		stale := err != nil || inc.Status == incident.Resolved || inc.Status == incident.Closed ||
			(inc.Status != incident.Triggered && strings.HasPrefix(j.StepKey, "c"))
		if stale {
			reason := "the incident is no longer open"
			if err == nil {
				reason = "the incident is " + string(inc.Status)
			}
			if err := e.finish(ctx, []job{j}, d, StateCancelled, "cancelled", reason, time.Time{}, now); err != nil {
				return err
			}
			continue
		}
		live = append(live, j)
		incs = append(incs, inc)
	}
	if len(live) == 0 {
		return nil
	}
	if why != "" {
		return e.finish(ctx, live, d, StatePermanent, "failed", why, time.Time{}, now)
	}
	// Throttle per contact method.
	if m := d.method; m != nil && m.ThrottleCount > 0 && m.ThrottleWindow > 0 {
		var n int
		var oldest sql.NullInt64
		if err := e.DB.R.QueryRowContext(ctx, `SELECT COUNT(*), MIN(sent_at) FROM notifications
			WHERE contact_method_id = $1 AND state = 'sent' AND bundled_into IS NULL AND sent_at > $2`,
			m.ID, ms(now.Add(-m.ThrottleWindow))).Scan(&n, &oldest); err != nil {
			return err
		}
		if n >= m.ThrottleCount {
			until := now.Add(m.ThrottleWindow)
			if oldest.Valid {
				until = fromMS(oldest.Int64).Add(m.ThrottleWindow)
			}
			return e.defer_(ctx, live, d, until, now)
		}
	}
	ch, err := e.buildChannel(d)
	if err != nil {
		return e.finish(ctx, live, d, StatePermanent, "failed", err.Error(), time.Time{}, now)
	}
	msg, err := e.message(ctx, live, incs, d)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, e.Options.Timeout)
	retry, sendErr := ch.Send(sctx, msg)
	cancel()
	now = e.now()
	if sendErr == nil {
		return e.finish(ctx, live, d, StateSent, "sent", "", time.Time{}, now)
	}
	if errors.Is(sendErr, context.DeadlineExceeded) || errors.Is(sctx.Err(), context.DeadlineExceeded) {
		retry = true
		sendErr = fmt.Errorf("no answer within %s", e.Options.Timeout)
	}
	if retry && first.Attempts < e.Options.MaxAttempts {
		at := now.Add(e.backoff(first.Attempts))
		return e.finish(ctx, live, d, StateTemporary, "retry", sendErr.Error(), at, now)
	}
	why = sendErr.Error()
	if retry {
		why = fmt.Sprintf("%s (gave up after %d attempts)", why, first.Attempts)
	}
	return e.finish(ctx, live, d, StatePermanent, "failed", why, time.Time{}, now)
}

func (e *Engine) buildChannel(d dest) (notify.Channel, error) {
	if d.method != nil {
		return contact.BuildMethod(e.Deps, *d.method)
	}
	return contact.BuildChan(e.Deps, *d.channel)
}

// defer_ puts throttled notifications back until the window has room; they
// go out bundled then.
func (e *Engine) defer_(ctx context.Context, g []job, d dest, until, now time.Time) error {
	var ids []int64
	err := e.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, j := range g {
			var lastErr string
			_ = tx.QueryRowContext(ctx, `SELECT last_error FROM notifications WHERE id = $1`, j.ID).Scan(&lastErr)
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET state = 'pending', attempts = attempts - 1, next_attempt_at = $1, lease_until = 0, last_error = 'throttled' WHERE id = $2`,
				ms(until), j.ID); err != nil {
				return err
			}
			if lastErr == "throttled" {
				continue // said so already
			}
			data := attemptData{Notification: j.ID, User: d.user, Method: d.describe(), Outcome: "throttled", Attempt: j.Attempts - 1, RetryAt: until.Format(time.RFC3339)}
			if err := e.entry(ctx, tx, j.IncidentID, data, now); err != nil {
				return err
			}
			ids = append(ids, j.IncidentID)
		}
		return nil
	})
	e.changed(ids...)
	return err
}

// finish records the outcome of an attempt for every notification of a group,
// with a timeline entry each, and falls back to the person's next method
// after a permanent failure.
func (e *Engine) finish(ctx context.Context, g []job, d dest, state, outcome, why string, retryAt, now time.Time) error {
	var ids []int64
	err := e.DB.Tx(ctx, func(tx *sql.Tx) error {
		ids = ids[:0]
		for i, j := range g {
			var bundled any
			if i > 0 && state == StateSent {
				bundled = g[0].ID
			}
			sentAt := int64(0)
			if state == StateSent {
				sentAt = ms(now)
			}
			next := ms(retryAt)
			res, err := tx.ExecContext(ctx, `UPDATE notifications SET state = $1, next_attempt_at = $2, lease_until = 0, last_error = $3, sent_at = $4, bundled_into = $5
				WHERE id = $6 AND state = 'sending'`, state, next, why, sentAt, bundled, j.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // the lease ran out and someone else took it
			}
			data := attemptData{Notification: j.ID, User: d.user, Method: d.describe(), Outcome: outcome, Attempt: j.Attempts, Error: why}
			if d.channel != nil {
				data.Channel = d.channel.Slug
			}
			if !retryAt.IsZero() {
				data.RetryAt = retryAt.Format(time.RFC3339)
			}
			if state == StateSent && len(g) > 1 {
				data.Bundled = len(g)
			}
			if state == StatePermanent && j.UserID != 0 {
				to, err := e.fallback(ctx, tx, j, now)
				if err != nil {
					return err
				}
				data.FallbackTo = to
			}
			if err := e.entry(ctx, tx, j.IncidentID, data, now); err != nil {
				return err
			}
			ids = append(ids, j.IncidentID)
		}
		return nil
	})
	e.changed(ids...)
	return err
}

func (e *Engine) entry(ctx context.Context, tx *sql.Tx, incidentID int64, data attemptData, now time.Time) error {
	b, _ := json.Marshal(data)
	return incident.Append(ctx, tx, &incident.Entry{IncidentID: incidentID, At: now, Kind: KindNotification, Body: data.Error, Data: b})
}

// fallback queues the person's next verified method not yet tried for the
// same step (a method whose own rule would page later is brought forward);
// it returns a description of it, or "" when none is left.
func (e *Engine) fallback(ctx context.Context, tx *sql.Tx, j job, now time.Time) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT COALESCE(contact_method_id, 0), id, state FROM notifications
		WHERE incident_id = $1 AND step_key = $2 AND user_id = $3`, j.IncidentID, j.StepKey, j.UserID)
	if err != nil {
		return "", err
	}
	type row struct {
		id    int64
		state string
	}
	tried := map[int64]row{}
	for rows.Next() {
		var mid int64
		var r row
		if err := rows.Scan(&mid, &r.id, &r.state); err != nil {
			rows.Close()
			return "", err
		}
		tried[mid] = r
	}
	rows.Close()
	methods, err := e.contacts().MethodsFor(ctx, tx, j.UserID)
	if err != nil {
		return "", err
	}
	for _, m := range methods {
		r, seen := tried[m.ID]
		switch {
		case m.ID == j.MethodID:
			continue
		case !seen:
			k := fmt.Sprintf("i%d:%s:u%d:m%d", j.IncidentID, j.StepKey, j.UserID, m.ID)
			if err := insertNotification(ctx, tx, k, j.IncidentID, j.UserID, m.ID, 0, m.Kind, j.StepKey, now, now, j.ID); err != nil {
				return "", err
			}
		case r.state == StatePending:
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET next_attempt_at = $1, fallback_of = $2 WHERE id = $3 AND state = 'pending' AND next_attempt_at > $1`,
				ms(now), j.ID, r.id); err != nil {
				return "", err
			}
		default:
			continue // tried already, or on its way
		}
		return dest{method: &m}.describe(), nil
	}
	return "", nil
}

// message builds what one group says: one incident, or a bundle of several.
func (e *Engine) message(ctx context.Context, g []job, incs []incident.Incident, d dest) (notify.Message, error) {
	base := strings.TrimRight(e.Options.BaseURL, "/")
	exp := e.now().Add(e.Options.LinkTTL)
	inc := incs[0]
	m := notify.Message{
		IncidentID:     inc.ID,
		Title:          inc.Title,
		Level:          inc.Level,
		LevelName:      e.levelName(ctx, inc.Level, d.lang),
		Status:         string(inc.Status),
		Service:        inc.ServiceName,
		URL:            fmt.Sprintf("%s/incidents/%d", base, inc.ID),
		Lang:           d.lang,
		IdempotencyKey: g[0].Key,
	}
	if e.Links != nil {
		m.AckURL = base + "/act/" + e.Links.Token(inc.ID, ActionAcknowledge, d.userID, exp)
		m.ResolveURL = base + "/act/" + e.Links.Token(inc.ID, ActionResolve, d.userID, exp)
	}
	if d.phone != "" {
		m.MentionPhones = []string{d.phone}
	} else if d.channel != nil {
		m.MentionPhones = e.pagedPhones(ctx, g[0])
	}
	// Several pages of one incident (overdue steps) say it once.
	var distinct []incident.Incident
	seen := map[int64]bool{}
	for _, x := range incs {
		if !seen[x.ID] {
			seen[x.ID] = true
			distinct = append(distinct, x)
		}
	}
	incs = distinct
	if len(incs) == 1 {
		m.Body = e.alertSummary(ctx, inc.ID, d.lang)
		if len(g) > 1 {
			m.IdempotencyKey = "bundle:" + g[0].Key
		}
		return m, nil
	}
	// A bundle: the first incident leads, every one is listed with its links.
	var b strings.Builder
	if d.lang == "zh" {
		fmt.Fprintf(&b, "%d 个事故需要处理：\n", len(incs))
		m.Title = fmt.Sprintf("%d 个事故：%s 等", len(incs), inc.Title)
	} else {
		fmt.Fprintf(&b, "%d incidents need you:\n", len(incs))
		m.Title = fmt.Sprintf("%d incidents: %s and more", len(incs), inc.Title)
	}
	ack, _, _ := notify.Words(d.lang)
	for _, x := range incs {
		fmt.Fprintf(&b, "- [%s] #%d %s — %s/incidents/%d", x.Level, x.ID, notify.OneLine(x.Title), base, x.ID)
		if e.Links != nil {
			fmt.Fprintf(&b, " (%s: %s/act/%s)", ack, base, e.Links.Token(x.ID, ActionAcknowledge, d.userID, exp))
		}
		b.WriteString("\n")
	}
	m.Body = b.String()
	m.IdempotencyKey = "bundle:" + g[0].Key
	return m, nil
}

func (e *Engine) levelName(ctx context.Context, level, lang string) string {
	var en, zh string
	if err := e.DB.R.QueryRowContext(ctx, `SELECT name_en, name_zh FROM levels WHERE id = $1`, level).Scan(&en, &zh); err != nil {
		return level
	}
	if lang == "zh" && zh != "" {
		return zh
	}
	return en
}

// alertSummary lists the incident's newest alerts (bundling them into the page).
func (e *Engine) alertSummary(ctx context.Context, incidentID int64, lang string) string {
	rows, err := e.DB.R.QueryContext(ctx, `SELECT summary, status FROM alerts WHERE incident_id = $1 ORDER BY id DESC LIMIT 6`, incidentID)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s, st string
		if rows.Scan(&s, &st) == nil {
			lines = append(lines, "- "+notify.OneLine(s)+" ("+st+")")
		}
	}
	var total int
	_ = e.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE incident_id = $1`, incidentID).Scan(&total)
	if len(lines) > 5 {
		lines = lines[:5]
	}
	if len(lines) == 0 {
		return ""
	}
	head := fmt.Sprintf("%d alert(s):", total)
	if lang == "zh" {
		head = fmt.Sprintf("%d 条告警：", total)
	}
	out := head + "\n" + strings.Join(lines, "\n")
	if total > len(lines) {
		if lang == "zh" {
			out += fmt.Sprintf("\n…另有 %d 条", total-len(lines))
		} else {
			out += fmt.Sprintf("\n…and %d more", total-len(lines))
		}
	}
	return out
}

// pagedPhones are the phones of the people paged in the same step, for a
// channel message to @-mention them.
func (e *Engine) pagedPhones(ctx context.Context, j job) []string {
	rows, err := e.DB.R.QueryContext(ctx, `SELECT DISTINCT u.phone FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.incident_id = $1 AND n.step_key = $2 AND u.phone <> ''`, j.IncidentID, j.StepKey)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if rows.Scan(&p) == nil {
			out = append(out, p)
		}
	}
	return out
}
