package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

const clickPage = `<!doctype html>
<html><head><title>testenv</title></head><body>
<button id="b" onclick="this.textContent = 'clicked'">press</button>
</body></html>`

func TestBrowserClick(t *testing.T) {
	ctx := Browser(t)

	// httptest.NewServer listens on loopback (127.0.0.1, or ::1 without IPv4).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(clickPage))
	}))
	t.Cleanup(srv.Close)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.ID("b")),
	); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("b")))
	if err != nil {
		t.Fatal(err)
	}
	if before != "press" {
		t.Fatalf("button text before click = %q, want %q", before, "press")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("b"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("b").textContent === "clicked"`)); err != nil {
		t.Fatalf("button text did not change: %v", err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("b")))
	if err != nil {
		t.Fatal(err)
	}
	if after != "clicked" {
		t.Fatalf("button text after click = %q, want %q", after, "clicked")
	}
}
