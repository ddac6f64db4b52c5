package policy

import (
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// esc marks the next byte of a substituted pattern as literal (not a
// wildcard): policy variable values and ${*} ${?} ${$}.
const esc = '\x00'

type evalCtx struct {
	req *Request
	ctx map[string][]string
}

func newCtx(r *Request) *evalCtx {
	c := &evalCtx{req: r, ctx: r.Context}
	for k := range r.Context {
		if strings.ToLower(k) != k {
			c.ctx = make(map[string][]string, len(r.Context))
			for k, v := range r.Context {
				c.ctx[strings.ToLower(k)] = v
			}
			break
		}
	}
	return c
}

// subst replaces the policy variables of s; ok is false when a variable
// has no value and no default (the element then does not match).
func (c *evalCtx) subst(s string, literal bool) (string, bool) {
	if literal || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		inner := s[i+2 : i+j]
		s = s[i+j+1:]
		switch inner {
		case "*", "?", "$":
			b.WriteByte(esc)
			b.WriteString(inner)
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
		v, ok := c.ctx[strings.ToLower(key)]
		switch {
		case ok && len(v) == 1:
			writeEsc(&b, v[0])
		case hasDef:
			writeEsc(&b, def)
		default:
			return "", false
		}
	}
}

func writeEsc(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		if v[i] == '*' || v[i] == '?' {
			b.WriteByte(esc)
		}
		b.WriteByte(v[i])
	}
}

func unesc(s string) string {
	if strings.IndexByte(s, esc) < 0 {
		return s
	}
	return strings.ReplaceAll(s, string(esc), "")
}

func (c *evalCtx) resMatch(pats []string, literal bool) bool {
	for _, p := range pats {
		q, ok := c.subst(p, literal)
		if ok && MatchARN(q, c.req.Resource) {
			return true
		}
	}
	return false
}

var negated = map[string]bool{
	"stringnotequals": true, "stringnotequalsignorecase": true, "stringnotlike": true,
	"numericnotequals": true, "datenotequals": true, "notipaddress": true,
	"arnnotequals": true, "arnnotlike": true,
}

// positive names the positive operator a negated one negates.
var positive = map[string]string{
	"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
	"stringnotlike": "stringlike", "numericnotequals": "numericequals", "datenotequals": "dateequals",
	"notipaddress": "ipaddress", "arnnotequals": "arnequals", "arnnotlike": "arnlike",
}

// conditions reports whether every operator and key of cond holds (AND
// across operators and keys; OR across a key's values).
func (c *evalCtx) conditions(cond map[string]map[string][]string, literal bool) bool {
	for op, keys := range cond {
		for key, vals := range keys {
			if !c.condition(op, key, vals, literal) {
				return false
			}
		}
	}
	return true
}

// parsedOp is a condition operator split into its set operator, base
// operator (lower case) and IfExists.
type parsedOp struct {
	set      string
	base     string
	ifExists bool
}

// opCache and keyCache hold parsed operators and lowered condition keys, so
// the hot path does not allocate for text it has seen.
var opCache, keyCache sync.Map

func parseOp(op string) parsedOp {
	if v, ok := opCache.Load(op); ok {
		return v.(parsedOp)
	}
	lop := strings.ToLower(op)
	var p parsedOp
	if strings.HasPrefix(lop, "forallvalues:") {
		p.set, lop = "all", lop[len("forallvalues:"):]
	} else if strings.HasPrefix(lop, "foranyvalue:") {
		p.set, lop = "any", lop[len("foranyvalue:"):]
	}
	if lop != "null" && strings.HasSuffix(lop, "ifexists") {
		p.ifExists, lop = true, strings.TrimSuffix(lop, "ifexists")
	}
	p.base = lop
	opCache.Store(op, p)
	return p
}

func lowerKey(k string) string {
	if v, ok := keyCache.Load(k); ok {
		return v.(string)
	}
	l := strings.ToLower(k)
	keyCache.Store(k, l)
	return l
}

func (c *evalCtx) condition(op, key string, vals []string, literal bool) bool {
	po := parseOp(op)
	set, lop, ifExists := po.set, po.base, po.ifExists
	req, present := c.ctx[lowerKey(key)]
	if present && len(req) == 0 {
		present = false
	}
	if lop == "null" {
		want := len(vals) > 0 && strings.EqualFold(vals[0], "true")
		return want != present
	}
	if !present {
		switch {
		case ifExists, set == "all":
			return true
		case set == "any":
			return false
		default:
			return negated[lop]
		}
	}
	pvals := vals
	for i, v := range vals {
		if !literal && strings.Contains(v, "${") {
			pvals = make([]string, 0, len(vals))
			pvals = append(pvals, vals[:i]...)
			for _, v := range vals[i:] {
				if s, ok := c.subst(v, literal); ok {
					pvals = append(pvals, s)
				}
			}
			break
		}
	}
	neg := negated[lop]
	base := lop
	if neg {
		base = positive[lop]
	}
	if !known(base) {
		return false
	}
	// one reports whether request value v satisfies the operator.
	one := func(v string) bool {
		m := false
		for _, p := range pvals {
			if match(base, v, p) {
				m = true
				break
			}
		}
		return m != neg
	}
	switch set {
	case "all":
		for _, v := range req {
			if !one(v) {
				return false
			}
		}
		return true
	case "any":
		for _, v := range req {
			if one(v) {
				return true
			}
		}
		return false
	}
	if neg {
		for _, v := range req {
			if !one(v) {
				return false
			}
		}
		return true
	}
	for _, v := range req {
		if one(v) {
			return true
		}
	}
	return false
}

func known(op string) bool {
	switch op {
	case "stringequals", "stringequalsignorecase", "stringlike",
		"numericequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan", "numericgreaterthanequals",
		"dateequals", "datelessthan", "datelessthanequals", "dategreaterthan", "dategreaterthanequals",
		"bool", "binaryequals", "ipaddress", "arnequals", "arnlike":
		return true
	}
	return false
}

// match applies a positive operator to a request value v and a policy value p.
func match(op, v, p string) bool {
	switch op {
	case "stringequals", "binaryequals":
		return v == unesc(p)
	case "stringequalsignorecase":
		return strings.EqualFold(v, unesc(p))
	case "stringlike":
		return Glob(p, v)
	case "bool":
		return strings.EqualFold(v, unesc(p))
	case "arnequals", "arnlike":
		return MatchARN(p, v)
	case "ipaddress":
		return ipIn(v, unesc(p))
	}
	if strings.HasPrefix(op, "numeric") {
		a, ok1 := new(big.Rat).SetString(strings.TrimSpace(v))
		b, ok2 := new(big.Rat).SetString(strings.TrimSpace(unesc(p)))
		if !ok1 || !ok2 {
			return false
		}
		return cmpOp(op[len("numeric"):], a.Cmp(b))
	}
	if strings.HasPrefix(op, "date") {
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(unesc(p))
		if !ok1 || !ok2 {
			return false
		}
		return cmpOp(op[len("date"):], a.Compare(b))
	}
	return false
}

func cmpOp(rel string, c int) bool {
	switch rel {
	case "equals":
		return c == 0
	case "lessthan":
		return c < 0
	case "lessthanequals":
		return c <= 0
	case "greaterthan":
		return c > 0
	case "greaterthanequals":
		return c >= 0
	}
	return false
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseDate reads an ISO 8601 date or date-time, or an epoch in seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func ipIn(v, p string) bool {
	ip := net.ParseIP(strings.TrimSpace(v))
	if ip == nil {
		return false
	}
	if !strings.Contains(p, "/") {
		q := net.ParseIP(strings.TrimSpace(p))
		return q != nil && q.Equal(ip)
	}
	var n *net.IPNet
	if v, ok := cidrCache.Load(p); ok {
		n = v.(*net.IPNet)
	} else {
		_, parsed, err := net.ParseCIDR(strings.TrimSpace(p))
		if err != nil {
			parsed = nil
		}
		cidrCache.Store(p, parsed)
		n = parsed
	}
	return n != nil && n.Contains(ip)
}

// cidrCache holds the parsed CIDR blocks of IpAddress conditions (nil for
// text that is not one).
var cidrCache sync.Map
