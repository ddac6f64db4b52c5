package effective

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/policy"
)

// grantID is the ID of the n-th grant on keyGrant.
func grantID(n int) string { return strings.Repeat(string(rune('a'+n)), 64) }

// kmsGrants are the grants of keyGrant, whose key policy names only
// keyadmin (and denies named everything):
//   - 0 "nobody-decrypt": nobody may Decrypt when the encryption context
//     includes app=billing (EncryptionContextSubset), and DescribeKey;
//   - 1 "breader-encrypt": breader of account B may Encrypt (another
//     account: its own policies must allow too, and they do not);
//   - 2 "partner": a role outside the organization may Decrypt;
//   - 3 "named-decrypt": named may Decrypt, but the key policy denies it;
//   - 4 "app-datakey": the app role may GenerateDataKey; keyuser may retire
//     the grant;
//   - 5 "keyuser-encrypt": keyuser may Encrypt when the encryption context
//     is exactly app=billing, stage=prod (EncryptionContextEquals).
func kmsGrants() []*awsfake.KMSGrant {
	g := func(n int, name, grantee string, ops ...string) *awsfake.KMSGrant {
		return &awsfake.KMSGrant{ID: grantID(n), Name: name, GranteePrincipal: grantee, IssuingAccount: "arn:aws:iam::" + acctA + ":root",
			Operations: ops, CreatedAt: created}
	}
	gs := []*awsfake.KMSGrant{
		g(0, "nobody-decrypt", iamARN(acctA, "user", "nobody"), "Decrypt", "DescribeKey"),
		g(1, "breader-encrypt", iamARN(acctB, "user", "breader"), "Encrypt"),
		g(2, "partner", "arn:aws:iam::"+outsider+":role/partner", "Decrypt"),
		g(3, "named-decrypt", iamARN(acctA, "user", "named"), "Decrypt"),
		g(4, "app-datakey", iamARN(acctA, "role/apps", "app"), "GenerateDataKey"),
		g(5, "keyuser-encrypt", iamARN(acctA, "user", "keyuser"), "Encrypt"),
	}
	gs[0].Constraints = &awsfake.GrantConstraints{EncryptionContextSubset: map[string]string{"app": "billing"}}
	gs[4].RetiringPrincipal = iamARN(acctA, "user", "keyuser")
	gs[5].Constraints = &awsfake.GrantConstraints{EncryptionContextEquals: map[string]string{"app": "billing", "stage": "prod"}}
	return gs
}

// grantStep is the explanation step of the key policy statement standing
// for grant n.
func grantStep(n int, name string) step {
	return step{"resource", "key policy of " + keyGrant, "grant " + name + " (" + grantID(n)[:12] + "…)", "Allow", "key policy"}
}

// TestCanThroughGrants: a grant allows its grantee the operations it lists
// on its key, without the key policy or the grantee's policies naming
// them; other operations, other principals, an explicit deny and another
// account's grantee without its own allow are refused.
func TestCanThroughGrants(t *testing.T) {
	st, snap := assetStore(t)
	k := keyARN(keyGrant)
	cases := []struct {
		name      string
		principal string
		action    string
		decision  policy.Decision
		step      *step
	}{
		{"the grantee, an operation its grant's constraint does not apply to", "nobody", "kms:DescribeKey", policy.Allowed, ptr(grantStep(0, "nobody-decrypt"))},
		{"the grantee, an operation its grant does not list", "nobody", "kms:Encrypt", policy.ImplicitDeny, nil},
		{"a principal no grant names", "bnoid", "kms:Decrypt", policy.ImplicitDeny, nil},
		{"a same-account principal no grant or statement names", "keyuser", "kms:Decrypt", policy.ImplicitDeny, nil},
		{"a grant to another account's user needs its own policies too", "breader", "kms:Encrypt", policy.ImplicitDeny, nil},
		{"the key policy's explicit deny wins over a grant", "named", "kms:Decrypt", policy.ExplicitDeny,
			&step{"resource", "key policy of " + keyGrant, "NoGrantUse", "Deny", "key policy"}},
		{"a grant to a role grants its sessions", iamARN(acctA, "role/apps", "app"), "kms:GenerateDataKey", policy.Allowed, ptr(grantStep(4, "app-datakey"))},
		{"the retiring principal may retire the grant", "keyuser", "kms:RetireGrant", policy.Allowed,
			&step{"resource", "key policy of " + keyGrant, "grant app-datakey (" + grantID(4)[:12] + "…) retiring principal", "Allow", "key policy"}},
		{"the key policy still decides for the principals it names", "keyadmin", "kms:ScheduleKeyDeletion", policy.ExplicitDeny, nil},
		{"the key policy's allow", "keyadmin", "kms:Encrypt", policy.Allowed, &step{"resource", "key policy of " + keyGrant, "KeyAdmin", "Allow", "key policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkCan(t, st, snap, Question{Principal: c.principal, Action: c.action, Resource: k}, c.decision, c.step)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestCanThroughGrantConstraints: a grant's encryption context
// constraints decide its cryptographic operations: with the context
// unknown the answer is allowed_if the pairs; with it given, allowed
// exactly when it holds them (EncryptionContextSubset) or is them
// (EncryptionContextEquals: no other key).
func TestCanThroughGrantConstraints(t *testing.T) {
	st, snap := assetStore(t)
	k := keyARN(keyGrant)
	ctxOf := func(kv ...string) map[string][]string {
		c := map[string][]string{}
		var keys []string
		for i := 0; i < len(kv); i += 2 {
			c["kms:EncryptionContext:"+kv[i]] = []string{kv[i+1]}
			keys = append(keys, kv[i])
		}
		c["kms:EncryptionContextKeys"] = keys
		return c
	}
	subset, equals := ptr(grantStep(0, "nobody-decrypt")), ptr(grantStep(5, "keyuser-encrypt"))
	for _, c := range []struct {
		name      string
		principal string
		action    string
		context   map[string][]string
		decision  policy.Decision
		step      *step
		requires  []string // of the one alternative, when allowed_if
	}{
		{"subset, context unknown", "nobody", "kms:Decrypt", nil, policy.Conditional, nil, []string{"kms:EncryptionContext:app StringEquals billing"}},
		{"subset, context holds the pair", "nobody", "kms:Decrypt", ctxOf("app", "billing"), policy.Allowed, subset, nil},
		{"subset, context holds it and more", "nobody", "kms:Decrypt", ctxOf("app", "billing", "x", "y"), policy.Allowed, subset, nil},
		{"subset, another value (values compare with case)", "nobody", "kms:Decrypt", ctxOf("app", "Billing"), policy.ImplicitDeny, nil, nil},
		{"equals, context unknown", "keyuser", "kms:Encrypt", nil, policy.Conditional, nil, []string{
			"kms:EncryptionContext:app StringEquals billing", "kms:EncryptionContext:stage StringEquals prod",
			"kms:EncryptionContextKeys ForAllValues:StringEqualsIgnoreCase app, stage"}},
		{"equals, context is the pairs", "keyuser", "kms:Encrypt", ctxOf("app", "billing", "stage", "prod"), policy.Allowed, equals, nil},
		{"equals, context has another key", "keyuser", "kms:Encrypt", ctxOf("app", "billing", "stage", "prod", "x", "y"), policy.ImplicitDeny, nil, nil},
		// A key the question does not give is unknown, even when
		// kms:EncryptionContextKeys leaves it out.
		{"equals, context gives one pair of two", "keyuser", "kms:Encrypt", ctxOf("app", "billing"), policy.Conditional, nil, []string{"kms:EncryptionContext:stage StringEquals prod"}},
		{"equals, context gives another value", "keyuser", "kms:Encrypt", ctxOf("app", "billing", "stage", "dev"), policy.ImplicitDeny, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := checkCan(t, st, snap, Question{Principal: c.principal, Action: c.action, Resource: k, Context: c.context}, c.decision, c.step)
			if c.decision != policy.Conditional {
				return
			}
			if len(got.AllowedIf) != 1 {
				t.Fatalf("allowed if %+v, want one alternative", got.AllowedIf)
			}
			var reqs []string
			for _, r := range got.AllowedIf[0].Requires {
				reqs = append(reqs, r.String())
			}
			sort.Strings(reqs)
			if strings.Join(reqs, "; ") != strings.Join(c.requires, "; ") {
				t.Fatalf("allowed if %q, want %q", reqs, c.requires)
			}
		})
	}
}

// TestWhoCanThroughGrants: who-can on the key lists each grantee its grant
// allows (the outside one as outside) beside the key policy's principals.
func TestWhoCanThroughGrants(t *testing.T) {
	st, snap := assetStore(t)
	ctx := context.Background()
	k := keyARN(keyGrant)
	kp := "key policy of " + keyGrant + " "
	sid := func(n int, name string) string { return kp + "grant " + name + " (" + grantID(n)[:12] + "…)" }
	for _, c := range []struct {
		action string
		want   []string
	}{
		{"kms:Decrypt", []string{
			"direct keyadmin@" + acctA + " allowed [] " + kp + "KeyAdmin",
			"direct nobody@" + acctA + " allowed_if [] " + sid(0, "nobody-decrypt"),
			"outside principal:AWS:arn:aws:iam::" + outsider + ":role/partner allowed [] " + sid(2, "partner")}},
		// named, whom the key policy denies, assumes app: the request is
		// app's session's, which the deny does not name.
		{"kms:GenerateDataKey", []string{
			"assume role named@" + acctA + " allowed [app@" + acctA + "] " + sid(4, "app-datakey"),
			"direct app@" + acctA + " allowed [] " + sid(4, "app-datakey"),
			"direct keyadmin@" + acctA + " allowed [] " + kp + "KeyAdmin"}},
		// keyuser's own policy allows Encrypt, which does not count on this
		// key; its grant does, if the encryption context is right.
		{"kms:Encrypt", []string{
			"direct keyadmin@" + acctA + " allowed [] " + kp + "KeyAdmin",
			"direct keyuser@" + acctA + " allowed_if [] " + sid(5, "keyuser-encrypt")}},
	} {
		t.Run(c.action, func(t *testing.T) {
			a, err := WhoCan(ctx, st, snap, WhoCanQuestion{Action: c.action, Resource: k})
			if err != nil {
				t.Fatal(err)
			}
			got := assetEntryKeys(a.Principals)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("who-can %s %s:\n%s\nwant:\n%s", c.action, k, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestDenyOnly: the deny-only copy of an identity policy holds its Deny
// statements as they parse, every element kept, and no Allow; a policy
// without a Deny is left out.
func TestDenyOnly(t *testing.T) {
	full, err := policy.Parse(`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Use","Effect":"Allow","Action":"kms:*","Resource":"*"},` +
		`{"Sid":"NotFromOutside","Effect":"Deny","NotAction":["kms:Describe*"],"NotResource":"arn:aws:kms:*:111122223333:key/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]},"Bool":{"aws:ViaAWSService":"false"}}},` +
		`{"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	allowOnly, err := policy.Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	s := newSnapshot(1, nil)
	got := s.denyOnly([]policy.Named{{Name: "p", Via: "direct", Doc: full}, {Name: "a", Via: "direct", Doc: allowOnly}})
	if len(got) != 1 || got[0].Name != "p" || got[0].Via != "direct" {
		t.Fatalf("deny-only policies %+v, want p alone", got)
	}
	if !reflect.DeepEqual(got[0].Doc.Statement, full.Statement[1:]) || got[0].Doc.Version != "2012-10-17" {
		t.Fatalf("deny-only statements\n%+v\nwant\n%+v", got[0].Doc.Statement, full.Statement[1:])
	}
	if again := s.denyOnly([]policy.Named{{Name: "p", Doc: full}}); again[0].Doc != got[0].Doc {
		t.Errorf("the deny-only copy is made again, not once per snapshot")
	}
}
