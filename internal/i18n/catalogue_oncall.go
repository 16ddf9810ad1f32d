package i18n

import "maps"

// Messages of the on-call area: people, contact methods, teams, schedules, policies.
func init() {
	maps.Copy(catalogue, map[string]Message{})
}
