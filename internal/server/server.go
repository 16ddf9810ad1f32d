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
	"github.com/firebreak/firebreak/internal/incident"
	"github.com/firebreak/firebreak/internal/live"
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
	all, err := services.List(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
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

// Run serves until ctx is cancelled, then shuts down gracefully: the listener
// closes, in-flight requests finish, and the ingest writer commits what it holds.
func Run(ctx context.Context, c Config, log *slog.Logger, out io.Writer) error {
	db, err := OpenDB(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()

	hub := &live.Hub{}
	users := &auth.Store{DB: db}
	services := &service.Store{DB: db}
	incidents := &incident.Store{DB: db, Changed: hub.Publish}
	if err := FirstStart(ctx, db, users, services, c.BaseURL, os.Getenv, out); err != nil {
		return err
	}

	writerCtx, stopWriter := context.WithCancel(context.Background())
	writer := &alert.Writer{DB: db, Committed: func(ids []int64) { hub.Publish(ids...) }}
	writer.Start(writerCtx)
	defer func() { stopWriter(); writer.Wait() }()

	srv := &web.Server{
		DB: db, Auth: users, Incidents: incidents, Alerts: &alert.Store{DB: db}, Services: services,
		Writer: writer, Live: hub, Metrics: web.NewMetrics(incidents), Log: log, BaseURL: c.BaseURL,
		SecureCookies: strings.HasPrefix(c.BaseURL, "https://"),
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	stopping := make(chan struct{})
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return web.WithShutdown(context.Background(), stopping) },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	dbKind := "SQLite in " + c.DataDir
	if db.Dialect == store.Postgres {
		dbKind = "PostgreSQL"
	}
	log.Info("firebreak serving", "listen", ln.Addr().String(), "url", c.BaseURL, "database", string(db.Dialect))
	fmt.Fprintf(out, "firebreak is running at %s (%s). Stop with Ctrl-C.\n", c.BaseURL, dbKind)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	close(stopping) // ends live streams so Shutdown does not wait on them
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	return nil
}
