package policy

import (
	"sort"
	"strings"
)

// Alternative is one way a Conditional request is allowed: all of its
// requirements must hold.
type Alternative struct {
	Requires []Requirement `json:"requires"`
}

// Requirement is one condition on a key the request left unknown that
// must hold for the allow: Key Operator Values, as a policy condition
// writes it. A requirement that a Deny statement not apply is written as
// what must hold instead (the Deny's operator negated), so every
// requirement reads as "this must be true". Policy and Statement name the
// statement it comes from.
type Requirement struct {
	Key       string   `json:"key"`
	Operator  string   `json:"operator"`
	Values    []string `json:"values"`
	Policy    string   `json:"policy"`
	Statement string   `json:"statement"`
}

// String renders the requirement as "key Operator value[, value…]", e.g.
// "aws:MultiFactorAuthPresent Bool true" or
// "aws:SourceIp NotIpAddress 10.0.0.0/8".
func (r Requirement) String() string {
	return r.Key + " " + r.Operator + " " + strings.Join(r.Values, ", ")
}

// opNames are the operators' names as AWS writes them, by lower-case name.
var opNames = map[string]string{
	"stringequals": "StringEquals", "stringnotequals": "StringNotEquals",
	"stringequalsignorecase": "StringEqualsIgnoreCase", "stringnotequalsignorecase": "StringNotEqualsIgnoreCase",
	"stringlike": "StringLike", "stringnotlike": "StringNotLike",
	"numericequals": "NumericEquals", "numericnotequals": "NumericNotEquals",
	"numericlessthan": "NumericLessThan", "numericlessthanequals": "NumericLessThanEquals",
	"numericgreaterthan": "NumericGreaterThan", "numericgreaterthanequals": "NumericGreaterThanEquals",
	"dateequals": "DateEquals", "datenotequals": "DateNotEquals",
	"datelessthan": "DateLessThan", "datelessthanequals": "DateLessThanEquals",
	"dategreaterthan": "DateGreaterThan", "dategreaterthanequals": "DateGreaterThanEquals",
	"bool": "Bool", "binaryequals": "BinaryEquals",
	"ipaddress": "IpAddress", "notipaddress": "NotIpAddress",
	"arnequals": "ArnEquals", "arnnotequals": "ArnNotEquals", "arnlike": "ArnLike", "arnnotlike": "ArnNotLike",
	"null": "Null",
}

// opName writes a parsed operator as AWS does, e.g. ForAnyValue:StringLike
// or BoolIfExists.
func opName(po parsedOp) string {
	name, ok := opNames[po.base]
	if !ok {
		name = po.base
	}
	switch po.set {
	case "all":
		name = "ForAllValues:" + name
	case "any":
		name = "ForAnyValue:" + name
	}
	if po.ifExists {
		name += "IfExists"
	}
	return name
}

// complement is the operator true exactly where a comparison is false,
// for a present value.
var complement = map[string]string{
	"numericlessthan": "numericgreaterthanequals", "numericgreaterthanequals": "numericlessthan",
	"numericlessthanequals": "numericgreaterthan", "numericgreaterthan": "numericlessthanequals",
	"datelessthan": "dategreaterthanequals", "dategreaterthanequals": "datelessthan",
	"datelessthanequals": "dategreaterthan", "dategreaterthan": "datelessthanequals",
}

// negate returns what must hold for requirement r not to hold, as a
// conjunction; ok is false when nothing can (r always holds).
func negate(r Requirement) (conj []Requirement, ok bool) {
	po := parseOp(r.Operator)
	mk := func(p parsedOp, vals []string) Requirement {
		return Requirement{Key: r.Key, Operator: opName(p), Values: vals, Policy: r.Policy, Statement: r.Statement}
	}
	notNull := mk(parsedOp{base: "null"}, []string{"false"})
	if po.base == "null" {
		v := "true"
		if len(r.Values) > 0 && strings.EqualFold(r.Values[0], "true") {
			v = "false"
		}
		return []Requirement{mk(po, []string{v})}, true
	}
	if r.Key == "Resource" && po.set == "" {
		// A resource pattern with an unknown policy variable.
		switch po.base {
		case "arnlike":
			return []Requirement{mk(parsedOp{base: "arnnotlike"}, r.Values)}, true
		case "arnnotlike":
			return []Requirement{mk(parsedOp{base: "arnlike"}, r.Values)}, true
		}
	}
	// flip is the set operator of the negation: "none of" over each value.
	flip := map[string]string{"": "", "any": "all", "all": "any"}[po.set]
	var out []Requirement
	if po.ifExists {
		// XIfExists holds when the key is absent: its negation needs it.
		out = append(out, notNull)
	}
	if pos, isNeg := positive[po.base]; isNeg {
		// A negated operator's negation is the positive one; both are
		// false for an absent key under ForAnyValue or no set operator.
		p := parsedOp{set: flip, base: pos}
		if po.set == "" && po.ifExists {
			// NotXIfExists is NotX: its negation is X.
			out = out[:0]
		}
		return append(out, mk(p, r.Values)), true
	}
	if neg := negatedName(po.base); neg != "" {
		p := parsedOp{set: flip, base: neg}
		return append(out, mk(p, r.Values)), true
	}
	if comp, ok := complement[po.base]; ok {
		// NOT (v < a OR v < b) is v >= a AND v >= b; absent keys satisfy
		// the negation of a plain comparison.
		for _, v := range r.Values {
			p := parsedOp{set: flip, base: comp, ifExists: !po.ifExists && po.set == ""}
			out = append(out, mk(p, []string{v}))
		}
		return out, true
	}
	switch po.base {
	case "bool":
		t, f := false, false
		for _, v := range r.Values {
			t = t || strings.EqualFold(v, "true")
			f = f || strings.EqualFold(v, "false")
		}
		switch {
		case t && f:
			if po.ifExists || po.set != "" {
				return nil, false
			}
			return []Requirement{mk(parsedOp{base: "null"}, []string{"true"})}, true
		case t || f:
			v := "true"
			if t {
				v = "false"
			}
			p := parsedOp{set: flip, base: "bool", ifExists: !po.ifExists && po.set == ""}
			return append(out, mk(p, []string{v})), true
		}
		return out, true
	case "binaryequals":
		return append(out, mk(parsedOp{set: flip, base: "stringnotequals"}, r.Values)), true
	}
	// An operator AWS does not define never holds: its negation always does.
	return out, true
}

// negatedName is the negated form of a positive operator that has one.
func negatedName(base string) string {
	for n, p := range positive {
		if p == base {
			return n
		}
	}
	return ""
}

func joinReqs(rs []Requirement) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// maxAlternatives bounds the alternatives of a Conditional answer.
const maxAlternatives = 256

// dnf is a formula over requirements in disjunctive normal form: any one
// alternative (all of its requirements) makes it true. nil is false; an
// alternative with no requirement makes it true.
type dnf [][]Requirement

func dnfTrue() dnf { return dnf{{}} }

func sameReq(a, b Requirement) bool {
	if !strings.EqualFold(a.Key, b.Key) || a.Operator != b.Operator || len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			return false
		}
	}
	return true
}

func hasReq(alt []Requirement, r Requirement) bool {
	for _, x := range alt {
		if sameReq(x, r) {
			return true
		}
	}
	return false
}

// subset reports whether every requirement of a is in b.
func subset(a, b []Requirement) bool {
	for _, r := range a {
		if !hasReq(b, r) {
			return false
		}
	}
	return true
}

// contradicts reports whether alt asks for a requirement and for its
// negation.
func contradicts(alt []Requirement) bool {
	for _, r := range alt {
		if n, ok := negate(r); ok && len(n) == 1 && hasReq(alt, n[0]) {
			return true
		}
	}
	return false
}

func orDNF(a, b dnf) dnf { return simplify(append(append(dnf{}, a...), b...)) }

func andDNF(a, b dnf) dnf {
	var out dnf
	for _, x := range a {
		for _, y := range b {
			alt := append([]Requirement{}, x...)
			for _, r := range y {
				if !hasReq(alt, r) {
					alt = append(alt, r)
				}
			}
			if !contradicts(alt) {
				out = append(out, alt)
			}
		}
	}
	return simplify(out)
}

// simplify drops an alternative that holds another (absorption) and
// duplicates, and keeps at most maxAlternatives.
func simplify(d dnf) dnf {
	var out dnf
	for i, a := range d {
		keep := true
		for j, b := range d {
			if i == j {
				continue
			}
			if subset(b, a) && (len(b) < len(a) || j < i) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, a)
		}
	}
	if len(out) > maxAlternatives {
		out = out[:maxAlternatives]
	}
	return out
}

// hitsDNF is the OR of the statements of hits that pass keep.
func hitsDNF(hits []hit, keep func(h *hit) bool) dnf {
	var out dnf
	for i := range hits {
		h := &hits[i]
		if h.deny || !keep(h) {
			continue
		}
		if !h.unk {
			return dnfTrue()
		}
		out = append(out, append([]Requirement{}, h.reqs...))
	}
	return simplify(out)
}

// allowDNF is the condition, over the unknown keys, under which the
// request is allowed: the formula decide evaluates, kept symbolic.
func (c *evalCtx) allowDNF(hits []hit) dnf {
	req := c.req
	f := dnfTrue()
	for i := range hits {
		h := &hits[i]
		if !h.deny {
			continue
		}
		if !h.unk {
			return nil
		}
		// The deny must not apply: one of its requirements fails.
		var not dnf
		for _, r := range h.reqs {
			if n, ok := negate(r); ok {
				not = append(not, n)
			}
		}
		f = andDNF(f, simplify(not))
	}
	for i := range req.SCPs {
		lv := int32(i)
		f = andDNF(f, hitsDNF(hits, func(h *hit) bool { return h.cat == catSCP && h.level == lv }))
	}
	for i := range req.RCPs {
		lv := int32(i)
		f = andDNF(f, hitsDNF(hits, func(h *hit) bool { return h.cat == catRCP && h.level == lv }))
	}
	of := func(cat uint8) dnf { return hitsDNF(hits, func(h *hit) bool { return h.cat == cat }) }
	resAny := of(catResource)
	resExact := hitsDNF(hits, func(h *hit) bool { return h.cat == catResource && h.match == matchExact })
	resRole := hitsDNF(hits, func(h *hit) bool { return h.cat == catResource && h.match == matchRole })
	b, s := dnfTrue(), dnfTrue()
	if req.Boundary != nil {
		b = of(catBoundary)
	}
	if req.SessionPolicy != nil {
		s = of(catSession)
	}
	id := of(catIdentity)
	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == c.pacct
	var inner dnf
	if c.pacct == "" {
		inner = resAny
	}
	if sameAccount {
		inner = orDNF(inner, resExact)
		inner = orDNF(inner, andDNF(andDNF(b, s), orDNF(id, resRole)))
	} else {
		inner = orDNF(inner, andDNF(andDNF(b, s), andDNF(id, resAny)))
	}
	return andDNF(f, inner)
}

// dropImplied removes "key Null false" from an alternative that asks
// for a value of the key in a way an absent key cannot satisfy.
func dropImplied(alt []Requirement) []Requirement {
	out := alt[:0:0]
	for _, r := range alt {
		if r.Operator == "Null" && len(r.Values) == 1 && r.Values[0] == "false" {
			implied := false
			for _, o := range alt {
				if strings.EqualFold(o.Key, r.Key) && falseWhenAbsent(o.Operator) {
					implied = true
				}
			}
			if implied {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// falseWhenAbsent reports whether an operator is false for an absent key.
func falseWhenAbsent(op string) bool {
	po := parseOp(op)
	return po.base != "null" && !po.ifExists && po.set != "all" && !negated[po.base]
}

// threeValued decides a request some of whose statements apply only under
// requirements on unknown keys. Evaluation is monotone (more allows never
// deny, more denies never allow), so: allowed with every such allow
// failing and every such deny applying is Allowed; denied with every such
// allow applying and no such deny is denied; otherwise Conditional.
func (c *evalCtx) threeValued(hits []hit) Result {
	if p := c.decide(hits, modePessimistic); p.Decision == Allowed {
		return p
	}
	o := c.decide(hits, modeOptimistic)
	if o.Decision != Allowed {
		return o
	}
	// Conditional: what each such statement asks, and the explanation
	// again with it.
	for i := range hits {
		h := &hits[i]
		if h.unk {
			_, h.reqs = c.applies(h.st, h.lit, h.cat == catResource, true)
			for k := range h.reqs {
				h.reqs[k].Policy = h.n.Name
			}
		}
	}
	o = c.decide(hits, modeOptimistic)
	f := c.allowDNF(hits)
	if len(f) == 0 {
		return Result{Decision: ImplicitDeny, Explanation: append(o.Explanation,
			Step{Kind: "condition", Effect: "none", Note: "the allows need requirements on unknown keys that contradict one another or the denies"})}
	}
	for _, a := range f {
		if len(a) == 0 {
			return o
		}
	}
	ex := o.Explanation
	for i := range hits {
		if hits[i].deny {
			ex = append(ex, c.step(&hits[i]))
		}
	}
	alts := make([]Alternative, 0, len(f))
	for _, a := range f {
		rs := dropImplied(a)
		sort.SliceStable(rs, func(i, j int) bool { return reqLess(rs[i], rs[j]) })
		alts = append(alts, Alternative{Requires: rs})
	}
	// Shortest first; then in the requirements' order.
	sort.SliceStable(alts, func(i, j int) bool {
		a, b := alts[i].Requires, alts[j].Requires
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		for k := range a {
			if !sameReq(a[k], b[k]) {
				return reqLess(a[k], b[k])
			}
		}
		return false
	})
	return Result{Decision: Conditional, Explanation: ex, AllowedIf: alts}
}

// reqLess orders requirements by key (case-insensitively), operator and
// values.
func reqLess(a, b Requirement) bool {
	if ka, kb := strings.ToLower(a.Key), strings.ToLower(b.Key); ka != kb {
		return ka < kb
	}
	if a.Operator != b.Operator {
		return a.Operator < b.Operator
	}
	return strings.Join(a.Values, "\x00") < strings.Join(b.Values, "\x00")
}
