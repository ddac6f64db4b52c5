package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/warden-iam/warden/internal/scim"
)

// The formats AWS (and warden) accept, from the services' API models.
var (
	idPattern          = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	roleARNPattern     = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/(.+)$`)
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathPattern    = regexp.MustCompile(`^[\x21-\x7e]*$`)
	externalIDChars    = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	regionPattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	envNamePattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ouIDPattern        = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	rootIDPattern      = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	instanceARNPattern = regexp.MustCompile(`^arn:aws(-us-gov|-cn|-iso|-iso-b)?:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	identityStorePat   = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
)

// roleARNProblem returns what is wrong with a role ARN, or "".
func roleARNProblem(arn string) string {
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return "is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name> (arn:aws-cn or arn:aws-us-gov in those partitions)"
	}
	pathAndName := m[2]
	name := pathAndName[strings.LastIndex(pathAndName, "/")+1:]
	if !roleNamePattern.MatchString(name) {
		return fmt.Sprintf("names role %q, which is not a valid role name (1 to 64 letters, digits and +=,.@_-)", name)
	}
	if len(pathAndName) > 512+64 || !rolePathPattern.MatchString(pathAndName) {
		return "has a role path IAM does not accept (printable ASCII, at most 512 characters)"
	}
	return ""
}

// roleNameProblem returns what is wrong with a role name (optionally with a
// path: "team/WardenReadRole"), or "".
func roleNameProblem(name string) string {
	i := strings.LastIndex(name, "/")
	if !roleNamePattern.MatchString(name[i+1:]) {
		return fmt.Sprintf("%q is not a valid role name: use 1 to 64 letters, digits and +=,.@_-", name)
	}
	if i >= 0 && (!rolePathPattern.MatchString(name[:i]) || strings.Contains(name[:i], "//") || strings.HasPrefix(name, "/")) {
		return fmt.Sprintf("%q has a role path IAM does not accept; write path/name without a leading slash", name)
	}
	return ""
}

// externalIDProblem returns what is wrong with an ExternalId, or "". It never
// repeats the value.
func externalIDProblem(v string) string {
	if n := len(v); n < 2 || n > 1224 {
		return fmt.Sprintf("is not a valid ExternalId: it has %d characters and AWS accepts 2 to 1224", n)
	}
	if !externalIDChars.MatchString(v) {
		for _, r := range v {
			if !externalIDChars.MatchString(string(r)) {
				return fmt.Sprintf("is not a valid ExternalId: it contains %q; AWS accepts letters, digits and +=,.@:/-_", r)
			}
		}
	}
	return ""
}

// endpointProblem returns what is wrong with an endpoint URL, or "". When
// httpsOnly, plain http is accepted only for a loopback host (a local
// emulator).
func endpointProblem(raw string, httpsOnly bool) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not a URL; write it with its scheme, e.g. https://host or http://127.0.0.1:4566", raw)
	}
	if u.User != nil {
		return "must not carry a user name or password; credentials are configured elsewhere"
	}
	if httpsOnly {
		// The one rule the CLI applies too.
		return scim.CleartextProblem(raw)
	}
	return ""
}

// ouPatternProblem returns what is wrong with an OU filter entry, or "".
func ouPatternProblem(p string) string {
	if strings.HasPrefix(p, "ou-") || strings.HasPrefix(p, "r-") {
		if ouIDPattern.MatchString(p) || rootIDPattern.MatchString(p) {
			return ""
		}
		return fmt.Sprintf("%q is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)", p)
	}
	segs := strings.Split(p, "/")
	if segs[0] != "Root" {
		return fmt.Sprintf("%q is not an OU path or id; paths start at the root, e.g. \"Root/Prod/*\", and ids look like ou-ab12-cd34ef56", p)
	}
	for _, s := range segs {
		switch {
		case s == "":
			return fmt.Sprintf("%q has an empty OU name; remove the doubled or trailing slash", p)
		case s != "*" && strings.Contains(s, "*"):
			return fmt.Sprintf("%q uses * inside a name; * stands only for a whole OU name (\"Root/*/Web\") or, last, for everything below (\"Root/Prod/*\")", p)
		}
	}
	return ""
}
