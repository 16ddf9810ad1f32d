package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadCursor is returned for a page cursor this server did not hand out.
var ErrBadCursor = errors.New("invalid cursor")

// Where accumulates a query's conditions with numbered placeholders.
type Where struct {
	conds []string
	args  []any
}

// Arg adds a parameter and returns its placeholder ($n).
func (w *Where) Arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// And adds a condition.
func (w *Where) And(cond string) { w.conds = append(w.conds, cond) }

// Scanner is a row being read.
type Scanner interface{ Scan(dest ...any) error }

// Page runs a keyset-paginated list, newest (highest id) first: base, then the
// conditions, then the page. limit defaults to 50 and is at most 500. It returns
// the cursor of the next page, "" on the last one.
func Page[T any](ctx context.Context, q *sql.DB, base string, w *Where, idCol, cursor string, limit int,
	scan func(Scanner) (T, error), id func(T) int64) ([]T, string, error) {
	if cursor != "" {
		before, err := strconv.ParseInt(cursor, 36, 64)
		if err != nil || before <= 0 {
			return nil, "", ErrBadCursor
		}
		w.And(idCol + " < " + w.Arg(before))
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	query := base
	if len(w.conds) > 0 {
		query += " WHERE " + strings.Join(w.conds, " AND ")
	}
	query += " ORDER BY " + idCol + " DESC LIMIT " + w.Arg(limit+1)
	rows, err := q.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(id(out[limit-1]), 36)
	}
	return out, next, nil
}
