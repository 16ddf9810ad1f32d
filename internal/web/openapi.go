package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// openAPISpec is the OpenAPI 3.1 document of every /api/v1 route and the
// PagerDuty-compatible inbound endpoints. openapi_test.go keeps it in step with
// the routing table: paths, methods and x-firebreak-role must match routes.go.
//
//go:embed openapi.json
var openAPISpec []byte

// openAPIFields is the embedded document split into its top-level fields.
var openAPIFields = sync.OnceValues(func() (map[string]json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPISpec, &doc); err != nil {
		return nil, fmt.Errorf("embedded openapi.json: %w", err)
	}
	return doc, nil
})

// openAPIDocument returns the document with servers naming baseURL (omitted
// when empty, which means "this host" to OpenAPI tools).
func openAPIDocument(baseURL string) ([]byte, error) {
	fields, err := openAPIFields()
	if err != nil {
		return nil, err
	}
	doc := make(map[string]json.RawMessage, len(fields)+1)
	for k, v := range fields {
		doc[k] = v
	}
	if base := strings.TrimRight(baseURL, "/"); base != "" {
		servers, err := json.Marshal([]map[string]string{{"url": base, "description": "This firebreak server"}})
		if err != nil {
			return nil, err
		}
		doc["servers"] = servers
	}
	// Keep the conventional order of the top-level fields; the rest follow sorted.
	order := []string{"openapi", "info", "servers", "tags", "paths", "components"}
	var rest []string
	for k := range doc {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for _, k := range order {
		v, ok := doc[k]
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(k)
		buf.Write(name)
		buf.WriteByte(':')
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("openapi field %s: %w", k, err)
		}
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := openAPIDocument(s.BaseURL)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeRaw(w, http.StatusOK, b)
}
