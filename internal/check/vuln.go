package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/firebreak/firebreak/internal/alert"
	"github.com/firebreak/firebreak/internal/vulnscan"
)

// VulnEvents turns a scan report into alert events for a service: one alert
// per (target, vulnerability, package) at or above min, of incident type
// typ; findings of the same artifact that a later report no longer lists
// are resolved. Fingerprints are "vuln:{artifact hash}:{finding}".
func VulnEvents(ctx context.Context, q Querier, serviceID int64, r vulnscan.Report, min vulnscan.Severity, typ, level string) ([]alert.Event, error) {
	sum := sha256.Sum256([]byte(r.Artifact))
	prefix := "vuln:" + hex.EncodeToString(sum[:6]) + ":"
	rows, err := q.QueryContext(ctx, `SELECT fingerprint FROM alerts WHERE service_id = $1 AND source = 'vulnscan'
		AND status IN ('firing', 'acknowledged') AND fingerprint LIKE $2`, serviceID, prefix+"%")
	if err != nil {
		return nil, fmt.Errorf("firing findings: %w", err)
	}
	var previous []string
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			rows.Close()
			return nil, err
		}
		previous = append(previous, fp[len(prefix):])
	}
	rows.Close()
	current := r.AtLeast(min)
	_, resolve := vulnscan.Diff(previous, current)
	var events []alert.Event
	sev := func(s vulnscan.Severity) alert.Severity {
		switch {
		case s >= vulnscan.Critical:
			return alert.Critical
		case s >= vulnscan.High:
			return alert.Error
		case s >= vulnscan.Medium:
			return alert.Warning
		}
		return alert.Info
	}
	// Every current finding is sent (new ones open, known ones refresh).
	for _, f := range current {
		details, _ := json.Marshal(map[string]string{"package": f.Package, "installed": f.Installed, "fixed": f.Fixed, "url": f.URL, "scanner": r.Scanner})
		title := f.ID + " in " + f.Package
		if f.Title != "" {
			title += ": " + f.Title
		}
		events = append(events, alert.Event{ServiceID: serviceID, Source: alert.SourceVulnScan, Action: alert.Trigger,
			Fingerprint: prefix + f.Fingerprint, Summary: title, Severity: sev(f.Severity), Type: typ, Level: level, Details: details,
			Labels: map[string]string{"artifact": r.Artifact, "target": f.Target, "vulnerability": f.ID, "package": f.Package,
				"severity": f.Severity.String(), "scanner": r.Scanner}})
	}
	for _, fp := range resolve {
		events = append(events, alert.Event{ServiceID: serviceID, Source: alert.SourceVulnScan, Action: alert.Resolve,
			Fingerprint: prefix + fp, Summary: "no longer reported by " + r.Scanner, Severity: alert.Info})
	}
	return events, nil
}
