package testenv

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds the whole life of a browser that Browser starts.
const BrowserTimeout = 60 * time.Second

// Browser starts headless Chromium and returns a chromedp context that is cancelled when the test ends.
//
// The browser is started before Browser returns, so a broken installation fails
// here with Chromium's own output. Every action on the context (and on contexts
// derived from it) shares one BrowserTimeout deadline. Under CI=true a missing
// Chromium fails the test; otherwise it skips it.
func Browser(t testing.TB) context.Context {
	t.Helper()
	exe := Binary(t, "chromium", "chromium-browser", "google-chrome")
	dataDir := t.TempDir() // registered first, so removed after the browser is gone
	out := &tailBuffer{max: 64 << 10}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // required as root (CI), harmless otherwise in a throwaway profile
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dataDir),
		chromedp.CombinedOutput(out),
	)

	tctx, cancelTimeout := context.WithTimeout(context.Background(), BrowserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(tctx, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// Close gracefully so Chromium flushes and exits with its children, then
		// tear everything down regardless.
		gctx, gcancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(gctx)
		gcancel()
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
		// Helpers (zygote, crashpad, network service) can outlive the main
		// process and keep writing into the profile, which would make the
		// t.TempDir cleanup fail.
		killProfileUsers(dataDir)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			if s := out.String(); s != "" {
				t.Logf("chromium output (tail):\n%s", s)
			}
		}
	})

	if err := chromedp.Do(ctx); err != nil { // start the browser and open the first tab
		stop()
		t.Fatalf("start %s: %v\nchromium output:\n%s", exe, err, out.String())
	}
	return ctx
}

// killProfileUsers kills the processes whose command line names dir as their
// user data directory, until none is left for a few passes (Linux /proc only;
// elsewhere it does nothing).
func killProfileUsers(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return
		}
		n := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
				if bytes.Equal(arg, want) {
					if p, err := os.FindProcess(pid); err == nil {
						_ = p.Kill()
					}
					n++
					break
				}
			}
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// tailBuffer keeps the last max bytes written to it; it is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
