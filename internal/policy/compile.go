package policy

import (
	"math/big"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// compiled is a Document made ready for evaluation, once: action patterns
// lower-cased and split at the service prefix, an index from service
// prefix to the statements that can match it, ARN patterns pre-split,
// policy variables pre-parsed, condition operators, keys and values
// parsed (CIDRs, numbers, dates).
type compiled struct {
	literal bool // Version other than 2012-10-17: variables are literal text
	stmts   []cstmt
	bySvc   map[string][]int32 // lower-case service prefix → statements, in order
	anySvc  []int32            // statements for a service not in bySvc
	// n and first identify the Statement slice compiled, so a Document
	// whose statements were replaced is compiled again.
	n     int
	first *Statement
}

// cstmt is one compiled statement.
type cstmt struct {
	s                  *Statement
	id                 string // Sid, or "#n"
	deny, allow        bool
	notAction          bool
	actions            []actPat
	notResource, noRes bool // noRes: neither Resource nor NotResource
	resources          []pattern
	principals         []princ // Principal, or NotPrincipal when notPrincipal
	hasPrincipal       bool
	notPrincipal       bool
	conds              []ccond
}

// actPat is a lower-cased action pattern; svc is set when the service
// prefix holds no wildcard, and rest is then the part after the colon.
type actPat struct {
	whole, svc, rest string
}

// pattern is a Resource (or ARN condition) pattern: its policy variables
// parsed, and its six ARN parts when it has none.
type pattern struct {
	raw   string
	segs  []seg // nil when the pattern has no variable (or the policy is literal)
	colon int   // number of colons in raw
	parts [6]string
}

// seg is a piece of a pattern with variables: literal text, or a variable
// with its lower-case key and optional default.
type seg struct {
	lit    string
	key    string // lower case; "" for a literal piece
	rawKey string // as written
	def    string
	hasDef bool
	isVar  bool
}

// princ is one value of a Principal element.
type princ struct {
	v    string
	aws  bool   // kind AWS or "*"
	acct string // the account the value names, if it names one
}

// ccond is one operator and key of a Condition block.
type ccond struct {
	op      string // as written
	po      parsedOp
	opName  string // as AWS writes it, for requirements
	neg     bool
	base    string // the positive operator (lower case)
	known   bool
	key     string // as written
	lkey    string // lower case
	vals    []string
	hasVar  bool
	tmpls   [][]seg // per value, when hasVar
	cvals   []cval  // per value, when !hasVar
	nullVal bool    // for Null: the policy asks for absence ("true")
}

// cval is a condition value parsed for its operator.
type cval struct {
	s    string // as written (wildcards live for Like operators)
	u    string // with escape marks removed
	num  numVal
	date time.Time
	dok  bool
	ipk  uint8 // 0 not an address, 1 prefix, 2 single address
	pfx  netip.Prefix
	addr netip.Addr
}

// numVal is a parsed number: exact int64 when it fits, else a rational.
type numVal struct {
	ok    bool
	isInt bool
	i     int64
	r     *big.Rat
}

// compiledOf returns the compiled form of d, made at Parse. A Document
// built by hand (or whose statements were replaced since) is compiled for
// this call only: nothing is kept for it, so nothing grows.
func compiledOf(d *Document) *compiled {
	if c := d.c; c != nil && c.n == len(d.Statement) && (c.n == 0 || c.first == &d.Statement[0]) {
		return c
	}
	return compile(d)
}

func compile(d *Document) *compiled {
	c := &compiled{literal: d.Version != "2012-10-17", n: len(d.Statement)}
	if c.n > 0 {
		c.first = &d.Statement[0]
	}
	c.stmts = make([]cstmt, len(d.Statement))
	svcs := map[string]bool{}
	var wild []int32
	for i := range d.Statement {
		s := &d.Statement[i]
		cs := &c.stmts[i]
		cs.s = s
		cs.id = s.Sid
		if cs.id == "" {
			cs.id = stmtIndex(i)
		}
		cs.deny, cs.allow = s.Effect == "Deny", s.Effect == "Allow"
		pats := s.Action
		if len(pats) == 0 {
			pats, cs.notAction = s.NotAction, true
		}
		isWild := cs.notAction
		for _, p := range pats {
			ap := actPat{whole: asciiLower(p)}
			if sv, rest, ok := strings.Cut(ap.whole, ":"); ok && !strings.ContainsAny(sv, "*?\x00") {
				ap.svc, ap.rest = sv, rest
			} else {
				isWild = true
			}
			cs.actions = append(cs.actions, ap)
		}
		if len(pats) > 0 {
			if isWild {
				wild = append(wild, int32(i))
			} else {
				for _, ap := range cs.actions {
					svcs[ap.svc] = true
				}
			}
		}
		rs := s.Resource
		if len(rs) == 0 {
			rs, cs.notResource = s.NotResource, true
			cs.noRes = len(rs) == 0
		}
		for _, p := range rs {
			cs.resources = append(cs.resources, compilePattern(p, c.literal))
		}
		pm := s.Principal
		if pm == nil && s.NotPrincipal != nil {
			pm, cs.notPrincipal = s.NotPrincipal, true
		}
		cs.hasPrincipal = pm != nil
		for kind, vals := range pm {
			for _, v := range vals {
				pr := princ{v: v, aws: kind == "AWS" || kind == "*"}
				acct := v
				if strings.HasSuffix(v, ":root") {
					acct = accountOf(v)
				}
				if model.IsAccountID(acct) {
					pr.acct = acct
				}
				cs.principals = append(cs.principals, pr)
			}
		}
		for op, keys := range s.Condition {
			for key, vals := range keys {
				cs.conds = append(cs.conds, compileCond(op, key, vals, c.literal))
			}
		}
		// In a fixed order, so requirements come out the same every time.
		sort.Slice(cs.conds, func(a, b int) bool {
			x, y := &cs.conds[a], &cs.conds[b]
			if x.op != y.op {
				return x.op < y.op
			}
			return x.key < y.key
		})
	}
	// Every statement is indexed under each service it names, and under
	// every service when a pattern's prefix has a wildcard (or NotAction).
	c.bySvc = make(map[string][]int32, len(svcs))
	for sv := range svcs {
		var list []int32
		for i := range c.stmts {
			cs := &c.stmts[i]
			if len(cs.actions) == 0 {
				continue
			}
			in := false
			for _, ap := range cs.actions {
				if ap.svc == "" || ap.svc == sv {
					in = true
				}
			}
			if in || cs.notAction {
				list = append(list, int32(i))
			}
		}
		c.bySvc[sv] = list
	}
	c.anySvc = wild
	return c
}

func compilePattern(p string, literal bool) pattern {
	pt := pattern{raw: p, colon: strings.Count(p, ":")}
	if !literal && strings.Contains(p, "${") {
		pt.segs = parseSegs(p)
		return pt
	}
	if pt.colon >= 5 {
		rest := p
		for i := 0; i < 5; i++ {
			j := strings.IndexByte(rest, ':')
			pt.parts[i], rest = rest[:j], rest[j+1:]
		}
		pt.parts[5] = rest
	}
	return pt
}

// parseSegs splits a pattern at its policy variables, as subst reads them.
func parseSegs(s string) []seg {
	var out []seg
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			out = append(out, seg{lit: s[:i]})
		}
		inner := s[i+2 : i+j]
		s = s[i+j+1:]
		switch inner {
		case "*", "?", "$":
			out = append(out, seg{lit: string(esc) + inner})
			continue
		}
		key, def, hasDef := strings.Cut(inner, ",")
		key = strings.TrimSpace(key)
		if hasDef {
			def = strings.TrimSpace(def)
			if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
				def = def[1 : len(def)-1]
			}
		}
		out = append(out, seg{key: strings.ToLower(key), rawKey: key, def: def, hasDef: hasDef, isVar: true})
	}
	if s != "" {
		out = append(out, seg{lit: s})
	}
	return out
}

func compileCond(op, key string, vals []string, literal bool) ccond {
	po := parseOp(op)
	cc := ccond{op: op, po: po, opName: opName(po), key: key, lkey: strings.ToLower(key), vals: vals}
	cc.neg = negated[po.base]
	cc.base = po.base
	if cc.neg {
		cc.base = positive[po.base]
	}
	cc.known = known(cc.base)
	if po.base == "null" {
		cc.nullVal = len(vals) > 0 && strings.EqualFold(vals[0], "true")
		return cc
	}
	if !literal {
		for _, v := range vals {
			if strings.Contains(v, "${") {
				cc.hasVar = true
			}
		}
	}
	if cc.hasVar {
		cc.tmpls = make([][]seg, len(vals))
		for i, v := range vals {
			cc.tmpls[i] = parseSegs(v)
		}
		return cc
	}
	cc.cvals = make([]cval, len(vals))
	for i, v := range vals {
		cc.cvals[i] = compileVal(cc.base, v)
	}
	return cc
}

// compileVal parses policy value p (possibly holding escape marks) for
// the positive operator op.
func compileVal(op, p string) cval {
	cv := cval{s: p, u: unesc(p)}
	switch {
	case op == "ipaddress":
		t := strings.TrimSpace(cv.u)
		if strings.Contains(t, "/") {
			if pf, err := netip.ParsePrefix(t); err == nil {
				// An IPv4-mapped block is the IPv4 block, as net.IPNet has it.
				if a := pf.Masked().Addr(); a.Is4In6() && pf.Bits() >= 96 {
					pf = netip.PrefixFrom(a.Unmap(), pf.Bits()-96)
				}
				cv.ipk, cv.pfx = 1, pf
			}
		} else if a, err := netip.ParseAddr(t); err == nil {
			cv.ipk, cv.addr = 2, a.Unmap()
		}
	case strings.HasPrefix(op, "numeric"):
		cv.num = parseNum(cv.u)
	case strings.HasPrefix(op, "date"):
		cv.date, cv.dok = parseDate(cv.u)
	}
	return cv
}

// parseNum reads a number as big.Rat.SetString does, with a fast path for
// plain decimal integers.
func parseNum(s string) numVal {
	s = strings.TrimSpace(s)
	if i, ok := plainInt(s); ok {
		return numVal{ok: true, isInt: true, i: i}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return numVal{}
	}
	return numVal{ok: true, r: r}
}

// plainInt parses an optional '-' and 1 to 18 decimal digits without a
// leading zero (or "0"), the numbers whose value big.Rat reads the same.
func plainInt(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// asciiLower lower-cases ASCII letters only, as the action matching folds.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

func unesc(s string) string {
	if strings.IndexByte(s, esc) < 0 {
		return s
	}
	return strings.ReplaceAll(s, string(esc), "")
}
