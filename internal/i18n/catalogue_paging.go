package i18n

import "maps"

// Messages of paging: action links, escalation, the notification log, engine timeline entries.
func init() {
	maps.Copy(catalogue, map[string]Message{})
}
