package web

import (
	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/signal"
)

// register is the routing table: every route and who may call it.
func (s *Server) register() {
	// Operations.
	s.handle("GET /healthz", Public, s.healthz)
	s.handle("GET /readyz", Public, s.readyz)
	s.handle("GET /metrics", Public, s.metricsHandler())
	s.handle("GET /api/v1/openapi.json", Public, s.openAPI)

	// Inbound signals, authenticated by their integration key.
	s.handle("POST /api/v1/integrations/{key}/alertmanager", Ingest, s.keyed(alert.SourceAlertmanager, signal.ParseAlertmanager))
	s.handle("POST /api/v1/integrations/{key}/grafana", Ingest, s.keyed(alert.SourceGrafana, signal.ParseGrafana))
	s.handle("POST /api/v1/integrations/{key}/events", Ingest, s.keyed(alert.SourceGeneric, signal.ParseGeneric))
	s.handle("POST /v2/enqueue", Ingest, s.pagerDuty(false))
	s.handle("POST /generic/2010-04-15/create_event.json", Ingest, s.pagerDuty(true))

	// REST API.
	s.handle("GET /api/v1/me", Viewer, s.apiMe)
	s.handle("GET /api/v1/plan", Viewer, s.apiPlan)
	s.handle("GET /api/v1/incidents", Viewer, s.apiListIncidents)
	s.handle("POST /api/v1/incidents", Responder, s.apiDeclare)
	s.handle("GET /api/v1/incidents/{id}", Viewer, s.apiGetIncident)
	s.handle("POST /api/v1/incidents/{id}/status", Responder, s.apiSetStatus)
	s.handle("POST /api/v1/incidents/{id}/level", Responder, s.apiSetLevel)
	s.handle("POST /api/v1/incidents/{id}/notes", Responder, s.apiAddNote)
	s.handle("GET /api/v1/incidents/{id}/timeline", Viewer, s.apiTimeline)
	s.handle("GET /api/v1/incidents/{id}/alerts", Viewer, s.apiListAlerts)
	s.handle("GET /api/v1/alerts", Viewer, s.apiListAlerts)
	s.handle("GET /api/v1/alerts/{id}", Viewer, s.apiGetAlert)
	s.handle("GET /api/v1/services", Viewer, s.apiListServices)
	s.handle("POST /api/v1/services", Admin, s.apiCreateService)
	s.handle("GET /api/v1/services/{id}", Viewer, s.apiGetService)
	s.handle("PATCH /api/v1/services/{id}", Admin, s.apiUpdateService)
	s.handle("POST /api/v1/services/{id}/keys", Admin, s.apiAddKey)
	s.handle("DELETE /api/v1/services/{id}/keys/{keyID}", Admin, s.apiDeleteKey)
	s.handle("GET /api/v1/users", Admin, s.apiListUsers)
	s.handle("POST /api/v1/users", Admin, s.apiCreateUser)
	s.handle("GET /api/v1/tokens", Viewer, s.apiListTokens)
	s.handle("POST /api/v1/tokens", Viewer, s.apiCreateToken)
	s.handle("DELETE /api/v1/tokens/{id}", Viewer, s.apiRevokeToken)

	// On-call: people, contact methods, teams, schedules, escalation policies (routes_oncall.go).
	s.registerOnCall()
	// Paging: one-click action links, escalate now, reassign, the notification log (routes_paging.go).
	s.registerPaging()

	// Early warning: checks, heartbeats, log and scan ingest, maintenance windows (routes_checks.go).
	s.registerChecks()

	// Browser UI.
	s.registerUI()
}
