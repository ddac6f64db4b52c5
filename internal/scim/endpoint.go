package scim

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// EndpointProblem returns what is wrong with a SCIM endpoint URL, or ""
// when the bearer token may be sent to it: an http or https URL with a
// host and no user name or password, and https unless the host is a
// loopback one (CleartextProblem).
func EndpointProblem(raw string) string {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not a URL; use the endpoint Identity Center shows under Automatic provisioning, https://scim.<region>.amazonaws.com/<tenant>/scim/v2", raw)
	}
	if u.User != nil {
		return fmt.Sprintf("%q must not carry a user name or password; the token is read from the environment or a file", u.Redacted())
	}
	return CleartextProblem(raw)
}

// CleartextProblem returns why a bearer token must not be sent to raw, or
// "": plain http is accepted only for a loopback host (localhost,
// 127.0.0.0/8, ::1: a local emulator), since anywhere else the token would
// travel in clear text. It is the one rule warden.yaml's validation and
// the command line both apply; a URL that does not parse is left to
// EndpointProblem.
func CleartextProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || IsLoopbackHost(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("%q uses http; the token would travel in clear text, so use https (http is accepted only for localhost)", u.Redacted())
}

// IsLoopbackHost reports whether host (without port) names this machine:
// localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
