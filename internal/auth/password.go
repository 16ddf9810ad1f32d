package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits for passwords people choose.
const (
	MinPasswordLen = 12   // characters
	MaxPasswordLen = 1024 // bytes
)

// ErrMalformedHash is returned by VerifyPassword for a hash it cannot parse.
var ErrMalformedHash = errors.New("malformed password hash")

type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  uint32
}

// params are used for new hashes; tests lower them. Verification reads the
// parameters from the hash itself.
var params = argonParams{memory: 64 * 1024, time: 2, threads: 2, saltLen: 16, keyLen: 32}

var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes pw with argon2id and returns it in PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, params.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	p := params
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches hash, comparing in constant time.
// A hash that is not a sane argon2id PHC string is an error.
func VerifyPassword(hash, pw string) (bool, error) {
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, ErrMalformedHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) ||
		p < 1 || p > 64 || t < 1 || t > 16 || m < 8*uint32(p) || m > 1<<20 {
		return false, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < 8 {
		return false, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	want, err := b64.DecodeString(f[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false, fmt.Errorf("%w: bad key", ErrMalformedHash)
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when a login names no user, so that unknown
// usernames take as long as wrong passwords.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("firebreak timing equaliser")
	return h
})

// ValidatePassword checks a password a person chose.
func ValidatePassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return &FieldError{"password", fmt.Sprintf("must be at least %d characters", MinPasswordLen)}
	case len(pw) > MaxPasswordLen:
		return &FieldError{"password", fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)}
	case !utf8.ValidString(pw):
		return &FieldError{"password", "must be valid UTF-8"}
	}
	return nil
}

// passwordAlphabet leaves out characters that are easy to confuse (0 O o 1 l I).
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 20-character password (about 116 bits).
func GeneratePassword() string {
	const n = 20
	limit := byte(256 - 256%len(passwordAlphabet)) // reject bytes that would bias the choice
	out := make([]byte, 0, n)
	buf := make([]byte, 32)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if b < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
