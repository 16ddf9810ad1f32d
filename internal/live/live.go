// Package live fans out change notices to the browsers watching them (Server-Sent
// Events). A notice only says "incident N changed"; watchers read what is new from
// the database, so a missed notice never loses data.
package live

import "sync"

// Hub delivers notices to subscribers. The zero value is ready to use.
type Hub struct {
	mu   sync.Mutex
	subs map[*Sub]struct{}
}

// Sub is one subscriber. C receives incident IDs; a slow subscriber gets the
// notices coalesced rather than blocking the publisher.
type Sub struct {
	C        chan int64
	incident int64 // 0 = every incident
}

// Subscribe returns a subscription to one incident (or every incident with 0).
func (h *Hub) Subscribe(incidentID int64) *Sub {
	s := &Sub{C: make(chan int64, 16), incident: incidentID}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*Sub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Unsubscribe stops deliveries to s.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// Publish tells subscribers that incidents changed. It never blocks.
func (h *Hub) Publish(ids ...int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for _, id := range ids {
			if s.incident != 0 && s.incident != id {
				continue
			}
			select {
			case s.C <- id:
			default: // already has pending notices; it will re-read anyway
			}
		}
	}
}

// Count returns the number of subscribers.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
