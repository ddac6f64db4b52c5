package policy

import (
	"fmt"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// Decision is the outcome of evaluating a request, as AWS's policy
// evaluation logic names it.
type Decision string

// The three decisions AWS's evaluation logic reaches, and Conditional: the
// answer when the request leaves condition keys unknown (Request.Unknown)
// and the allow depends on them.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicit_deny"
	ImplicitDeny Decision = "implicit_deny"
	// Conditional means allowed if the requirements of any one of
	// Result.AllowedIf hold; it is reached only when Request.Unknown is set.
	Conditional Decision = "allowed_if"
)

// Named is a policy document with the name it is known by and the way it
// reaches the principal (direct, group G, permission set P …).
type Named struct {
	Name    string
	Via     string
	Doc     *Document
	compErr error
}

// Level is the set of Organizations policies (SCPs or RCPs) attached to one
// target of the chain from the root through each OU to the account.
type Level struct {
	Target   string
	Policies []Named
	name     string // "SCP at "+Target or "RCP at "+Target, made once
}

// via names the level in explanations; ParseRequests makes the text once
// (Evaluate never writes to the request, so it is safe to share).
func (l *Level) via(prefix string) string {
	if strings.HasPrefix(l.name, prefix) {
		return l.name
	}
	return prefix + l.Target
}

// Request is one concrete request to decide. A nil Boundary, SessionPolicy
// or ResourcePolicy means none; a nil SCPs means the account is not in an
// organization (or is exempt); a nil RCPs means AWS's default allow-all RCP.
type Request struct {
	Principal       string
	PrincipalIsUser bool
	// PrincipalRole is, for an assumed-role session Principal, its role's
	// ARN with the role's path (arn:aws:iam::A:role/path/R), which a
	// resource policy naming the role matches. A session ARN does not
	// carry the path: when PrincipalRole is empty the role is read from
	// the session ARN, as arn:aws:iam::A:role/R.
	PrincipalRole   string
	Action          string
	Resource        string
	ResourceAccount string
	// Context holds the request's condition keys (multivalued keys hold
	// several values); key names compare case-insensitively.
	Context        map[string][]string
	Identity       []Named
	Boundary       []Named
	SCPs           []Level
	RCPs           []Level
	ResourcePolicy *Named
	SessionPolicy  *Named
	// Unknown, when true, makes a condition key absent from Context
	// unknown (the question did not give it) rather than absent (as at
	// request time): a decision that depends on such a key is Conditional,
	// with the requirements under which it is allowed. `policy eval`
	// decides concrete requests and leaves it false.
	Unknown bool
}

// Step is one statement that took part in a decision.
type Step struct {
	Kind      string `json:"kind"` // identity, boundary, scp, rcp, resource, session
	Policy    string `json:"policy"`
	Via       string `json:"via"`
	Statement string `json:"statement"` // Sid, or "#n" (1-based index)
	Effect    string `json:"effect"`
	Note      string `json:"note"`
	match     int
}

// How a resource policy statement's Principal named the principal.
const (
	matchNone    = iota
	matchAccount // the principal's account
	matchRole    // the role of the principal's session
	matchExact   // the principal's own ARN, or "*"
)

// Result is a decision and the statements (or missing allows) that decided it.
type Result struct {
	Decision    Decision `json:"decision"`
	Explanation []Step   `json:"explanation"`
	// AllowedIf, for a Conditional decision, lists the alternatives: the
	// request is allowed if the requirements of any one of them hold.
	AllowedIf []Alternative `json:"allowed_if,omitempty"`
}

func accountOf(arn string) string {
	// The fifth of the six colon-separated parts, without splitting.
	start, n := 0, 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			n++
			if n == 4 {
				start = i + 1
			} else if n == 5 {
				return arn[start:i]
			}
		}
	}
	if model.IsAccountID(arn) {
		return arn
	}
	return ""
}

// Glob reports whether s matches pattern p, where '*' matches any run of
// characters (also none) and '?' any one character.
func Glob(p, s string) bool { return glob(p, s, false) }

// globFold is Glob with ASCII letters compared case-insensitively.
func globFold(p, s string) bool { return glob(p, s, true) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func glob[P ~string | ~[]byte](p P, s string, fold bool) bool {
	px, sx := 0, 0
	nextP, nextS := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch p[px] {
			case '*':
				nextP, nextS = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case esc:
				if px+1 < len(p) && sx < len(s) && (s[sx] == p[px+1] || fold && lower(s[sx]) == lower(p[px+1])) {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && (s[sx] == p[px] || fold && lower(s[sx]) == lower(p[px])) {
					px++
					sx++
					continue
				}
			}
		}
		if nextS > 0 && nextS <= len(s) {
			px, sx = nextP, nextS
			continue
		}
		return false
	}
	return true
}

// MatchARN matches an ARN against a pattern as AWS does: each of the six
// colon-separated parts is matched on its own, so a wildcard does not
// cross a colon before the resource part. A pattern that is not an ARN
// ("*") is matched as a whole.
func MatchARN(p, arn string) bool {
	if p == "*" {
		return true
	}
	pn, an := strings.Count(p, ":"), strings.Count(arn, ":")
	if an >= 5 && pn < 5 {
		return false
	}
	if pn < 5 || an < 5 {
		return Glob(p, arn)
	}
	for i := 0; i < 6; i++ {
		var ps, as string
		if i < 5 {
			pi, ai := strings.IndexByte(p, ':'), strings.IndexByte(arn, ':')
			ps, p = p[:pi], p[pi+1:]
			as, arn = arn[:ai], arn[ai+1:]
		} else {
			ps, as = p, arn
		}
		if i == 0 || i == 2 {
			if !globFold(ps, as) {
				return false
			}
		} else if !Glob(ps, as) {
			return false
		}
	}
	return true
}

// sessionRole returns the role ARN of an assumed-role session ARN.
func sessionRole(p string) string {
	i := strings.Index(p, ":assumed-role/")
	if i < 0 {
		return ""
	}
	rest := p[i+len(":assumed-role/"):]
	name, _, _ := strings.Cut(rest, "/")
	acct := accountOf(p)
	part := strings.SplitN(p, ":", 3)
	return "arn:" + part[1] + ":iam::" + acct + ":role/" + name
}

// indexIDs are the "#n" names of unnamed statements, made once.
var indexIDs = func() []string {
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = fmt.Sprintf("#%d", i+1)
	}
	return ids
}()

func stmtIndex(i int) string {
	if i < len(indexIDs) {
		return indexIDs[i]
	}
	return fmt.Sprintf("#%d", i+1)
}
