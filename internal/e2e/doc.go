// Package e2e holds end-to-end tests and benchmarks that run a complete firebreak
// (server.TestInstance on a loopback port, against real SQLite and real
// PostgreSQL) and drive it with real third-party software: a Prometheus
// Alertmanager subprocess, the PagerDuty Go client, and many concurrent HTTP
// posters for the ingest benchmark. It contains no production code.
//
// Run it like the rest of the suite (make test), or directly:
//
//	FIREBREAK_TEST_DATABASE_URL=postgres://... CI=true go test -race ./internal/e2e/
//	go test -run '^$' -bench Ingest -benchtime=20000x -benchmem ./internal/e2e/
package e2e
