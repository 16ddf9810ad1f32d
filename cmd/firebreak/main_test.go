package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// run executes the CLI in process and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := root()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	d := "--data-dir=" + dir
	out, err := run(t, "migrate", d)
	if err != nil || !strings.Contains(out, "sqlite schema at version") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	out, err = run(t, "user", "create", "Bob", "--role", "viewer", d)
	if err != nil || !strings.Contains(out, "created user bob (viewer)") || !strings.Contains(out, "password: ") {
		t.Fatalf("user create: %v %s", err, out)
	}
	if _, err := run(t, "user", "create", "bob", d); err == nil {
		t.Fatal("duplicate user accepted")
	}
	if _, err := run(t, "user", "create", "carol", "--role", "boss", d); err == nil || !strings.Contains(err.Error(), "--role") {
		t.Fatalf("bad role: %v", err)
	}
	out, err = run(t, "token", "create", "--user", "bob", d)
	if err != nil || !strings.HasPrefix(out, "fbt_") {
		t.Fatalf("token: %v %q", err, out)
	}
	if _, err := run(t, "token", "create", "--user", "nobody", d); err == nil {
		t.Fatal("token for unknown user")
	}
	ref := filepath.Join("..", "..", "..", "shared", "examples", "plan.yaml")
	if _, err := os.Stat(ref); err == nil {
		if out, err := run(t, "plan", "validate", "-f", ref); err != nil || !strings.Contains(out, "valid plan") {
			t.Fatalf("validate reference plan: %v %s", err, out)
		}
		if out, err := run(t, "plan", "apply", "-f", ref, d); err != nil || !strings.Contains(out, "applied plan version 1") {
			t.Fatalf("apply: %v %s", err, out)
		}
		if out, _ := run(t, "plan", "apply", "-f", ref, d); !strings.Contains(out, "unchanged") {
			t.Fatalf("second apply: %s", out)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nname: x\nlevels:\n  - id: P0\n    targets: {acknowledge: 10x}\n"), 0o600)
	if _, err := run(t, "plan", "validate", "-f", bad); err == nil || !strings.Contains(err.Error(), ":5:") {
		t.Fatalf("bad plan error should name line 5: %v", err)
	}
	if out, err := run(t, "version"); err != nil || !strings.HasPrefix(out, "firebreak ") {
		t.Fatalf("version: %v %s", err, out)
	}
}

// The real binary serves, accepts the printed curl's request, and exits cleanly on SIGTERM.
func TestServeAndSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "firebreak")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FIREBREAK_LISTEN="+addr, "FIREBREAK_DATA_DIR="+t.TempDir(), "FIREBREAK_ADMIN_PASSWORD=a-long-enough-password")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var url, body string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "curl ") {
			url = strings.Fields(line)[4]
		}
		if strings.HasPrefix(line, "-d '") {
			body = strings.TrimSuffix(strings.TrimPrefix(line, "-d '"), "'")
		}
		if strings.HasPrefix(line, "firebreak is running at") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if url == "" || body == "" {
		t.Fatalf("no curl line printed; stderr:\n%s", stderr.String())
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("curl line answered %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("log:\n%s", stderr.String())
	}
}
