package serve

import (
	"github.com/charmbracelet/ssh"
)

// isAdmin reports whether the session's key is listed in --admin-keys: it
// may cancel anyone's job.
func (s *Server) isAdmin(sess ssh.Session) bool {
	k := sess.PublicKey()
	return s.admins != nil && k != nil && s.admins.allowed(k)
}
