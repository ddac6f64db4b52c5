package policy

import "strings"

// Statement categories, in the order Evaluate visits them.
const (
	catIdentity uint8 = iota
	catBoundary
	catSession
	catSCP
	catRCP
	catResource
)

var catKind = [...]string{"identity", "boundary", "session", "scp", "rcp", "resource"}

// hit is one statement that applies to the request, or (reqs non-empty)
// applies if the requirements on unknown keys hold.
type hit struct {
	cat   uint8
	deny  bool
	match int8 // how a resource policy's Principal named the principal
	level int32
	n     *Named
	via   string
	st    *cstmt
	unk   bool // applies only under requirements on unknown keys
	lit   bool // the document's Version makes variables literal text
	reqs  []Requirement
}

// How decide treats the hits that depend on unknown keys.
const (
	modeConcrete    = iota // there are none
	modePessimistic        // unknown allows do not apply, unknown denies do
	modeOptimistic         // unknown allows apply, unknown denies do not
)

func (h *hit) on(mode int) bool {
	if !h.unk {
		return true
	}
	switch mode {
	case modePessimistic:
		return h.deny
	case modeOptimistic:
		return !h.deny
	}
	return true
}

// evalCtx is the per-call state of Evaluate; it lives on the stack.
type evalCtx struct {
	req      *Request
	ctx      map[string][]string
	mixed    int8   // 0 not yet known, 1 every key lower case, 2 some key is not
	action   string // as given
	svc      string // service prefix, lower case ("" when the action has no colon)
	arest    string // the action after the service prefix
	colon    bool
	rcolon   int
	rparts   [6]string
	pacct    string
	sess     string
	sessDone bool
	buf      [256]byte
}

// Evaluate decides req as AWS's documented evaluation logic does: an
// explicit deny in any policy wins; then every SCP level, every RCP level,
// the permissions boundary and the session policy must allow; then an allow
// in an identity or resource-based policy (cross-account: both sides).
//
// With req.Unknown, a statement that applies only if condition keys the
// request does not give hold is kept with those requirements: when the
// decision does not depend on them it is Allowed, ExplicitDeny or
// ImplicitDeny as for a concrete request; when it does, it is Conditional
// and Result.AllowedIf lists the ways the request is allowed.
func Evaluate(req *Request) Result {
	var c evalCtx
	c.init(req)
	var hb [32]hit
	hits := hb[:0]
	for i := range req.Identity {
		hits = c.matchDoc(hits, catIdentity, 0, "", &req.Identity[i])
	}
	if req.Boundary != nil {
		for i := range req.Boundary {
			hits = c.matchDoc(hits, catBoundary, 0, "permissions boundary", &req.Boundary[i])
		}
	}
	if req.SessionPolicy != nil {
		hits = c.matchDoc(hits, catSession, 0, "session policy", req.SessionPolicy)
	}
	for i := range req.SCPs {
		lv := &req.SCPs[i]
		via := lv.via("SCP at ")
		for j := range lv.Policies {
			hits = c.matchDoc(hits, catSCP, int32(i), via, &lv.Policies[j])
		}
	}
	for i := range req.RCPs {
		lv := &req.RCPs[i]
		via := lv.via("RCP at ")
		for j := range lv.Policies {
			hits = c.matchDoc(hits, catRCP, int32(i), via, &lv.Policies[j])
		}
	}
	if req.ResourcePolicy != nil {
		hits = c.matchDoc(hits, catResource, 0, "", req.ResourcePolicy)
	}
	unknown := false
	for i := range hits {
		if hits[i].unk {
			unknown = true
			break
		}
	}
	if !unknown {
		return c.decide(hits, modeConcrete)
	}
	// (a copy: the stack buffer stays on the stack)
	return c.threeValued(append([]hit(nil), hits...))
}

func (c *evalCtx) init(req *Request) {
	c.req, c.ctx = req, req.Context
	c.action = req.Action
	if i := strings.IndexByte(req.Action, ':'); i >= 0 {
		c.colon = true
		c.svc, c.arest = asciiLower(req.Action[:i]), req.Action[i+1:]
	}
	r := req.Resource
	c.rcolon = strings.Count(r, ":")
	if c.rcolon >= 5 {
		for i := 0; i < 5; i++ {
			j := strings.IndexByte(r, ':')
			c.rparts[i], r = r[:j], r[j+1:]
		}
		c.rparts[5] = r
	}
	c.pacct = accountOf(req.Principal)
}

// get returns the values of a condition key (lkey lower case) and whether
// the request gives it; keys of Context compare case-insensitively.
func (c *evalCtx) get(lkey string) ([]string, bool) {
	if v, ok := c.ctx[lkey]; ok {
		return v, true
	}
	if c.mixed == 0 {
		c.mixed = 1
		for k := range c.ctx {
			if strings.ToLower(k) != k {
				c.mixed = 2
				break
			}
		}
	}
	if c.mixed == 2 {
		for k, v := range c.ctx {
			if strings.ToLower(k) == lkey {
				return v, true
			}
		}
	}
	return nil, false
}

// sessionRole returns the role ARN of the principal's session, made once.
func (c *evalCtx) sessionRole() string {
	if !c.sessDone {
		c.sess, c.sessDone = c.req.PrincipalRole, true
		if c.sess == "" {
			c.sess = sessionRole(c.req.Principal)
		}
	}
	return c.sess
}

// matchDoc appends the statements of n that apply to the request.
func (c *evalCtx) matchDoc(hits []hit, cat uint8, level int32, via string, n *Named) []hit {
	if n.Doc == nil {
		return hits
	}
	cd := compiledOf(n.Doc)
	idx := cd.anySvc
	if c.colon {
		if l, ok := cd.bySvc[c.svc]; ok {
			idx = l
		}
	}
	resource := cat == catResource
	for _, i := range idx {
		cs := &cd.stmts[i]
		if !cs.deny && !cs.allow {
			continue
		}
		t, _ := c.applies(cs, cd.literal, resource, false)
		if t == triFalse {
			continue
		}
		h := hit{cat: cat, deny: cs.deny, level: level, n: n, via: via, st: cs, unk: t == triUnknown, lit: cd.literal}
		if resource && cs.hasPrincipal && !cs.notPrincipal {
			h.match = int8(c.principalKind(cs.principals))
		}
		hits = append(hits, h)
	}
	return hits
}

// applies reports whether statement cs applies to the request: with
// Request.Unknown it may apply only if requirements on keys the request
// does not give hold (triUnknown); collect lists them.
func (c *evalCtx) applies(cs *cstmt, literal, resource, collect bool) (tri, []Requirement) {
	if len(cs.actions) == 0 || c.actionMatch(cs) == cs.notAction {
		return triFalse, nil
	}
	var reqs []Requirement
	res := triTrue
	if cs.noRes {
		if !resource {
			return triFalse, nil
		}
	} else {
		m, unk := c.resMatch(cs.resources, literal, collect)
		switch {
		case m == cs.notResource && !unk:
			return triFalse, nil
		case m && cs.notResource:
			return triFalse, nil
		case !m && unk:
			res = triUnknown
			if collect {
				op := "ArnLike"
				if cs.notResource {
					op = "ArnNotLike"
				}
				var pats []string
				for i := range cs.resources {
					if cs.resources[i].segs != nil {
						if _, t := c.subst(c.buf[:0], cs.resources[i].segs); t == triUnknown {
							pats = append(pats, cs.resources[i].raw)
						}
					}
				}
				reqs = append(reqs, Requirement{Key: "Resource", Operator: op, Values: pats})
			}
		}
	}
	if cs.hasPrincipal {
		if (c.principalKind(cs.principals) != matchNone) == cs.notPrincipal {
			return triFalse, nil
		}
	} else if resource {
		return triFalse, nil
	}
	for i := range cs.conds {
		switch c.cond(&cs.conds[i], literal) {
		case triFalse:
			return triFalse, nil
		case triUnknown:
			res = triUnknown
			if collect {
				reqs = append(reqs, cs.conds[i].requirement())
			}
		}
	}
	if collect {
		for k := range reqs {
			reqs[k].Statement = cs.id
		}
	}
	return res, reqs
}

func (c *evalCtx) actionMatch(cs *cstmt) bool {
	for i := range cs.actions {
		ap := &cs.actions[i]
		if ap.svc != "" {
			if c.colon && ap.svc == c.svc && glob(ap.rest, c.arest, true) {
				return true
			}
		} else if glob(ap.whole, c.action, true) {
			return true
		}
	}
	return false
}

// resMatch reports whether any pattern matches the request's resource;
// with Request.Unknown, unk says some pattern cannot be decided for a
// policy variable the request does not give.
func (c *evalCtx) resMatch(pats []pattern, literal, collect bool) (m, unk bool) {
	for i := range pats {
		p := &pats[i]
		if p.segs == nil {
			if c.matchPattern(p) {
				return true, false
			}
			continue
		}
		b, t := c.subst(c.buf[:0], p.segs)
		switch t {
		case triTrue:
			if matchARN(b, c.req.Resource) {
				return true, false
			}
		case triUnknown:
			unk = true
		}
	}
	return false, unk
}

// matchPattern is MatchARN over a pre-split pattern and the request's
// pre-split resource.
func (c *evalCtx) matchPattern(p *pattern) bool {
	if p.raw == "*" {
		return true
	}
	an := c.rcolon
	if an >= 5 && p.colon < 5 {
		return false
	}
	if p.colon < 5 || an < 5 {
		return glob(p.raw, c.req.Resource, false)
	}
	for i := 0; i < 6; i++ {
		if i == 0 || i == 2 {
			if !glob(p.parts[i], c.rparts[i], true) {
				return false
			}
		} else if !glob(p.parts[i], c.rparts[i], false) {
			return false
		}
	}
	return true
}

// subst appends s with its policy variables replaced: triFalse when a
// variable has no value and no default (the element then does not match),
// triUnknown when the request (Unknown) does not give it.
func (c *evalCtx) subst(dst []byte, segs []seg) ([]byte, tri) {
	for i := range segs {
		sg := &segs[i]
		if !sg.isVar {
			dst = append(dst, sg.lit...)
			continue
		}
		v, ok := c.get(sg.key)
		switch {
		case !ok && c.req.Unknown:
			return dst, triUnknown
		case ok && len(v) == 1:
			dst = appendEsc(dst, v[0])
		case sg.hasDef:
			dst = appendEsc(dst, sg.def)
		default:
			return dst, triFalse
		}
	}
	return dst, triTrue
}

func appendEsc(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '*' || v[i] == '?' {
			b = append(b, esc)
		}
		b = append(b, v[i])
	}
	return b
}

// matchARN is MatchARN for a pattern held in bytes or a string.
func matchARN[P ~string | ~[]byte](p P, arn string) bool {
	if len(p) == 1 && p[0] == '*' {
		return true
	}
	pn, an := 0, strings.Count(arn, ":")
	for i := 0; i < len(p); i++ {
		if p[i] == ':' {
			pn++
		}
	}
	if an >= 5 && pn < 5 {
		return false
	}
	if pn < 5 || an < 5 {
		return glob(p, arn, false)
	}
	for i := 0; i < 6; i++ {
		var ps P
		var as string
		if i < 5 {
			pi := 0
			for p[pi] != ':' {
				pi++
			}
			ai := strings.IndexByte(arn, ':')
			ps, p = p[:pi], p[pi+1:]
			as, arn = arn[:ai], arn[ai+1:]
		} else {
			ps, as = p, arn
		}
		if !glob(ps, as, i == 0 || i == 2) {
			return false
		}
	}
	return true
}

// principalKind reports how a Principal element names the principal, the
// strongest way when it names it several times.
func (c *evalCtx) principalKind(ps []princ) int {
	best := matchNone
	principal := c.req.Principal
	for i := range ps {
		p := &ps[i]
		k := matchNone
		switch {
		case p.v == "*" || p.v == principal:
			k = matchExact
		case !p.aws:
		case c.sessionRole() == p.v:
			k = matchRole
		case p.acct != "" && c.pacct == p.acct:
			k = matchAccount
		}
		if k > best {
			best = k
		}
	}
	return best
}

func (c *evalCtx) step(h *hit) Step {
	st := Step{Kind: catKind[h.cat], Policy: h.n.Name, Via: h.n.Via, Statement: h.st.id, Effect: h.st.s.Effect, match: int(h.match)}
	if h.via != "" {
		st.Via = h.via
	}
	if len(h.reqs) > 0 {
		if h.deny {
			st.Note = "explicit deny if " + joinReqs(h.reqs)
		} else {
			st.Note = "applies if " + joinReqs(h.reqs)
		}
	}
	return st
}

// decide reaches the decision over the statements that apply (hits), as
// AWS's evaluation logic orders it.
func (c *evalCtx) decide(hits []hit, mode int) Result {
	req := c.req
	nd := 0
	for i := range hits {
		if hits[i].deny && hits[i].on(mode) {
			nd++
		}
	}
	if nd > 0 {
		ex := make([]Step, 0, nd)
		for i := range hits {
			if hits[i].deny && hits[i].on(mode) {
				ex = append(ex, c.step(&hits[i]))
			}
		}
		return Result{Decision: ExplicitDeny, Explanation: ex}
	}
	for i := range req.SCPs {
		if !anyAllow(hits, mode, catSCP, int32(i)) {
			return miss("scp", "no SCP attached at "+req.SCPs[i].Target+" allows the action")
		}
	}
	for i := range req.RCPs {
		if !anyAllow(hits, mode, catRCP, int32(i)) {
			return miss("rcp", "no RCP attached at "+req.RCPs[i].Target+" allows the action")
		}
	}
	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == c.pacct
	resAny := anyAllow(hits, mode, catResource, -1)
	// A principal that is not of an account (a service, a federated
	// provider, a canonical user) is granted by the resource policy alone.
	if c.pacct == "" && resAny {
		return c.allowed(hits, mode, catSCP, catRCP, catResource)
	}
	// A same-account resource policy naming an IAM user or a role session
	// ARN itself grants on its own; the boundary and session policy do not
	// limit it.
	direct, role := false, false
	for i := range hits {
		h := &hits[i]
		if h.cat == catResource && !h.deny && h.on(mode) {
			direct = direct || h.match == matchExact
			role = role || h.match == matchRole
		}
	}
	if sameAccount && direct {
		return c.allowed(hits, mode, catSCP, catRCP, catResource)
	}
	if req.Boundary != nil && !anyAllow(hits, mode, catBoundary, -1) {
		return miss("boundary", "the permissions boundary does not allow the action")
	}
	if req.SessionPolicy != nil && !anyAllow(hits, mode, catSession, -1) {
		return miss("session", "the session policy does not allow the action")
	}
	id := anyAllow(hits, mode, catIdentity, -1)
	if sameAccount {
		// A resource policy naming the session's role grants within the
		// boundary; one naming the account delegates to identity policies.
		if id || role {
			return c.allowed(hits, mode, catSCP, catRCP, catBoundary, catSession, catIdentity, catResource)
		}
		return miss("identity", "no identity-based or resource-based policy allows the action")
	}
	if !id {
		return miss("identity", "cross-account: no identity-based policy allows the action")
	}
	if !resAny {
		return miss("resource", "cross-account: the resource-based policy of account "+req.ResourceAccount+" does not allow the principal")
	}
	return c.allowed(hits, mode, catSCP, catRCP, catBoundary, catSession, catIdentity, catResource)
}

func miss(kind, note string) Result {
	return Result{Decision: ImplicitDeny, Explanation: []Step{{Kind: kind, Effect: "none", Note: note}}}
}

// anyAllow reports whether an allow of category cat (and SCP or RCP level
// level, when not -1) applies.
func anyAllow(hits []hit, mode int, cat uint8, level int32) bool {
	for i := range hits {
		h := &hits[i]
		if h.cat == cat && !h.deny && (level < 0 || h.level == level) && h.on(mode) {
			return true
		}
	}
	return false
}

// allowed is an Allowed result explained by the allows of cats, in that
// order.
func (c *evalCtx) allowed(hits []hit, mode int, cats ...uint8) Result {
	n := 0
	for i := range hits {
		h := &hits[i]
		if h.deny || !h.on(mode) {
			continue
		}
		for _, k := range cats {
			if h.cat == k {
				n++
			}
		}
	}
	ex := make([]Step, 0, n)
	for _, k := range cats {
		for i := range hits {
			h := &hits[i]
			if h.cat == k && !h.deny && h.on(mode) {
				ex = append(ex, c.step(h))
			}
		}
	}
	return Result{Decision: Allowed, Explanation: ex}
}
