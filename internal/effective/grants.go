package effective

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// This file takes a KMS key's grants into the requests on the key. A grant
// allows its grantee principal the operations it lists on that one key, as
// a key policy statement naming the grantee would (AWS KMS Developer
// Guide, "Grants in AWS KMS"); its constraints confine the cryptographic
// operations that take an encryption context to requests whose context
// equals (EncryptionContextEquals) or includes (EncryptionContextSubset)
// the given pairs, keys compared without case and values with (KMS API
// Reference, GrantConstraints), and do not apply to the other operations
// (DescribeKey, CreateGrant, RetireGrant, Sign, …). The grant's retiring
// principal may retire it. So each grant becomes statements appended to
// the key policy for the evaluator, each named "grant NAME (ID)" in the
// explanations; the key policy's own rules (an explicit deny wins; a
// principal of another account needs its own policies to allow too) apply
// to them unchanged.

// kmsContextOperations are the grant operations an encryption context
// constraint applies to: the cryptographic operations that take an
// encryption context.
var kmsContextOperations = map[string]bool{"Decrypt": true, "Encrypt": true, "GenerateDataKey": true,
	"GenerateDataKeyWithoutPlaintext": true, "GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"ReEncryptFrom": true, "ReEncryptTo": true}

// grantStatements are the policy statements that stand for a key's grants,
// in the grants' order.
func grantStatements(grants []model.KMSGrant) []map[string]any {
	var out []map[string]any
	for _, g := range grants {
		sid := grantSid(g)
		principal := grantPrincipal(g.GranteePrincipal)
		var plain, constrained []string
		for _, op := range g.Operations {
			if g.Constraints != nil && kmsContextOperations[op] && constraintCount(g.Constraints) > 0 {
				constrained = append(constrained, "kms:"+op)
			} else {
				plain = append(plain, "kms:"+op)
			}
		}
		if len(plain) > 0 {
			out = append(out, map[string]any{"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": plain, "Resource": "*"})
		}
		if len(constrained) > 0 {
			out = append(out, map[string]any{"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": constrained, "Resource": "*",
				"Condition": grantCondition(g.Constraints)})
		}
		if g.RetiringPrincipal != "" {
			out = append(out, map[string]any{"Sid": sid + " retiring principal", "Effect": "Allow",
				"Principal": grantPrincipal(g.RetiringPrincipal), "Action": []string{"kms:RetireGrant"}, "Resource": "*"})
		}
	}
	return out
}

// grantSid names a grant in explanations: "grant NAME (first 12 of its
// ID)", or without the name when it has none.
func grantSid(g model.KMSGrant) string {
	id := g.GrantID
	if len(id) > 12 {
		id = id[:12] + "…"
	}
	if g.Name == "" {
		return "grant " + id
	}
	return "grant " + g.Name + " (" + id + ")"
}

// grantPrincipal is the policy Principal of a grant's grantee or retiring
// principal: an ARN or account is an AWS principal, anything else (a
// service principal such as dynamodb.us-east-1.amazonaws.com) a service.
func grantPrincipal(p string) map[string]any {
	if strings.HasPrefix(p, "arn:") || model.IsAccountID(p) {
		return map[string]any{"AWS": p}
	}
	return map[string]any{"Service": p}
}

func constraintCount(c *model.KMSGrantConstraints) int {
	return len(c.EncryptionContextEquals) + len(c.EncryptionContextSubset)
}

// grantCondition is the condition block of a grant's constraints: each
// pair as StringEquals on kms:EncryptionContext:KEY (condition key names
// are compared without case, values with, as grant constraints are), and
// for EncryptionContextEquals no other key in the request's context.
func grantCondition(c *model.KMSGrantConstraints) map[string]any {
	eq := map[string]any{}
	for k, v := range c.EncryptionContextSubset {
		eq["kms:EncryptionContext:"+k] = v
	}
	for k, v := range c.EncryptionContextEquals {
		eq["kms:EncryptionContext:"+k] = v
	}
	cond := map[string]any{"StringEquals": eq}
	if len(c.EncryptionContextEquals) > 0 {
		keys := make([]string, 0, len(c.EncryptionContextEquals))
		for k := range c.EncryptionContextEquals {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		cond["ForAllValues:StringEqualsIgnoreCase"] = map[string]any{"kms:EncryptionContextKeys": keys}
	}
	return cond
}

// withGrants is the text of a key policy with its grants' statements
// appended; text "" (a policy not read) gives a document of the grants
// alone. A policy that is not a JSON object is an error.
func withGrants(text string, grants []model.KMSGrant) (string, error) {
	return withStatements(text, "key policy", grantStatements(grants))
}

// denyOnly is identity policies with only their Deny statements: on a KMS
// key whose key policy does not let IAM policies allow the action (no
// statement naming the account root for it), the principal's denies still
// apply and its allows do not, so the request is decided again with these
// (evaluateOn) to find what the key policy or a grant allows on its own,
// conditions and all. A policy without a Deny is left out; each is made
// once per snapshot.
func (s *Snapshot) denyOnly(ns []policy.Named) []policy.Named {
	var out []policy.Named
	for _, n := range ns {
		if n.Doc == nil {
			continue
		}
		var denies []map[string]any
		for _, st := range n.Doc.Statement {
			if st.Effect == "Deny" {
				denies = append(denies, statementJSON(st))
			}
		}
		if len(denies) == 0 {
			continue
		}
		b, err := json.Marshal(map[string]any{"Version": n.Doc.Version, "Statement": denies})
		if err != nil {
			continue
		}
		p := s.doc(fmt.Sprintf("deny-only %p", n.Doc), string(b))
		if p.doc != nil {
			out = append(out, policy.Named{Name: n.Name, Via: n.Via, Doc: p.doc})
		}
	}
	return out
}

// statementJSON is a parsed statement as policy JSON again.
func statementJSON(st policy.Statement) map[string]any {
	m := map[string]any{"Effect": st.Effect}
	if st.Sid != "" {
		m["Sid"] = st.Sid
	}
	principal := func(key string, p map[string][]string) {
		if len(p) == 0 {
			return
		}
		if _, all := p["*"]; all {
			m[key] = "*"
			return
		}
		m[key] = p
	}
	principal("Principal", st.Principal)
	principal("NotPrincipal", st.NotPrincipal)
	for key, v := range map[string][]string{"Action": st.Action, "NotAction": st.NotAction, "Resource": st.Resource, "NotResource": st.NotResource} {
		if len(v) > 0 {
			m[key] = v
		}
	}
	if len(st.Condition) > 0 {
		m["Condition"] = st.Condition
	}
	return m
}
