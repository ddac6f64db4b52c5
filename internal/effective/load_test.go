package effective

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// TestLoadFastPathAgrees: Load through store.DB's EffectiveIndex (the
// grants who-can needs, no entitlements; built on first use, then read
// back stored) and through Store.Subgraph (the
// whole principals' part) give byte-identical who-can answers on the
// planted organization, for questions that take every path: direct, SCP
// and boundary denies, a role chain, a trust policy's outsiders, Identity
// Center users and sts:AssumeRole on one role (its trust policy as the
// resource policy); and the same `can` answers for every IAM principal.
func TestLoadFastPathAgrees(t *testing.T) {
	st, snap := plantedStore(t)
	ctx := context.Background()
	if _, ok := any(st).(indexReader); !ok {
		t.Fatal("store.DB has no EffectiveIndex: Load would not take the fast path")
	}
	fast, err := load(ctx, st, snap, true)
	if err != nil {
		t.Fatal(err)
	}
	// The first load built and stored the index; this one reads it.
	stored, err := load(ctx, st, snap, true)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := load(ctx, st, snap, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fast.src.(*memSource); !ok {
		t.Fatal("the fast load did not give a memory snapshot")
	}
	roles := slow.src.(*memSource).byType[model.TypeIAMRole]
	if len(roles) == 0 {
		t.Fatal("the planted organization loaded no roles")
	}
	qs := []WhoCanQuestion{
		{Action: "dynamodb:DeleteTable", Resource: "*"},
		{Action: "s3:GetObject", Resource: "*"},
		{Action: "iam:CreateUser", Resource: "*"},
		{Action: "ec2:TerminateInstances", Resource: "*", Context: map[string][]string{"aws:MultiFactorAuthPresent": {"true"}}},
		{Action: "sts:AssumeRole", Resource: roles[0].ID},
		{Action: "sts:AssumeRole", Resource: roles[len(roles)-1].ID},
	}
	nonEmpty := 0
	for _, q := range qs {
		a, err := fast.WhoCan(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := slow.WhoCan(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		c, err := stored.WhoCan(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		jc, _ := json.Marshal(c)
		if string(ja) != string(jb) {
			t.Errorf("who-can %s %s: the fast load answers\n%s\nthe Subgraph load\n%s", q.Action, q.Resource, ja, jb)
		}
		if string(jc) != string(jb) {
			t.Errorf("who-can %s %s: the load of the stored index answers\n%s\nthe Subgraph load\n%s", q.Action, q.Resource, jc, jb)
		}
		if len(b.Principals) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 3 {
		t.Fatalf("only %d of %d questions had any principal: the comparison proves little", nonEmpty, len(qs))
	}
	// can, on each loaded snapshot, for every IAM user and role and every
	// Identity Center user.
	m := slow.src.(*memSource)
	var ps []*model.Resource
	for _, ty := range []model.ResourceType{model.TypeIAMUser, model.TypeIAMRole, model.TypeSSOUser} {
		ps = append(ps, m.byType[ty]...)
	}
	for _, p := range ps {
		q := Question{Principal: p.ID, Action: "dynamodb:DeleteTable", Resource: "*"}
		a, err := fast.Can(ctx, fast.src.(*memSource).byID[p.ID], q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := slow.Can(ctx, p, q)
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("can %s: the fast load answers\n%s\nthe Subgraph load\n%s", p.ID, ja, jb)
		}
	}
}
