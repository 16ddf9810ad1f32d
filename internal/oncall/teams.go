package oncall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/store"
)

// Team roles.
const (
	RoleMember = "member"
	RoleLead   = "lead"
)

// Team is a group of people that schedules and escalation steps can refer to.
type Team struct {
	ID          int64        `json:"id"`
	Slug        string       `json:"slug"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Source      string       `json:"source"`
	CreatedAt   time.Time    `json:"created_at"`
	Members     []TeamMember `json:"members"`
}

// TeamMember is a user in a team with their role there (RoleMember or
// RoleLead). Username and DisplayName are filled in when reading.
type TeamMember struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

// TeamInput is what a person sets on a team. An empty Name becomes the slug.
type TeamInput struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"-"` // SourcePlan for teams from the plan; set by code, never by requests
}

func (in *TeamInput) check() error {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Name == "" {
		in.Name = in.Slug
	}
	if err := checkSlug(in.Slug); err != nil {
		return err
	}
	if err := checkText("name", in.Name, 200, true); err != nil {
		return err
	}
	return checkText("description", in.Description, 2000, false)
}

// CreateTeam validates in and stores a new team without members.
func (s *Store) CreateTeam(ctx context.Context, in TeamInput) (Team, error) {
	if err := in.check(); err != nil {
		return Team{}, err
	}
	var id int64
	err := s.DB.W.QueryRowContext(ctx, `INSERT INTO teams (slug, name, description, source, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		in.Slug, in.Name, in.Description, in.Source, s.now().UnixMilli()).Scan(&id)
	if store.IsUniqueViolation(err) {
		return Team{}, &FieldError{"slug", "a team with this slug exists"}
	}
	if err != nil {
		return Team{}, fmt.Errorf("insert team: %w", err)
	}
	return s.GetTeam(ctx, id)
}

// UpdateTeam changes a team's slug, name and description (not its source).
func (s *Store) UpdateTeam(ctx context.Context, id int64, in TeamInput) (Team, error) {
	if err := in.check(); err != nil {
		return Team{}, err
	}
	res, err := s.DB.W.ExecContext(ctx, `UPDATE teams SET slug=$1, name=$2, description=$3 WHERE id=$4`, in.Slug, in.Name, in.Description, id)
	if store.IsUniqueViolation(err) {
		return Team{}, &FieldError{"slug", "a team with this slug exists"}
	}
	if err != nil {
		return Team{}, fmt.Errorf("update team: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Team{}, ErrNotFound
	}
	return s.GetTeam(ctx, id)
}

// DeleteTeam removes a team; its schedules stay, without a team.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM teams WHERE id=$1`, id)
	if err != nil {
		return fmt.Errorf("delete team: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListTeams returns every team with its members, by slug.
func (s *Store) ListTeams(ctx context.Context) ([]Team, error) {
	return queryTeams(ctx, s.DB.R, "1=1")
}

// GetTeam returns team id with its members, or ErrNotFound.
func (s *Store) GetTeam(ctx context.Context, id int64) (Team, error) {
	return oneTeam(ctx, s.DB.R, "id=$1", id)
}

// TeamBySlug returns the team with slug, or ErrNotFound.
func (s *Store) TeamBySlug(ctx context.Context, slug string) (Team, error) {
	return oneTeam(ctx, s.DB.R, "slug=$1", slug)
}

func oneTeam(ctx context.Context, q Querier, where string, args ...any) (Team, error) {
	all, err := queryTeams(ctx, q, where, args...)
	if err != nil {
		return Team{}, err
	}
	if len(all) == 0 {
		return Team{}, ErrNotFound
	}
	return all[0], nil
}

func queryTeams(ctx context.Context, q Querier, where string, args ...any) ([]Team, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.id, t.slug, t.name, t.description, t.source, t.created_at,
		COALESCE(u.id, 0), COALESCE(u.username, ''), COALESCE(u.display_name, ''), COALESCE(m.role, '')
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id LEFT JOIN users u ON u.id = m.user_id
		WHERE t.id IN (SELECT id FROM teams WHERE `+where+`)
		ORDER BY t.slug, t.id, CASE m.role WHEN 'lead' THEN 0 ELSE 1 END, u.username`, args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var t Team
		var m TeamMember
		var created int64
		if err := rows.Scan(&t.ID, &t.Slug, &t.Name, &t.Description, &t.Source, &created,
			&m.UserID, &m.Username, &m.DisplayName, &m.Role); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != t.ID {
			t.CreatedAt = time.UnixMilli(created).UTC()
			t.Members = []TeamMember{}
			out = append(out, t)
		}
		if m.UserID != 0 {
			last := &out[len(out)-1]
			last.Members = append(last.Members, m)
		}
	}
	return out, rows.Err()
}

func checkRole(field string, role *string) error {
	switch *role {
	case "":
		*role = RoleMember
	case RoleMember, RoleLead:
	default:
		return &FieldError{field, "must be member or lead"}
	}
	return nil
}

func teamExists(ctx context.Context, q Querier, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id=$1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read team: %w", err)
	}
	return nil
}

func upsertMember(ctx context.Context, q Querier, teamID, userID int64, role string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role`, teamID, userID, role)
	if err != nil {
		return fmt.Errorf("add team member: %w", err)
	}
	return nil
}

// SetMembers replaces the team's members (UserID and Role of each; an empty
// role is RoleMember). Members must be enabled users, each listed once.
func (s *Store) SetMembers(ctx context.Context, teamID int64, members []TeamMember) (Team, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, teamID); err != nil {
			return err
		}
		seen := map[int64]bool{}
		for i := range members {
			m := &members[i]
			at := fmt.Sprintf("members[%d]", i)
			if err := checkUser(ctx, tx, at+".user_id", m.UserID); err != nil {
				return err
			}
			if seen[m.UserID] {
				return &FieldError{at + ".user_id", "is listed twice"}
			}
			seen[m.UserID] = true
			if err := checkRole(at+".role", &m.Role); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE team_id=$1`, teamID); err != nil {
			return fmt.Errorf("replace team members: %w", err)
		}
		for _, m := range members {
			if err := upsertMember(ctx, tx, teamID, m.UserID, m.Role); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Team{}, err
	}
	return s.GetTeam(ctx, teamID)
}

// AddMember adds userID to the team with role (empty: RoleMember), or changes
// the role of a member.
func (s *Store) AddMember(ctx context.Context, teamID, userID int64, role string) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := teamExists(ctx, tx, teamID); err != nil {
			return err
		}
		if err := checkUser(ctx, tx, "user_id", userID); err != nil {
			return err
		}
		if err := checkRole("role", &role); err != nil {
			return err
		}
		return upsertMember(ctx, tx, teamID, userID, role)
	})
}

// RemoveMember takes userID out of the team; ErrNotFound when not a member.
func (s *Store) RemoveMember(ctx context.Context, teamID, userID int64) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM team_members WHERE team_id=$1 AND user_id=$2`, teamID, userID)
	if err != nil {
		return fmt.Errorf("remove team member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// TeamMemberIDs returns the ids of the enabled members of the team with slug,
// leads first then by id (the escalation engine's "page this team"), or
// ErrNotFound.
func TeamMemberIDs(ctx context.Context, q Querier, slug string) ([]int64, error) {
	var teamID int64
	err := q.QueryRowContext(ctx, `SELECT id FROM teams WHERE slug=$1`, slug).Scan(&teamID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read team: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.disabled FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id=$1 ORDER BY CASE m.role WHEN 'lead' THEN 0 ELSE 1 END, u.id`, teamID)
	if err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		var disabled bool
		if err := rows.Scan(&id, &disabled); err != nil {
			return nil, fmt.Errorf("list team members: %w", err)
		}
		if !disabled {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}
