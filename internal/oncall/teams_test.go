package oncall

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak/firebreak/internal/store"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestTeams(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, t0, "alice", "bob", "carol", "gone")
		ctx := f.ctx
		a, b, c, g := f.user("alice"), f.user("bob"), f.user("carol"), f.user("gone")

		for _, tc := range []struct {
			in    TeamInput
			field string
		}{
			{TeamInput{Slug: ""}, "slug"},
			{TeamInput{Slug: "SRE"}, "slug"},
			{TeamInput{Slug: "sre team"}, "slug"},
			{TeamInput{Slug: "_sre"}, "slug"},
			{TeamInput{Slug: "sre", Name: strings.Repeat("n", 201)}, "name"},
			{TeamInput{Slug: "sre", Description: strings.Repeat("d", 2001)}, "description"},
		} {
			_, err := f.s.CreateTeam(ctx, tc.in)
			wantField(t, err, tc.field)
		}

		sre, err := f.s.CreateTeam(ctx, TeamInput{Slug: " sre ", Name: " SRE ", Description: "site reliability", Source: SourcePlan})
		if err != nil {
			t.Fatal(err)
		}
		if sre.ID == 0 || sre.Slug != "sre" || sre.Name != "SRE" || sre.Description != "site reliability" || sre.Source != SourcePlan ||
			sre.Members == nil || len(sre.Members) != 0 || !sre.CreatedAt.Equal(t0) {
			t.Errorf("created %+v", sre)
		}
		if _, err := f.s.CreateTeam(ctx, TeamInput{Slug: "sre"}); err != nil {
			wantField(t, err, "slug")
		} else {
			t.Error("duplicate slug accepted")
		}
		dba, err := f.s.CreateTeam(ctx, TeamInput{Slug: "dba"})
		if err != nil {
			t.Fatal(err)
		}
		if dba.Name != "dba" {
			t.Errorf("name defaults to slug: %q", dba.Name)
		}

		// SetMembers validates every member and replaces them all.
		_, err = f.s.SetMembers(ctx, sre.ID, []TeamMember{{UserID: a}, {UserID: 999999}})
		wantField(t, err, "members[1].user_id")
		_, err = f.s.SetMembers(ctx, sre.ID, []TeamMember{{UserID: a}, {UserID: b, Role: "boss"}})
		wantField(t, err, "members[1].role")
		_, err = f.s.SetMembers(ctx, sre.ID, []TeamMember{{UserID: a}, {UserID: a, Role: RoleLead}})
		wantField(t, err, "members[1].user_id")
		if _, err := f.s.SetMembers(ctx, 999999, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetMembers(unknown) = %v", err)
		}
		got, err := f.s.SetMembers(ctx, sre.ID, []TeamMember{{UserID: c}, {UserID: b, Role: RoleLead}, {UserID: g}})
		if err != nil {
			t.Fatal(err)
		}
		var desc []string
		for _, m := range got.Members {
			desc = append(desc, m.Username+"/"+m.DisplayName+"/"+m.Role)
		}
		if want := []string{"bob/BOB/lead", "carol/CAROL/member", "gone/GONE/member"}; !slices.Equal(desc, want) {
			t.Errorf("members = %v, want %v", desc, want)
		}
		if got, err := f.s.SetMembers(ctx, sre.ID, []TeamMember{{UserID: c}, {UserID: b, Role: RoleLead}, {UserID: g}, {UserID: a}}); err != nil || len(got.Members) != 4 {
			t.Fatalf("SetMembers = %+v, %v", got, err)
		}

		// TeamMemberIDs: leads first, disabled members left out.
		if err := f.au.SetDisabled(ctx, g, true); err != nil {
			t.Fatal(err)
		}
		ids, err := TeamMemberIDs(ctx, db.R, "sre")
		if want := []int64{b, a, c}; err != nil || !slices.Equal(ids, want) {
			t.Errorf("TeamMemberIDs = %v, %v; want %v", ids, err, want)
		}
		if ids, err := TeamMemberIDs(ctx, db.R, "dba"); err != nil || ids == nil || len(ids) != 0 {
			t.Errorf("TeamMemberIDs(empty) = %#v, %v", ids, err)
		}
		if _, err := TeamMemberIDs(ctx, db.R, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("TeamMemberIDs(nope) = %v", err)
		}

		// AddMember adds or changes the role; RemoveMember removes.
		if err := f.s.AddMember(ctx, dba.ID, a, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AddMember(ctx, dba.ID, c, RoleLead); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AddMember(ctx, dba.ID, a, RoleLead); err != nil {
			t.Fatal(err)
		}
		wantField(t, f.s.AddMember(ctx, dba.ID, b, "owner"), "role")
		wantField(t, f.s.AddMember(ctx, dba.ID, g, ""), "user_id")
		wantField(t, f.s.AddMember(ctx, dba.ID, 999999, ""), "user_id")
		if err := f.s.AddMember(ctx, 999999, a, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddMember(unknown team) = %v", err)
		}
		d, err := f.s.TeamBySlug(ctx, "dba")
		if err != nil || len(d.Members) != 2 || d.Members[0].Role != RoleLead || d.Members[1].Role != RoleLead {
			t.Errorf("TeamBySlug = %+v, %v", d, err)
		}
		if err := f.s.RemoveMember(ctx, dba.ID, a); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RemoveMember(ctx, dba.ID, a); !errors.Is(err, ErrNotFound) {
			t.Errorf("second RemoveMember = %v", err)
		}
		if ids, _ := TeamMemberIDs(ctx, db.R, "dba"); !slices.Equal(ids, []int64{c}) {
			t.Errorf("after remove: %v", ids)
		}

		// Update, list, get, delete.
		up, err := f.s.UpdateTeam(ctx, dba.ID, TeamInput{Slug: "data", Name: "Data", Description: "databases"})
		if err != nil || up.Slug != "data" || up.Name != "Data" || len(up.Members) != 1 || up.Source != "" {
			t.Errorf("UpdateTeam = %+v, %v", up, err)
		}
		if _, err := f.s.UpdateTeam(ctx, dba.ID, TeamInput{Slug: "sre"}); err != nil {
			wantField(t, err, "slug")
		} else {
			t.Error("update to a taken slug accepted")
		}
		if _, err := f.s.UpdateTeam(ctx, 999999, TeamInput{Slug: "x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateTeam(unknown) = %v", err)
		}
		all, err := f.s.ListTeams(ctx)
		if err != nil || len(all) != 2 || all[0].Slug != "data" || all[1].Slug != "sre" || len(all[1].Members) != 4 {
			t.Errorf("ListTeams = %+v, %v", all, err)
		}
		if g, err := f.s.GetTeam(ctx, sre.ID); err != nil || g.Slug != "sre" {
			t.Errorf("GetTeam = %+v, %v", g, err)
		}
		if err := f.s.DeleteTeam(ctx, sre.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.GetTeam(ctx, sre.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetTeam(deleted) = %v", err)
		}
		if err := f.s.DeleteTeam(ctx, sre.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteTeam = %v", err)
		}
		var n int
		if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM team_members`).Scan(&n); err != nil || n != 1 {
			t.Errorf("team_members rows = %d, %v", n, err)
		}
	})
}
