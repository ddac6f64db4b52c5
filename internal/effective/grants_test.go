package effective

import (
	"context"
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
//   - 0 "nobody-decrypt": nobody may Decrypt and DescribeKey;
//   - 1 "breader-encrypt": breader of account B may Encrypt (another
//     account: its own policies must allow too, and they do not);
//   - 2 "partner": a role outside the organization may Decrypt;
//   - 3 "named-decrypt": named may Decrypt, but the key policy denies it;
//   - 4 "app-datakey": the app role may GenerateDataKey; keyuser may retire
//     the grant.
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
	}
	gs[4].RetiringPrincipal = iamARN(acctA, "user", "keyuser")
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
		{"the grantee, an operation of its grant", "nobody", "kms:Decrypt", policy.Allowed, ptr(grantStep(0, "nobody-decrypt"))},
		{"the grantee, its grant's other operation", "nobody", "kms:DescribeKey", policy.Allowed, ptr(grantStep(0, "nobody-decrypt"))},
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
			"direct nobody@" + acctA + " allowed [] " + sid(0, "nobody-decrypt"),
			"outside principal:AWS:arn:aws:iam::" + outsider + ":role/partner allowed [] " + sid(2, "partner")}},
		// named, whom the key policy denies, assumes app: the request is
		// app's session's, which the deny does not name.
		{"kms:GenerateDataKey", []string{
			"assume role named@" + acctA + " allowed [app@" + acctA + "] " + sid(4, "app-datakey"),
			"direct app@" + acctA + " allowed [] " + sid(4, "app-datakey"),
			"direct keyadmin@" + acctA + " allowed [] " + kp + "KeyAdmin"}},
		{"kms:Encrypt", []string{
			"direct keyadmin@" + acctA + " allowed [] " + kp + "KeyAdmin"}},
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
