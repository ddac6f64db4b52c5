package policy

import (
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// esc marks the next byte of a substituted pattern as literal (not a
// wildcard): policy variable values and ${*} ${?} ${$}.
const esc = '\x00'

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

// parsedOp is a condition operator split into its set operator, base
// operator (lower case) and IfExists.
type parsedOp struct {
	set      string
	base     string
	ifExists bool
}

func parseOp(op string) parsedOp {
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
	return p
}

// tri is a three-valued truth: a condition on a key the request does not
// give (Request.Unknown) is triUnknown.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// cond decides one operator and key of a Condition block, as AWS
// documents: OR across the policy's values, the missing-key rules, the
// set operators. With Request.Unknown, a key the request does not give
// makes it triUnknown (ccond.requirement is what it asks).
func (c *evalCtx) cond(cc *ccond, literal bool) tri {
	vals, given := c.get(cc.lkey)
	present := given && len(vals) > 0
	unknown := !given && c.req.Unknown
	po := cc.po
	if po.base == "null" {
		if unknown {
			return triUnknown
		}
		return boolTri(cc.nullVal != present)
	}
	if !present {
		var t bool
		switch {
		case po.ifExists, po.set == "all":
			t = true
		case po.set == "any":
			t = false
		default:
			t = cc.neg
		}
		if unknown && (cc.known || t) {
			return triUnknown
		}
		return boolTri(t)
	}
	if !cc.known {
		return triFalse
	}
	cvals := cc.cvals
	if cc.hasVar {
		cvals = make([]cval, 0, len(cc.tmpls))
		for _, tm := range cc.tmpls {
			b, t := c.subst(c.buf[:0], tm)
			switch t {
			case triTrue:
				cvals = append(cvals, compileVal(cc.base, string(b)))
			case triUnknown:
				return triUnknown
			}
		}
	}
	// one reports whether request value v satisfies the operator.
	one := func(v string) bool {
		m := false
		for i := range cvals {
			if matchVal(cc.base, v, &cvals[i]) {
				m = true
				break
			}
		}
		return m != cc.neg
	}
	switch po.set {
	case "all":
		for _, v := range vals {
			if !one(v) {
				return triFalse
			}
		}
		return triTrue
	case "any":
		for _, v := range vals {
			if one(v) {
				return triTrue
			}
		}
		return triFalse
	}
	if cc.neg {
		for _, v := range vals {
			if !one(v) {
				return triFalse
			}
		}
		return triTrue
	}
	for _, v := range vals {
		if one(v) {
			return triTrue
		}
	}
	return triFalse
}

func boolTri(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// requirement is the condition as a requirement on an unknown key.
func (cc *ccond) requirement() Requirement {
	return Requirement{Key: cc.key, Operator: cc.opName, Values: cc.vals}
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

// matchVal applies a positive operator to a request value v and a parsed
// policy value.
func matchVal(op, v string, p *cval) bool {
	switch op {
	case "stringequals", "binaryequals":
		return v == p.u
	case "stringequalsignorecase":
		return strings.EqualFold(v, p.u)
	case "stringlike":
		return glob(p.s, v, false)
	case "bool":
		return strings.EqualFold(v, p.u)
	case "arnequals", "arnlike":
		return matchARN(p.s, v)
	case "ipaddress":
		if p.ipk == 0 {
			return false
		}
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || a.Zone() != "" {
			return false
		}
		a = a.Unmap()
		if p.ipk == 2 {
			return a == p.addr
		}
		return p.pfx.Contains(a)
	}
	if strings.HasPrefix(op, "numeric") {
		if !p.num.ok {
			return false
		}
		a := parseNum(v)
		if !a.ok {
			return false
		}
		var c int
		if a.isInt && p.num.isInt {
			c = cmpInt(a.i, p.num.i)
		} else {
			c = a.rat().Cmp(p.num.rat())
		}
		return cmpOp(op[len("numeric"):], c)
	}
	if strings.HasPrefix(op, "date") {
		if !p.dok {
			return false
		}
		a, ok := parseDate(v)
		if !ok {
			return false
		}
		return cmpOp(op[len("date"):], a.Compare(p.date))
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (n numVal) rat() *big.Rat {
	if n.r != nil {
		return n.r
	}
	return new(big.Rat).SetInt64(n.i)
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
