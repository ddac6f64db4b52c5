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

// Evaluate decides req as AWS's documented evaluation logic does: an
// explicit deny in any policy wins; then every SCP level, every RCP level,
// the permissions boundary and the session policy must allow; then an allow
// in an identity or resource-based policy (cross-account: both sides).
func Evaluate(req *Request) Result {
	ctx := newCtx(req)
	var denies []Step
	collect := func(kind, via string, ps []Named, dst *[]Step) {
		for i := range ps {
			matchDoc(kind, via, &ps[i], ctx, false, dst, &denies)
		}
	}
	var idAllow, bAllow, sAllow, rAllow, rcpAllow, resAllow []Step
	collect("identity", "", req.Identity, &idAllow)
	if req.Boundary != nil {
		collect("boundary", "permissions boundary", req.Boundary, &bAllow)
	}
	if req.SessionPolicy != nil {
		matchDoc("session", "session policy", req.SessionPolicy, ctx, false, &sAllow, &denies)
	}
	scpMissing := ""
	for i := range req.SCPs {
		lv := &req.SCPs[i]
		n := len(rAllow)
		collect("scp", lv.via("SCP at "), lv.Policies, &rAllow)
		if len(rAllow) == n && scpMissing == "" {
			scpMissing = lv.Target
		}
	}
	rcpMissing := ""
	for i := range req.RCPs {
		lv := &req.RCPs[i]
		n := len(rcpAllow)
		collect("rcp", lv.via("RCP at "), lv.Policies, &rcpAllow)
		if len(rcpAllow) == n && rcpMissing == "" {
			rcpMissing = lv.Target
		}
	}
	if req.ResourcePolicy != nil {
		matchDoc("resource", "", req.ResourcePolicy, ctx, true, &resAllow, &denies)
	}
	if len(denies) > 0 {
		return Result{Decision: ExplicitDeny, Explanation: denies}
	}
	miss := func(kind, note string) Result {
		return Result{Decision: ImplicitDeny, Explanation: []Step{{Kind: kind, Effect: "none", Note: note}}}
	}
	if scpMissing != "" {
		return miss("scp", "no SCP attached at "+scpMissing+" allows the action")
	}
	if rcpMissing != "" {
		return miss("rcp", "no RCP attached at "+rcpMissing+" allows the action")
	}
	guards := append(append([]Step{}, rAllow...), rcpAllow...)
	pacct := accountOf(req.Principal)
	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == pacct
	// A principal that is not of an account (a service, a federated
	// provider, a canonical user) is granted by the resource policy alone.
	if pacct == "" && len(resAllow) > 0 {
		return Result{Decision: Allowed, Explanation: append(guards, resAllow...)}
	}
	// A same-account resource policy naming an IAM user or a role session
	// ARN itself grants on its own; the boundary and session policy do not
	// limit it.
	direct, role := false, false
	for _, a := range resAllow {
		direct = direct || a.match == matchExact
		role = role || a.match == matchRole
	}
	if sameAccount && direct {
		return Result{Decision: Allowed, Explanation: append(guards, resAllow...)}
	}
	if req.Boundary != nil && len(bAllow) == 0 {
		return miss("boundary", "the permissions boundary does not allow the action")
	}
	if req.SessionPolicy != nil && len(sAllow) == 0 {
		return miss("session", "the session policy does not allow the action")
	}
	guards = append(append(guards, bAllow...), sAllow...)
	if sameAccount {
		// A resource policy naming the session's role grants within the
		// boundary; one naming the account delegates to identity policies.
		if len(idAllow) > 0 || role {
			return Result{Decision: Allowed, Explanation: append(append(guards, idAllow...), resAllow...)}
		}
		return miss("identity", "no identity-based or resource-based policy allows the action")
	}
	if len(idAllow) == 0 {
		return miss("identity", "cross-account: no identity-based policy allows the action")
	}
	if len(resAllow) == 0 {
		return miss("resource", "cross-account: the resource-based policy of account "+req.ResourceAccount+" does not allow the principal")
	}
	return Result{Decision: Allowed, Explanation: append(append(guards, idAllow...), resAllow...)}
}

func accountOf(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) == 6 {
		return p[4]
	}
	if model.IsAccountID(arn) {
		return arn
	}
	return ""
}

// matchDoc returns the Allow and Deny statements of n that apply to the request.
func matchDoc(kind, via string, n *Named, c *evalCtx, resource bool, allows, denies *[]Step) {
	if n.Doc == nil {
		return
	}
	literal := n.Doc.Version != "2012-10-17"
	for i := range n.Doc.Statement {
		s := &n.Doc.Statement[i]
		if !stmtApplies(s, c, literal, resource) {
			continue
		}
		id := s.Sid
		if id == "" {
			id = stmtIndex(i)
		}
		st := Step{Kind: kind, Policy: n.Name, Via: n.Via, Statement: id, Effect: s.Effect}
		if via != "" {
			st.Via = via
		}
		if resource && s.Principal != nil {
			st.match = principalKind(s.Principal, c.req.Principal)
		}
		if s.Effect == "Deny" {
			*denies = append(*denies, st)
		} else if s.Effect == "Allow" {
			*allows = append(*allows, st)
		}
	}
}

func stmtApplies(s *Statement, c *evalCtx, literal, resource bool) bool {
	if len(s.Action) > 0 {
		if !anyMatch(s.Action, c.req.Action, true) {
			return false
		}
	} else if len(s.NotAction) > 0 {
		if anyMatch(s.NotAction, c.req.Action, true) {
			return false
		}
	} else {
		return false
	}
	if len(s.Resource) > 0 {
		if !c.resMatch(s.Resource, literal) {
			return false
		}
	} else if len(s.NotResource) > 0 {
		if c.resMatch(s.NotResource, literal) {
			return false
		}
	} else if !resource {
		return false
	}
	if resource || s.Principal != nil || s.NotPrincipal != nil {
		if s.Principal != nil {
			if !principalMatch(s.Principal, c.req.Principal) {
				return false
			}
		} else if s.NotPrincipal != nil {
			if principalMatch(s.NotPrincipal, c.req.Principal) {
				return false
			}
		} else if resource {
			return false
		}
	}
	return c.conditions(s.Condition, literal)
}

func anyMatch(pats []string, v string, fold bool) bool {
	for _, p := range pats {
		if fold {
			if globFold(p, v) {
				return true
			}
		} else if Glob(p, v) {
			return true
		}
	}
	return false
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

func glob(p, s string, fold bool) bool {
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

func principalMatch(m map[string][]string, principal string) bool {
	return principalKind(m, principal) != matchNone
}

// principalKind reports how a Principal element names principal, the
// strongest way when it names it several times.
func principalKind(m map[string][]string, principal string) int {
	best := matchNone
	for kind, vals := range m {
		for _, v := range vals {
			k := matchNone
			switch {
			case v == "*" || v == principal:
				k = matchExact
			case kind != "AWS" && kind != "*":
			case sessionRole(principal) == v:
				k = matchRole
			default:
				acct := v
				if strings.HasSuffix(v, ":root") {
					acct = accountOf(v)
				}
				if model.IsAccountID(acct) && accountOf(principal) == acct {
					k = matchAccount
				}
			}
			if k > best {
				best = k
			}
		}
	}
	return best
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
