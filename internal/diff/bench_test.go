package diff

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/model"
)

// syntheticEstate builds an organization of accounts × usersPer users,
// each account with 40 groups (the first holding AdministratorAccess) and
// 60 customer policies, every user in two groups (with the groups'
// policies granted through them) and owning an access key, and every
// fifth user a policy of its own.
func syntheticEstate(accounts, usersPer int) *difftest.Builder {
	b := &difftest.Builder{}
	adminPol := b.Policy("aws", "AdministratorAccess", difftest.AdminDoc)
	for a := 0; a < accounts; a++ {
		acct := fmt.Sprintf("%012d", 100000000000+a)
		b.Account(acct, fmt.Sprintf("acct-%d", a), true)
		var groups, policies []string
		for p := 0; p < 60; p++ {
			policies = append(policies, b.Policy(acct, fmt.Sprintf("policy-%d", p),
				fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-%d/*"}]}`, p)))
		}
		for g := 0; g < 40; g++ {
			id := b.Group(acct, fmt.Sprintf("group-%d", g))
			groups = append(groups, id)
			pol := policies[g]
			if g == 0 {
				pol = adminPol
			}
			b.Grant(id, pol, model.EntAttached, model.ViaDirect, "")
		}
		for u := 0; u < usersPer; u++ {
			id := b.User(acct, fmt.Sprintf("user-%d", u), u%2 == 0, u%4 == 0)
			for _, g := range []int{1 + u%39, 1 + (u+7)%39} {
				b.Member(id, groups[g], policies[g])
			}
			if u%5 == 0 {
				b.Grant(id, policies[40+u%20], model.EntAttached, model.ViaDirect, "")
			}
			b.Key(acct, id, fmt.Sprintf("AKIA%08d%08d", a, u), "Active", difftest.Recent)
		}
	}
	return b
}

// BenchmarkDiff60kUsers times Compute between two snapshots of a
// 200-account, 60,000-user organization that differ by 100 changes: 30
// users join the admin group, 20 keys are deactivated, 20 users are
// created with a key, 10 users are deleted, 10 policies are edited, 10
// users get a console password.
func BenchmarkDiff60kUsers(b *testing.B) {
	const accounts, usersPer = 200, 300
	est := syntheticEstate(accounts, usersPer)
	before := est.Graph()
	acct := func(a int) string { return fmt.Sprintf("%012d", 100000000000+a) }
	user := func(a, u int) string { return difftest.ARN(acct(a), "user", fmt.Sprintf("user-%d", u)) }
	adminPol := difftest.ARN("aws", "policy", "AdministratorAccess")
	for i := 0; i < 30; i++ {
		est.Member(user(i, 3), difftest.ARN(acct(i), "group", "group-0"), adminPol)
	}
	for i := 0; i < 20; i++ {
		est.Set(model.AccessKeyID(acct(i), fmt.Sprintf("AKIA%08d%08d", i, 5)), func(r *model.Resource) {
			r.AccessKey = &model.AccessKeyAttrs{Status: "Inactive"}
		})
	}
	for i := 0; i < 20; i++ {
		id := est.User(acct(i), "new-user", true, false)
		est.Key(acct(i), id, fmt.Sprintf("AKIANEW%013d", i), "Active", difftest.Recent)
	}
	for i := 0; i < 10; i++ {
		est.Remove(user(50+i, 8))
		est.Remove(model.AccessKeyID(acct(50+i), fmt.Sprintf("AKIA%08d%08d", 50+i, 8)))
	}
	for i := 0; i < 10; i++ {
		est.Set(difftest.ARN(acct(100+i), "policy", "policy-3"), func(r *model.Resource) {
			r.Policy = &model.PolicyAttrs{PolicyID: r.Policy.PolicyID, DefaultVersionID: "v2", IsAttachable: true,
				Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}
		})
	}
	for i := 0; i < 10; i++ {
		est.Set(user(150+i, 1), func(r *model.Resource) {
			r.User = &model.UserAttrs{UserID: r.User.UserID, ConsoleAccess: true, MFAActive: r.User.MFAActive, CredentialReport: true}
		})
	}
	after := est.Graph()
	start := time.Now()
	st, snaps := writeSnapshots(b, before, after)
	b.Logf("%d resources, %d grants per snapshot; written in %v", len(after.Resources), len(after.Grants), time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	b.ResetTimer()
	var r *Report
	for b.Loop() {
		var err error
		if r, err = Compute(ctx, st, snaps[0], snaps[1], Filter{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s := r.Summary
	if len(s.AdministratorsAdded) != 30 || s.KeysDeactivated != 20 || s.KeysCreated != 20 || s.ResourcesAdded != 40 || s.ConsoleAdded != 30 || s.KeysDeleted != 10 {
		b.Fatalf("summary = %+v, want 30 admins, 20 keys deactivated, 20 created, 10 deleted, 40 resources added, 30 console added", s)
	}
}
