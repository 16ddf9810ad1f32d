package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/firebreak/firebreak/internal/auth"
	"github.com/firebreak/firebreak/internal/check"
	"github.com/firebreak/firebreak/internal/service"
	"github.com/firebreak/firebreak/internal/testenv"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fb.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:7000\ndata_dir: /from/yaml\nbase_url: https://fb.example.com/\n"), 0o600)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--listen", "127.0.0.1:9000"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FIREBREAK_LISTEN": "127.0.0.1:8000", "FIREBREAK_DATA_DIR": "/from/env"}
	c, err := Load(fs, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.DataDir != "/from/env" || c.BaseURL != "https://fb.example.com" || c.LogLevel != "info" {
		t.Fatalf("config %+v", c)
	}
	os.WriteFile(file, []byte("listn: typo\n"), 0o600)
	if _, err := Load(fs, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("typo in config: %v", err)
	}
}

func TestFirstStartOnce(t *testing.T) {
	ctx := context.Background()
	db := testenv.SQLite(t)
	users, services := &auth.Store{DB: db}, &service.Store{DB: db}
	var out bytes.Buffer
	env := func(string) string { return "" }
	for range 2 {
		if err := FirstStart(ctx, db, users, services, "http://127.0.0.1:8080", env, &out); err != nil {
			t.Fatal(err)
		}
	}
	text := out.String()
	if strings.Count(text, "one-time password") != 1 || strings.Count(text, "curl -sS -X POST http://127.0.0.1:8080/api/v1/integrations/") != 1 {
		t.Fatalf("first start said:\n%s", text)
	}
	pw := strings.Fields(text[strings.Index(text, "password: ")+len("password: "):])[0]
	if _, err := users.Login(ctx, "admin", pw); err != nil {
		t.Fatalf("printed password does not log in: %v", err)
	}
	all, _ := services.List(ctx)
	if len(all) != 1 || all[0].Name != "demo" || !strings.Contains(text, all[0].Keys[0].Key) {
		t.Fatalf("services %+v", all)
	}
}

// Shutdown lets an in-flight request finish and then refuses new connections.
func TestGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in, base, err := TestInstance(ctx, t.TempDir(), "", "correct-horse-battery")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); in.Close() })
	svcs, _ := in.Web.Services.List(ctx)
	url := base + "/api/v1/integrations/" + svcs[0].Keys[0].Key + "/events"
	// A slow body keeps the request in flight while shutdown starts.
	body := &slowBody{parts: []string{`{"summary":"slow","severity":"error",`, `"dedup_key":"slow-1"}`}, delay: 200 * time.Millisecond}
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Post(url, "application/json", body)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	time.Sleep(50 * time.Millisecond) // let the request start; correctness does not depend on it
	cancel()
	resp := <-done
	if resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("in-flight request: %+v", resp)
	}
	n := 0
	_ = in.DB.R.QueryRow(`SELECT count(*) FROM alerts WHERE fingerprint='slow-1'`).Scan(&n)
	if n != 1 {
		t.Fatalf("in-flight alert stored %d times", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := http.Get(base + "/healthz")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still answering after shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type slowBody struct {
	parts []string
	delay time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if len(b.parts) == 0 {
		return 0, io.EOF
	}
	time.Sleep(b.delay)
	n := copy(p, b.parts[0])
	b.parts = b.parts[1:]
	return n, nil
}

func TestDeliveryConfig(t *testing.T) {
	load := func(env map[string]string) (Config, error) {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		AddFlags(fs)
		return Load(fs, func(k string) string { return env[k] })
	}
	c, err := load(map[string]string{"FIREBREAK_SMTP_HOST": "mail.example.com", "FIREBREAK_SMTP_PORT": "2525",
		"FIREBREAK_NOTIFY_TIMEOUT": "3s", "FIREBREAK_SMS_ACCOUNT_SID": "AC1"})
	if err != nil {
		t.Fatal(err)
	}
	dp, opts, err := deps(c)
	if err != nil || dp.SMTP == nil || dp.SMTP.Port != 2525 || dp.SMS == nil || opts.Timeout != 3*time.Second || opts.MaxAttempts != 5 {
		t.Fatalf("deps %+v %+v %v", dp, opts, err)
	}
	if dp, _, _ := deps(Defaults()); dp.SMTP != nil || dp.SMS != nil {
		t.Error("e-mail or SMS on without settings")
	}
	for env, field := range map[string]string{
		"FIREBREAK_NOTIFY_TIMEOUT":      "notify_timeout",
		"FIREBREAK_NOTIFY_BACKOFF":      "notify_backoff",
		"FIREBREAK_NOTIFY_MAX_ATTEMPTS": "notify_max_attempts",
		"FIREBREAK_SMTP_PORT":           "smtp_port",
	} {
		if _, err := load(map[string]string{env: "soon"}); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s=soon: %v", env, err)
		}
	}
}

// Syslog lines sent over UDP and TCP to a running firebreak fire a log check
// and raise its alert through the same writer as any signal.
func TestSyslogToAlert(t *testing.T) {
	free := func(network string) string {
		if network == "udp" {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			return c.LocalAddr().String()
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	c := Defaults()
	c.DataDir, c.Listen, c.BaseURL = t.TempDir(), "127.0.0.1:0", "http://127.0.0.1"
	c.SyslogUDP, c.SyslogTCP = free("udp"), free("tcp")
	log := slog.New(slog.DiscardHandler)
	in, err := newWithEnv(context.Background(), c, log, io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	spec, _ := json.Marshal(map[string]any{"match": []any{map[string]string{"field": "event", "equals": "login_failed"}},
		"group_by": []string{"source_ip"}, "count": 5, "within": "5m"})
	if _, err := in.Web.Checks.Create(ctx, check.Check{Slug: "ssh-bruteforce", Kind: "log", Level: "P1", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	line := func(ip string) string {
		return `<38>1 ` + time.Now().UTC().Format(time.RFC3339) + ` bastion sshd 811 - - {"event":"login_failed","source_ip":"` + ip + `","user":"root"}`
	}
	udp, err := net.Dial("udp", c.SyslogUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for range 3 {
		if _, err := udp.Write([]byte(line("203.0.113.7"))); err != nil {
			t.Fatal(err)
		}
	}
	tcp, err := net.Dial("tcp", c.SyslogTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for range 2 {
		msg := line("203.0.113.7")
		if _, err := fmt.Fprintf(tcp, "%d %s", len(msg), msg); err != nil { // octet counting
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		_ = in.DB.R.QueryRow(`SELECT COUNT(*) FROM alerts WHERE fingerprint LIKE 'check:ssh-bruteforce:%' AND incident_id IS NOT NULL`).Scan(&n)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert from 5 failed logins over syslog (UDP and TCP)")
		}
		time.Sleep(20 * time.Millisecond) // the lines travel through real sockets
	}
}
