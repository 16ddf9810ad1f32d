package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/contact"
	"github.com/firebreak/firebreak/internal/escalation"
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/live"
	"github.com/firebreak/firebreak/internal/logrule"
	"github.com/firebreak/firebreak/internal/maintenance"
	"github.com/firebreak/firebreak/internal/notify/email"
	"github.com/firebreak/firebreak/internal/notify/sms"
	"github.com/firebreak/firebreak/internal/oncall"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/web"
)

// Logger builds the structured logger the configuration asks for.
func Logger(c Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// OpenDB opens and migrates the configured database.
func OpenDB(ctx context.Context, c Config) (*store.DB, error) {
	db, err := store.Open(ctx, store.Options{DatabaseURL: c.DatabaseURL, DataDir: c.DataDir})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// FirstStart makes an empty database useful: the default plan, an admin account and
// a demo service. It writes what a person needs to get going to out.
func FirstStart(ctx context.Context, db *store.DB, users *auth.Store, services *service.Store, baseURL string, getenv func(string) string, out io.Writer) error {
	if _, err := plan.ApplyDefaultIfEmpty(ctx, db, time.Now()); err != nil {
		return fmt.Errorf("apply default plan: %w", err)
	}
	n, err := users.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		pw := getenv("FIREBREAK_ADMIN_PASSWORD")
		generated := pw == ""
		if generated {
			pw = auth.GeneratePassword()
		}
		_, err := users.CreateUser(ctx, auth.NewUser{Username: "admin", DisplayName: "Administrator", Role: auth.Admin, Password: pw})
		switch {
		case errors.Is(err, auth.ErrUsernameTaken): // another replica was first
		case err != nil:
			return fmt.Errorf("create admin (FIREBREAK_ADMIN_PASSWORD): %w", err)
		case generated:
			fmt.Fprintf(out, "\nCreated user admin with one-time password: %s\nChange it after logging in.\n", pw)
		default:
			fmt.Fprintf(out, "\nCreated user admin with the password from FIREBREAK_ADMIN_PASSWORD.\n")
		}
	}
	// The plan's people, schedules and escalation policies (also for databases
	// whose plan was applied before firebreak knew about them).
	if err := paging.Sync(ctx, db, time.Now(), check.SyncPlan); err != nil {
		return err
	}
	all, err := services.List(ctx)
	if err != nil {
		return err
	}
	keyed := false // services made for checks have no integration key
	for _, sv := range all {
		keyed = keyed || len(sv.Keys) > 0
	}
	if !keyed {
		sv, err := services.Create(ctx, service.Input{Name: "demo", Description: "A demo service: send it a test alert."})
		if err != nil {
			var fe *service.FieldError
			if errors.As(err, &fe) { // created concurrently by another replica
				return nil
			}
			return fmt.Errorf("create demo service: %w", err)
		}
		key := sv.Keys[0].Key
		fmt.Fprintf(out, "\nCreated service %q. Send it a test alert:\n\n  curl -sS -X POST %s/api/v1/integrations/%s/events \\\n    -H 'Content-Type: application/json' \\\n    -d '{\"summary\":\"Checkout is failing\",\"severity\":\"critical\",\"dedup_key\":\"checkout-down\"}'\n\n",
			sv.Name, baseURL, key)
	}
	return nil
}

// Instance is an assembled firebreak: database, writer, HTTP handler.
type Instance struct {
	Config  Config
	DB      *store.DB
	Web     *web.Server
	Handler http.Handler
	Log     *slog.Logger

	Engine *paging.Engine

	stopWriter context.CancelFunc
	writer     *alert.Writer
	stopEngine context.CancelFunc
	engineDone chan struct{}
}

// listenSyslog starts the syslog listeners the configuration asks for; lines
// go to the log checks.
func listenSyslog(ctx context.Context, c Config, logs *check.Logs, log *slog.Logger) error {
	h := func(l logrule.Line) {
		if _, err := logs.Observe(context.Background(), []logrule.Line{l}); err != nil {
			log.Error("syslog line", "err", err)
		}
	}
	if c.SyslogUDP != "" {
		addr, err := logrule.ListenUDP(ctx, c.SyslogUDP, h)
		if err != nil {
			return fmt.Errorf("syslog_udp %s: %w", c.SyslogUDP, err)
		}
		log.Info("syslog over UDP", "listen", addr.String())
	}
	if c.SyslogTCP != "" {
		addr, err := logrule.ListenTCP(ctx, c.SyslogTCP, h)
		if err != nil {
			return fmt.Errorf("syslog_tcp %s: %w", c.SyslogTCP, err)
		}
		log.Info("syslog over TCP", "listen", addr.String())
	}
	return nil
}

// deps are the delivery settings of c.
func deps(c Config) (contact.Deps, paging.Options, error) {
	d, err := c.Delivery()
	if err != nil {
		return contact.Deps{}, paging.Options{}, err
	}
	var dp contact.Deps
	if c.SMTPHost != "" {
		dp.SMTP = &email.Config{Host: c.SMTPHost, Port: d.SMTPPort, Username: c.SMTPUsername, Password: c.SMTPPassword, From: c.SMTPFrom, TLS: c.SMTPTLS}
	}
	if c.SMSAccountSID != "" {
		dp.SMS = &sms.Config{BaseURL: c.SMSBaseURL, AccountSID: c.SMSAccountSID, AuthToken: c.SMSAuthToken, From: c.SMSFrom}
	}
	return dp, paging.Options{BaseURL: c.BaseURL, Timeout: d.Timeout, MaxAttempts: d.MaxAttempts, BackoffBase: d.Backoff}, nil
}

// New opens and migrates the database, prepares a first start (writing its notes to
// out) and starts the ingest writer. Close releases it.
func New(ctx context.Context, c Config, log *slog.Logger, out io.Writer) (*Instance, error) {
	return newWithEnv(ctx, c, log, out, os.Getenv)
}

func newWithEnv(ctx context.Context, c Config, log *slog.Logger, out io.Writer, getenv func(string) string) (*Instance, error) {
	db, err := OpenDB(ctx, c)
	if err != nil {
		return nil, err
	}
	hub := &live.Hub{}
	users := &auth.Store{DB: db}
	services := &service.Store{DB: db}
	incidents := &incident.Store{DB: db, Changed: hub.Publish}
	if err := FirstStart(ctx, db, users, services, c.BaseURL, getenv, out); err != nil {
		db.Close()
		return nil, err
	}
	dp, opts, err := deps(c)
	if err != nil {
		db.Close()
		return nil, err
	}
	links, err := paging.LoadSigner(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	engine := &paging.Engine{DB: db, Deps: dp, Links: links, Log: log, Options: opts, Changed: hub.Publish, DatabaseURL: c.DatabaseURL}
	incidents.Changed = func(ids ...int64) { hub.Publish(ids...); engine.Wake() }
	writerCtx, stopWriter := context.WithCancel(context.Background())
	writer := &alert.Writer{DB: db, Committed: func(ids []int64) { hub.Publish(ids...); engine.Wake() }}
	writer.Start(writerCtx)
	// Checks: scheduled in the engine leader, log rules and heartbeats in
	// whichever replica receives the lines and pings.
	sched := &check.Scheduler{DB: db, R: db.R, Alerts: writer, Log: log}
	logs := &check.Logs{Alerts: writer, Log: log}
	checks := &check.Store{DB: db}
	checks.Changed = func() {
		sched.Wake()
		_ = logs.Reload(context.Background())
	}
	logs.Checks = checks
	engine.WhileLeading = append(engine.WhileLeading, func(ctx context.Context) { _ = sched.Run(ctx) })
	engineCtx, stopEngine := context.WithCancel(context.Background())
	go logs.Run(engineCtx)
	if err := listenSyslog(engineCtx, c, logs, log); err != nil {
		stopEngine()
		stopWriter()
		writer.Wait()
		db.Close()
		return nil, err
	}
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		if err := engine.Run(engineCtx); err != nil {
			log.Error("engine stopped", "err", err)
		}
	}()
	srv := &web.Server{
		DB: db, Auth: users, Incidents: incidents, Alerts: &alert.Store{DB: db}, Services: services,
		Writer: writer, Live: hub, Metrics: web.NewMetrics(incidents), Log: log, BaseURL: c.BaseURL,
		Contacts: &contact.Store{DB: db}, OnCall: &oncall.Store{DB: db}, Policies: &escalation.Store{DB: db},
		Engine: engine, Links: links,
		Checks: checks, Logs: logs, Maintenance: &maintenance.Store{DB: db},
		SecureCookies: strings.HasPrefix(c.BaseURL, "https://"),
	}
	return &Instance{Config: c, DB: db, Web: srv, Handler: srv.Handler(), Log: log, Engine: engine,
		stopWriter: stopWriter, writer: writer, stopEngine: stopEngine, engineDone: engineDone}, nil
}

// Close stops the writer (committing what it holds) and closes the database.
func (in *Instance) Close() error {
	in.stopWriter()
	in.writer.Wait()
	in.stopEngine()
	<-in.engineDone
	return in.DB.Close()
}

// Serve answers HTTP on ln until ctx is cancelled, then shuts down gracefully:
// the listener closes, live streams end and in-flight requests finish.
func (in *Instance) Serve(ctx context.Context, ln net.Listener) error {
	stopping := make(chan struct{})
	hs := &http.Server{
		Handler:           in.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return web.WithShutdown(context.Background(), stopping) },
		ErrorLog:          slog.NewLogLogger(in.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	in.Log.Info("shutting down")
	close(stopping)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// Run serves the configuration until ctx is cancelled.
func Run(ctx context.Context, c Config, log *slog.Logger, out io.Writer) error {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	in, err := New(ctx, c, log, out)
	if err != nil {
		ln.Close()
		return err
	}
	defer in.Close()
	dbKind := "SQLite in " + c.DataDir
	if in.DB.Dialect == store.Postgres {
		dbKind = "PostgreSQL"
	}
	log.Info("firebreak serving", "listen", ln.Addr().String(), "url", c.BaseURL, "database", string(in.DB.Dialect))
	fmt.Fprintf(out, "firebreak is running at %s (%s). Stop with Ctrl-C.\n", c.BaseURL, dbKind)
	if err := in.Serve(ctx, ln); err != nil {
		log.Error("shutdown", "err", err)
	}
	return nil
}

// TestInstance starts a complete firebreak on a loopback port for tests, against
// the given database (a PostgreSQL URL, or "" for SQLite in dir). The admin's
// password is adminPassword. It stops when ctx ends.
func TestInstance(ctx context.Context, dir, databaseURL, adminPassword string) (*Instance, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	base := "http://" + ln.Addr().String()
	c := Defaults()
	c.DataDir, c.DatabaseURL, c.BaseURL, c.Listen = dir, databaseURL, base, ln.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	getenv := func(k string) string {
		if k == "FIREBREAK_ADMIN_PASSWORD" {
			return adminPassword
		}
		return ""
	}
	in, err := newWithEnv(ctx, c, log, io.Discard, getenv)
	if err != nil {
		ln.Close()
		return nil, "", err
	}
	go func() { _ = in.Serve(ctx, ln) }()
	return in, base, nil
}
