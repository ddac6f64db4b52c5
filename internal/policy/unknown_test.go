package policy

import (
	"encoding/json"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// unknownCase is a conformance case for three-valued evaluation: the
// request is decided with Request.Unknown, so a key absent from its
// context is unknown; AllowedIf lists each alternative's requirements as
// Requirement.String writes them.
type unknownCase struct {
	Name      string          `json:"name"`
	Doc       string          `json:"doc"`
	Request   json.RawMessage `json:"request"`
	Want      Decision        `json:"want"`
	AllowedIf [][]string      `json:"allowed_if"`
}

func loadUnknown(t testing.TB) []unknownCase {
	b, err := os.ReadFile("testdata/unknown/unknown.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []unknownCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func altStrings(r Result) [][]string {
	var out [][]string
	for _, a := range r.AllowedIf {
		var s []string
		for _, q := range a.Requires {
			s = append(s, q.String())
		}
		out = append(out, s)
	}
	return out
}

func TestUnknownCorpus(t *testing.T) {
	cases := loadUnknown(t)
	if len(cases) < 30 {
		t.Fatalf("%d cases, want at least 30", len(cases))
	}
	for _, c := range cases {
		if c.Doc == "" {
			t.Errorf("%s: no doc field citing the AWS documentation", c.Name)
		}
		reqs, _, err := ParseRequests(c.Request)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		r := reqs[0]
		r.Unknown = true
		got := Evaluate(&r)
		if got.Decision != c.Want {
			t.Errorf("%s: decision %s, want %s (allowed_if %v, explanation %+v)", c.Name, got.Decision, c.Want, altStrings(got), got.Explanation)
			continue
		}
		if g, w := jsonText(altStrings(got)), jsonText(c.AllowedIf); g != w {
			t.Errorf("%s: allowed_if %s, want %s", c.Name, g, w)
		}
		for _, a := range got.AllowedIf {
			for _, q := range a.Requires {
				if q.Policy == "" || q.Statement == "" {
					t.Errorf("%s: requirement %s names no statement", c.Name, q)
				}
			}
		}
		// The same request decided concretely (absent keys absent) is
		// one of the cases the three-valued answer covers.
		conc := Evaluate(&reqs[0])
		if got.Decision != Conditional && (got.Decision == Allowed) != (conc.Decision == Allowed) {
			t.Errorf("%s: unknown gives %s, concrete %s", c.Name, got.Decision, conc.Decision)
		}
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRequirementString(t *testing.T) {
	tests := []struct {
		r    Requirement
		want string
	}{
		{Requirement{Key: "aws:MultiFactorAuthPresent", Operator: "Bool", Values: []string{"true"}}, "aws:MultiFactorAuthPresent Bool true"},
		{Requirement{Key: "aws:SourceIp", Operator: "NotIpAddress", Values: []string{"10.0.0.0/8"}}, "aws:SourceIp NotIpAddress 10.0.0.0/8"},
		{Requirement{Key: "aws:RequestedRegion", Operator: "StringEquals", Values: []string{"eu-west-1", "eu-central-1"}}, "aws:RequestedRegion StringEquals eu-west-1, eu-central-1"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestNegate(t *testing.T) {
	tests := []struct {
		op   string
		vals []string
		want string // the conjunction, " and "-joined; "never" when it cannot hold
	}{
		{"IpAddress", []string{"10.0.0.0/8"}, "k NotIpAddress 10.0.0.0/8"},
		{"NotIpAddress", []string{"10.0.0.0/8"}, "k IpAddress 10.0.0.0/8"},
		{"StringEquals", []string{"a", "b"}, "k StringNotEquals a, b"},
		{"StringNotEqualsIfExists", []string{"a"}, "k StringEquals a"},
		{"StringLikeIfExists", []string{"a*"}, "k Null false and k StringNotLike a*"},
		{"ArnLike", []string{"arn:aws:iam::*:role/x"}, "k ArnNotLike arn:aws:iam::*:role/x"},
		{"Null", []string{"true"}, "k Null false"},
		{"Null", []string{"false"}, "k Null true"},
		{"Bool", []string{"true"}, "k BoolIfExists false"},
		{"BoolIfExists", []string{"false"}, "k Null false and k Bool true"},
		{"Bool", []string{"true", "false"}, "k Null true"},
		{"BoolIfExists", []string{"true", "false"}, "never"},
		{"NumericLessThan", []string{"5", "7"}, "k NumericGreaterThanEqualsIfExists 5 and k NumericGreaterThanEqualsIfExists 7"},
		{"DateGreaterThanIfExists", []string{"2026-01-01"}, "k Null false and k DateLessThanEquals 2026-01-01"},
		{"ForAnyValue:StringLike", []string{"a*"}, "k ForAllValues:StringNotLike a*"},
		{"ForAllValues:StringEquals", []string{"a"}, "k ForAnyValue:StringNotEquals a"},
		{"ForAnyValue:StringNotEquals", []string{"a"}, "k ForAllValues:StringEquals a"},
		{"BinaryEquals", []string{"QUJD"}, "k StringNotEquals QUJD"},
	}
	for _, tt := range tests {
		conj, ok := negate(Requirement{Key: "k", Operator: tt.op, Values: tt.vals})
		got := "never"
		if ok {
			got = joinReqs(conj)
		}
		if got != tt.want {
			t.Errorf("negate(%s %v) = %q, want %q", tt.op, tt.vals, got, tt.want)
		}
	}
}

// typedValues reports whether the values of key in ctx are of the type the
// requirement's operator compares (numbers, dates, booleans): AWS's keys
// of those types always are, and the negation of such a comparison
// assumes it.
func typedValues(q Requirement, ctx map[string][]string) bool {
	vals := ctx[strings.ToLower(q.Key)]
	op := strings.ToLower(q.Operator)
	for _, v := range vals {
		switch {
		case strings.Contains(op, "numeric"):
			if n := parseNum(v); !n.ok {
				return false
			}
		case strings.Contains(op, "date"):
			if _, ok := parseDate(v); !ok {
				return false
			}
		case strings.Contains(op, "bool"):
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return false
			}
		}
	}
	return true
}

// holds decides requirement q against a concrete context, by evaluating a
// policy that allows on exactly that condition.
func holds(q Requirement, ctx map[string][]string) bool {
	vals, _ := json.Marshal(q.Values)
	d, err := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{` +
		jsonText(q.Operator) + `:{` + jsonText(q.Key) + `:` + string(vals) + `}}}}`)
	if err != nil {
		panic(err)
	}
	r := Request{Principal: "arn:aws:iam::111111111111:user/alice", Action: "s3:GetObject", Resource: "*", Context: ctx,
		Identity: []Named{{Name: "q", Doc: d}}}
	return Evaluate(&r).Decision == Allowed
}

// TestUnknownSound checks three-valued answers against concrete ones over
// random requests: for every way of filling in the unknown keys (absent,
// or a value), the concrete decision is allowed exactly when the
// three-valued answer is Allowed, or Conditional with an alternative whose
// requirements all hold.
func TestUnknownSound(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	fill := append(append([]string{}, rKeys...), "aws:nokey", "aws:PrincipalTag/team", "aws:username")
	n, checked, cond := 1500, 0, 0
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		b, _ := json.Marshal(rRequest(r))
		reqs, _, err := ParseRequests(b)
		if err != nil {
			continue
		}
		base := reqs[0]
		u := base
		u.Unknown = true
		got := Evaluate(&u)
		again := Evaluate(&u)
		if jsonText(got) != jsonText(again) {
			t.Fatalf("same input, different answers: %s vs %s", jsonText(got), jsonText(again))
		}
		if got.Decision == Conditional {
			cond++
		}
		skip := false
		for _, a := range got.AllowedIf {
			for _, q := range a.Requires {
				if q.Key == "Resource" || strings.HasPrefix(q.Operator, "ForAllValues:Numeric") || strings.HasPrefix(q.Operator, "ForAllValues:Date") || strings.HasPrefix(q.Operator, "ForAnyValue:Numeric") || strings.HasPrefix(q.Operator, "ForAnyValue:Date") {
					skip = true // not a condition key; set comparisons of several values are approximated
				}
			}
		}
		if skip {
			continue
		}
		for k := 0; k < 6; k++ {
			ctx := map[string][]string{}
			for key, v := range base.Context {
				ctx[key] = v
			}
			for _, key := range fill {
				lk := strings.ToLower(key)
				if _, given := ctx[lk]; given || r.Intn(2) == 0 {
					continue
				}
				if v := rCtxVals[r.Intn(len(rCtxVals))]; len(v) > 0 {
					ctx[lk] = v
				}
			}
			typed := true
			for _, a := range got.AllowedIf {
				for _, q := range a.Requires {
					typed = typed && typedValues(q, ctx)
				}
			}
			if !typed {
				continue
			}
			c := base
			c.Context = ctx
			conc := Evaluate(&c)
			want := conc.Decision == Allowed
			var ans bool
			switch got.Decision {
			case Allowed:
				ans = true
			case Conditional:
				for _, a := range got.AllowedIf {
					all := true
					for _, q := range a.Requires {
						all = all && holds(q, ctx)
					}
					ans = ans || all
				}
			}
			if ans != want {
				t.Fatalf("request %s\ncontext %v\nunknown: %s\nconcrete: %s", b, ctx, jsonText(got), jsonText(conc))
			}
			checked++
		}
	}
	t.Logf("%d requests, %d conditional, %d concrete fillings checked", n, cond, checked)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

var (
	rActions = []string{"*", "s3:*", "s3:Get*", "S3:GetObject", "s3:getobject", "ec2:*", "iam:PassRole", "s?:GetObject", "*:GetObject", "sts:AssumeRole", "s3:Put*", "s3", "*Object"}
	rRes     = []string{"*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::*", "arn:aws:iam::111111111111:role/*", "arn:*:s3:::b/k", "b/*", "arn:aws:s3:::b/${aws:PrincipalTag/team, 'x'}/*", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/k", "ARN:AWS:s3:::b/k", "arn:aws:s3:::b/${aws:nokey}", "arn:aws:s3:::b/${}"}
	rOps     = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null", "Bogus"}
	rKeys    = []string{"aws:SourceIp", "aws:username", "k:n", "aws:CurrentTime", "k:list", "aws:MultiFactorAuthPresent", "aws:PrincipalArn", "AWS:SourceIP", "k:absent"}
	rVals    = []string{"10.0.0.0/8", "10.1.2.3", "::ffff:10.0.0.0/104", "2001:db8::/32", "alice", "Alice", "a*", "${aws:username}", "5", "5.0", "-3", "1e1", "10", "2026-01-01T00:00:00Z", "1767225600", "2026-01-01", "true", "false", "arn:aws:iam::111111111111:user/*", "arn:aws:iam::111111111111:user/alice", "x", "${aws:nokey}", "007", "1/2"}
	rCtxVals = [][]string{{"10.1.2.3"}, {"::ffff:10.1.2.3"}, {"2001:db8::1"}, {"alice"}, {"ALICE"}, {"5"}, {"5.00"}, {"7"}, {"2026-01-01T00:00:00Z"}, {"2025-06-01T00:00:00Z"}, {"true"}, {"false"}, {"arn:aws:iam::111111111111:user/alice"}, {"a", "b"}, {}, {"x", "alice"}, {"10"}}
	rPrinc   = []string{"arn:aws:iam::111111111111:user/alice", "arn:aws:sts::111111111111:assumed-role/R/s", "arn:aws:iam::222222222222:user/bob", "s3.amazonaws.com", "111111111111"}
	rPVals   = []any{"*", map[string]any{"AWS": "111111111111"}, map[string]any{"AWS": "arn:aws:iam::111111111111:root"}, map[string]any{"AWS": "arn:aws:iam::111111111111:role/R"}, map[string]any{"AWS": []string{"arn:aws:iam::111111111111:user/alice", "222222222222"}}, map[string]any{"Service": "s3.amazonaws.com"}, map[string]any{"AWS": "*"}}
)

func rDoc(r *rand.Rand, resource bool) map[string]any {
	var sts []any
	for n := r.Intn(4); n >= 0; n-- {
		st := map[string]any{"Effect": pick(r, []string{"Allow", "Allow", "Deny"})}
		if r.Intn(8) != 0 {
			st["Sid"] = pick(r, []string{"A", "B", ""})
		}
		acts := []string{pick(r, rActions)}
		if r.Intn(3) == 0 {
			acts = append(acts, pick(r, rActions))
		}
		if r.Intn(5) == 0 {
			st["NotAction"] = acts
		} else if r.Intn(20) != 0 {
			st["Action"] = acts
		}
		res := []string{pick(r, rRes)}
		if r.Intn(3) == 0 {
			res = append(res, pick(r, rRes))
		}
		switch r.Intn(6) {
		case 0:
			st["NotResource"] = res
		case 1:
			if resource {
				break
			}
			fallthrough
		default:
			st["Resource"] = res
		}
		if resource {
			if r.Intn(6) == 0 {
				st["NotPrincipal"] = pick(r, rPVals)
			} else {
				st["Principal"] = pick(r, rPVals)
			}
		}
		if r.Intn(2) == 0 {
			cond := map[string]any{}
			for m := r.Intn(3); m >= 0; m-- {
				op := pick(r, rOps)
				switch r.Intn(6) {
				case 0:
					op += "IfExists"
				case 1:
					op = "ForAllValues:" + op
				case 2:
					op = "ForAnyValue:" + op
				}
				vals := []string{pick(r, rVals)}
				if r.Intn(3) == 0 {
					vals = append(vals, pick(r, rVals))
				}
				cond[op] = map[string]any{pick(r, rKeys): vals}
			}
			st["Condition"] = cond
		}
		sts = append(sts, st)
	}
	return map[string]any{"Version": pick(r, []string{"2012-10-17", "2012-10-17", "2008-10-17"}), "Statement": sts}
}

func rRequest(r *rand.Rand) map[string]any {
	req := map[string]any{
		"principal": pick(r, rPrinc),
		"action":    pick(r, []string{"s3:GetObject", "S3:GETOBJECT", "iam:PassRole", "ec2:RunInstances", "sts:AssumeRole", "s3:PutObject"}),
		"resource":  pick(r, []string{"arn:aws:s3:::b/k", "arn:aws:s3:::b/alice/k", "arn:aws:iam::111111111111:role/x", "*", "arn:aws:s3:::b/x/k", "b/k"}),
	}
	if r.Intn(3) == 0 {
		req["resource_account"] = pick(r, []string{"111111111111", "222222222222"})
	}
	ctx := map[string]any{}
	for n := r.Intn(5); n > 0; n-- {
		k := pick(r, rKeys)
		if k == "AWS:SourceIP" {
			if _, dup := ctx["aws:SourceIp"]; dup {
				continue
			}
		}
		if k == "aws:SourceIp" {
			if _, dup := ctx["AWS:SourceIP"]; dup {
				continue
			}
		}
		ctx[k] = pick(r, rCtxVals)
	}
	if r.Intn(2) == 0 {
		ctx["aws:username"] = "alice"
	}
	if r.Intn(3) == 0 {
		ctx["aws:PrincipalTag/team"] = "alice"
	}
	req["context"] = ctx
	named := func(k int, resource bool) []any {
		var out []any
		for ; k > 0; k-- {
			out = append(out, map[string]any{"name": pick(r, []string{"p", "q"}), "document": rDoc(r, resource)})
		}
		return out
	}
	req["identity_policies"] = named(r.Intn(3), false)
	if r.Intn(3) == 0 {
		req["permissions_boundary"] = named(1+r.Intn(2), false)
	}
	if r.Intn(3) == 0 {
		var lv []any
		for k := r.Intn(3); k >= 0; k-- {
			lv = append(lv, map[string]any{"target": pick(r, []string{"r-root", "ou-x", "111111111111"}), "policies": named(r.Intn(3), false)})
		}
		req["scps"] = lv
	}
	if r.Intn(4) == 0 {
		req["rcps"] = []any{map[string]any{"target": "r-root", "policies": named(1, true)}}
	}
	if r.Intn(2) == 0 {
		req["resource_policy"] = rDoc(r, true)
	}
	if r.Intn(5) == 0 {
		req["session_policy"] = rDoc(r, false)
	}
	return req
}
