package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestMigrateAndPlaceholders(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cur, latest, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest || cur < 1 {
			t.Fatalf("schema version %d, latest %d", cur, latest)
		}
		// Migrating again is a no-op.
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var id int64
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx,
				`INSERT INTO services (name, description, auto_resolve, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
				"web", "the shop", true, int64(5)).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var auto bool
		if err := db.R.QueryRowContext(ctx, `SELECT name, auto_resolve FROM services WHERE id = $1`, id).Scan(&name, &auto); err != nil {
			t.Fatal(err)
		}
		if name != "web" || !auto {
			t.Fatalf("got %q %v", name, auto)
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO services (name, created_at) VALUES ($1, $2)`, "api", int64(1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		_ = db.R.QueryRowContext(ctx, `SELECT count(*) FROM services`).Scan(&n)
		if n != 1 {
			t.Fatalf("rollback left %d services", n)
		}
		_, err = db.W.ExecContext(ctx, `INSERT INTO services (name, created_at) VALUES ($1, $2)`, "web", int64(1))
		if !store.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
	})
}
