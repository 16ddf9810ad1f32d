// Package webhook delivers firebreak notifications to any HTTP endpoint as a
// signed JSON POST.
//
// # Request
//
// Each notification is one POST with Content-Type application/json and body
//
//	{
//	  "event":   "incident.notification",
//	  "sent_at": "2026-01-02T15:04:05Z",
//	  "message": {"incident_id": 42, "title": "...", "level": "P0", ...}
//	}
//
// where "message" is a [notify.Message] in its JSON form. The request carries
// these headers:
//
//	X-Firebreak-Timestamp: 1767366245
//	X-Firebreak-Signature: sha256=5d0c…
//	Idempotency-Key:       incident-42/step-1/alice/webhook   (when known)
//
// # Signature
//
// The signature is computed the way Stripe and GitHub do it: the hex-encoded
// HMAC-SHA256, keyed with the shared secret, of the timestamp header's value,
// a literal ".", and the raw request body, byte for byte:
//
//	hex(HMAC_SHA256(secret, timestamp + "." + body))
//
// A receiver must compute the HMAC over the body exactly as received (before
// any JSON parsing), compare it in constant time, and reject timestamps too far
// from its own clock (five minutes is usual) so that a captured request cannot
// be replayed later. Deliveries can be retried, so a receiver should also drop
// requests whose Idempotency-Key it has already processed. Go receivers can call
// [Verify]. In Python:
//
//	import hashlib, hmac, time
//
//	def verify(secret: bytes, headers, body: bytes, tolerance=300) -> bool:
//	    ts = headers["X-Firebreak-Timestamp"]
//	    if abs(time.time() - int(ts)) > tolerance:
//	        return False  # too old or too far in the future: possible replay
//	    want = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
//	    got = headers["X-Firebreak-Signature"]
//	    return any(hmac.compare_digest("sha256=" + want, s.strip())
//	               for s in got.split(","))
//
// From a shell, with the body saved to body.json and the timestamp in $TS:
//
//	printf '%s.' "$TS" | cat - body.json |
//	  openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.*= /sha256=/'
//
// and compare the output with the X-Firebreak-Signature header.
//
// # Answers
//
// Any 2xx answer is success. 408, 425, 429, 5xx and network errors are retried;
// other statuses (400, 401, 404, ...) are permanent failures.
package webhook
