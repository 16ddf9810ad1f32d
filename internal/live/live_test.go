package live

import "testing"

func TestHub(t *testing.T) {
	var h Hub
	all, one := h.Subscribe(0), h.Subscribe(7)
	h.Publish(3, 7)
	if got := len(all.C); got != 2 {
		t.Fatalf("all got %d notices", got)
	}
	if got := <-one.C; got != 7 || len(one.C) != 0 {
		t.Fatalf("one got %d (+%d)", got, len(one.C))
	}
	for range 100 { // a full subscriber never blocks the publisher
		h.Publish(7)
	}
	h.Unsubscribe(all)
	h.Unsubscribe(one)
	if h.Count() != 0 {
		t.Fatal("subscribers left")
	}
}
