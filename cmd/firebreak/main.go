// Command firebreak is a self-hosted incident response platform in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/paging"
	"github.com/firebreak/firebreak/internal/plan"
	"github.com/firebreak/firebreak/internal/server"
	"github.com/firebreak/firebreak/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := root().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "firebreak:", err)
		os.Exit(1)
	}
}

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "firebreak",
		Short:         "Self-hosted incident response: signals in, incidents out, people paged",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	server.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(serveCmd(), migrateCmd(), versionCmd(), userCmd(), tokenCmd(), planCmd())
	return cmd
}

func config(cmd *cobra.Command) (server.Config, error) {
	return server.Load(cmd.Flags(), os.Getenv)
}

// openDB opens and migrates the configured database for a one-off command.
func openDB(cmd *cobra.Command) (*store.DB, error) {
	c, err := config(cmd)
	if err != nil {
		return nil, err
	}
	return server.OpenDB(cmd.Context(), c)
}

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the web UI, API and signal intake",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := config(cmd)
			if err != nil {
				return err
			}
			log, err := server.Logger(c, os.Stderr)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, c, log, cmd.OutOrStdout())
		},
	}
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations and print the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, latest, err := db.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema at version %d (latest %d)\n", db.Dialect, cur, latest)
			return nil
		},
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						v = "dev-" + s.Value[:12]
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "firebreak %s\n", v)
		},
	}
}

func userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var role, email, name, password string
	create := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user and print their password (generated unless --password or FIREBREAK_USER_PASSWORD is given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			pw := password
			if pw == "" {
				pw = os.Getenv("FIREBREAK_USER_PASSWORD")
			}
			generated := pw == ""
			if generated {
				pw = auth.GeneratePassword()
			}
			u, err := (&auth.Store{DB: db}).CreateUser(cmd.Context(), auth.NewUser{Username: args[0], DisplayName: name, Email: email, Role: r, Password: pw})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s (%s)\n", u.Username, u.Role)
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
			}
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "responder", "admin, responder or viewer")
	create.Flags().StringVar(&email, "email", "", "email address")
	create.Flags().StringVar(&name, "name", "", "display name")
	create.Flags().StringVar(&password, "password", "", "password (at least 12 characters)")
	var pwUser string
	reset := &cobra.Command{
		Use:   "set-password USERNAME",
		Short: "Set a new generated password for a user (recovery), signing them out everywhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			st := &auth.Store{DB: db}
			u, err := st.UserByUsername(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("user %s: %w", args[0], err)
			}
			pw := pwUser
			if pw == "" {
				pw = auth.GeneratePassword()
			}
			if err := st.SetPassword(cmd.Context(), u.ID, pw); err != nil {
				return err
			}
			if err := st.DeleteUserSessions(cmd.Context(), u.ID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password for %s: %s\n", u.Username, pw)
			return nil
		},
	}
	reset.Flags().StringVar(&pwUser, "password", "", "the new password (generated when empty)")
	cmd.AddCommand(create, reset)
	return cmd
}

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var username, name string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token acting as a user and print it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" {
				return errors.New("--user is required")
			}
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			st := &auth.Store{DB: db}
			u, err := st.UserByUsername(cmd.Context(), username)
			if err != nil {
				return fmt.Errorf("user %s: %w", username, err)
			}
			secret, _, err := st.CreateToken(cmd.Context(), u.ID, name, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	create.Flags().StringVar(&username, "user", "", "the user the token acts as")
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise the token by")
	create.Flags().DurationVar(&ttl, "expires-in", 0, "lifetime such as 720h (0 = never expires)")
	cmd.AddCommand(create)
	return cmd
}

func planCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "Validate, apply and export the emergency plan"}
	var file string
	read := func() (*plan.Plan, []byte, error) {
		if file == "" {
			return nil, nil, errors.New("-f FILE is required")
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		p, err := plan.Parse(data)
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s is not a valid plan:\n%w", file, err)
		}
		return p, data, nil
	}
	validate := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a plan file without applying it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := read(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is a valid plan\n", file)
			return nil
		},
	}
	validate.Flags().StringVarP(&file, "file", "f", "", "plan YAML file")
	apply := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Apply a plan file as the new plan version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, data, err := read()
			if err != nil {
				return err
			}
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			v, changed, err := plan.Apply(cmd.Context(), db, p, data, "cli", time.Now(), paging.SyncPlan, check.SyncPlan)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(cmd.OutOrStdout(), "plan unchanged (version %d)\n", v)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied plan version %d\n", v)
			return nil
		},
	}
	apply.Flags().StringVarP(&file, "file", "f", "", "plan YAML file")
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the plan in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openDB(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			data, err := plan.Export(context.WithoutCancel(cmd.Context()), db)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.AddCommand(validate, apply, export)
	return cmd
}
