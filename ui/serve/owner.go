package serve

import (
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"itscope/data"
)

// identity is who a session acts as: its authenticated key, never the user
// name the client chose (anyone can log in as "alice" with their own key).
type identity struct {
	fingerprint string // SHA256:..., the owner recorded in jobs
	name        string // the key's authorized_keys comment, for display
	admin       bool   // the key is in --admin-keys: may cancel any job
}

// identify names the holder of key by its fingerprint and its comment in
// authorized_keys (the admin keys' comment when it has none there). A key
// with no comment is shown by the start of its fingerprint.
func (s *Server) identify(key gossh.PublicKey) identity {
	if key == nil {
		return identity{fingerprint: "-", name: "-"}
	}
	id := identity{fingerprint: gossh.FingerprintSHA256(key)}
	if s.keys != nil {
		id.name, _ = s.keys.lookup(key)
	}
	if s.admins != nil {
		comment, ok := s.admins.lookup(key)
		id.admin = ok
		if id.name == "" {
			id.name = comment
		}
	}
	id.name = data.Printable(strings.TrimSpace(id.name))
	if id.name == "" {
		short := strings.TrimPrefix(id.fingerprint, "SHA256:")
		id.name = "key " + short[:min(8, len(short))]
	}
	return id
}
