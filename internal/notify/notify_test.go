package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPostJSONClassifies(t *testing.T) {
	for _, c := range []struct {
		status    int
		retry, ok bool
	}{{200, false, true}, {204, false, true}, {400, false, false}, {404, false, false}, {429, true, false}, {500, true, false}, {503, true, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var v map[string]string
			if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&v) != nil || v["a"] != "b" || r.Header.Get("X-T") != "1" {
				w.WriteHeader(418)
				return
			}
			w.WriteHeader(c.status)
		}))
		_, retry, err := PostJSON(context.Background(), nil, srv.URL, map[string]string{"a": "b"}, http.Header{"X-T": {"1"}})
		srv.Close()
		if retry != c.retry || (err == nil) != c.ok {
			t.Errorf("status %d: retry %v err %v", c.status, retry, err)
		}
	}
	// A server that is gone is worth retrying.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, retry, err := PostJSON(context.Background(), nil, url, 1, nil); err == nil || !retry {
		t.Fatalf("closed server: retry %v err %v", retry, err)
	}
}
