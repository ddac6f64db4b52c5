package effective

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/policy"
)

// step is a statement an answer must name: kind, policy, statement and
// effect, and a via that must start with the given text.
type step struct{ kind, policy, statement, effect, via string }

func hasStep(steps []policy.Step, w step) bool {
	for _, s := range steps {
		if s.Kind == w.kind && s.Policy == w.policy && s.Statement == w.statement && s.Effect == w.effect && strings.HasPrefix(s.Via, w.via) {
			return true
		}
	}
	return false
}

func hasNote(notes []string, text string) bool {
	for _, n := range notes {
		if strings.Contains(n, text) {
			return true
		}
	}
	return false
}

// TestCanPlantedCases asks `can` each planted question and checks the
// answer the estate's definition gives (plantedTruth): the decision, the
// statement that decides it and through what.
func TestCanPlantedCases(t *testing.T) {
	st, snap := plantedStore(t)
	ctx := context.Background()
	cross := iamARN(acctC, "role", "cross-reader")
	cases := []struct {
		name     string
		q        Question
		decision policy.Decision
		step     *step
		note     string
	}{
		{"SCP deny at an OU", Question{Principal: "ann", Action: "s3:DeleteBucket", Resource: "arn:aws:s3:::logs"},
			policy.ExplicitDeny, &step{"scp", "deny-s3-delete-prod", "NoBucketDeletes", "Deny", "SCP at OU Prod"}, ""},
		{"AdministratorAccess allows where no SCP denies", Question{Principal: "ann", Action: "s3:GetObject", Resource: "arn:aws:s3:::logs/a"},
			policy.Allowed, &step{"identity", "AdministratorAccess", "#1", "Allow", "direct"}, ""},
		{"SCP deny at the root", Question{Principal: iamARN(acctA, "user", "ann"), Action: "iam:CreateUser"},
			policy.ExplicitDeny, &step{"scp", "deny-iam-users", "NoIAMUsers", "Deny", "SCP at root"}, ""},
		{"boundary denies everything under AdministratorAccess", Question{Principal: "bound", Action: "s3:GetObject", Resource: "arn:aws:s3:::logs/a"},
			policy.ExplicitDeny, &step{"boundary", "deny-all-boundary", "DenyAll", "Deny", "permissions boundary"}, ""},
		{"management account exempt from SCPs", Question{Principal: "root-admin", Action: "iam:CreateUser"},
			policy.Allowed, &step{"identity", "AdministratorAccess", "#1", "Allow", "direct"}, "management account"},
		{"service-linked role exempt from SCPs", Question{Principal: "AWSServiceRoleForSupport", Action: "iam:CreateUser"},
			policy.Allowed, &step{"identity", "AdministratorAccess", "#1", "Allow", "direct"}, "service-linked role"},
		{"cross-account trust with an identity allow", Question{Principal: "carl", Action: "sts:AssumeRole", Resource: cross},
			policy.Allowed, &step{"resource", "trust policy of cross-reader", "#1", "Allow", "trust policy"}, ""},
		{"cross-account trust needs the identity side too", Question{Principal: "dora", Action: "sts:AssumeRole", Resource: cross},
			policy.ImplicitDeny, nil, ""},
		{"a same-account trust naming the user grants on its own", Question{Principal: "eve", Action: "sts:AssumeRole", Resource: iamARN(acctB, "role", "hop1")},
			policy.Allowed, &step{"resource", "trust policy of hop1", "#1", "Allow", "trust policy"}, ""},
		{"a role not trusting the principal is not assumed, even by an administrator", Question{Principal: "ann", Action: "sts:AssumeRole", Resource: cross},
			policy.ImplicitDeny, nil, ""},
		{"MFA given", Question{Principal: "mia", Action: "ec2:TerminateInstances", Context: map[string][]string{"aws:MultiFactorAuthPresent": {"true"}}},
			policy.Allowed, &step{"identity", "mfa-terminate", "TerminateWithMFA", "Allow", "inline"}, ""},
		{"MFA absent", Question{Principal: "mia", Action: "ec2:TerminateInstances", Context: map[string][]string{"aws:MultiFactorAuthPresent": {"false"}}},
			policy.ImplicitDeny, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Can(ctx, st, snap, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Cases) != 1 {
				t.Fatalf("%d cases, want 1: %+v", len(a.Cases), a.Cases)
			}
			got := a.Cases[0]
			if a.Decision != c.decision || got.Decision != c.decision {
				t.Fatalf("decision %s (case %s), want %s: %+v", a.Decision, got.Decision, c.decision, got)
			}
			if c.step != nil && !hasStep(got.Explanation, *c.step) {
				t.Errorf("explanation %+v does not name %+v", got.Explanation, *c.step)
			}
			if c.note != "" && !hasNote(got.Notes, c.note) {
				t.Errorf("notes %q do not say %q", got.Notes, c.note)
			}
		})
	}
}

// TestCanAllowedIfMFA: the allow of mia's inline policy depends on
// aws:MultiFactorAuthPresent, which the question leaves unknown: the
// answer is allowed if it is true, from that statement.
func TestCanAllowedIfMFA(t *testing.T) {
	skipWithoutUnknown(t)
	st, snap := plantedStore(t)
	a, err := Can(context.Background(), st, snap, Question{Principal: "mia", Action: "ec2:TerminateInstances"})
	if err != nil {
		t.Fatal(err)
	}
	c := a.Cases[0]
	if c.Decision != policy.Conditional || len(c.AllowedIf) != 1 || len(c.AllowedIf[0].Requires) != 1 {
		t.Fatalf("want allowed_if one requirement, got %s %+v", c.Decision, c.AllowedIf)
	}
	r := c.AllowedIf[0].Requires[0]
	if !strings.EqualFold(r.Key, "aws:MultiFactorAuthPresent") || r.Operator != "Bool" || len(r.Values) != 1 || r.Values[0] != "true" ||
		r.Policy != "mfa-terminate" || r.Statement != "TerminateWithMFA" {
		t.Errorf("requirement %+v, want aws:MultiFactorAuthPresent Bool true from mfa-terminate TerminateWithMFA", r)
	}
}

// skipWithoutUnknown skips, loudly, while internal/policy does not yet
// evaluate unknown keys (its Request.Unknown came first as API alone): a
// probe with a condition on an absent key must come back allowed_if.
func skipWithoutUnknown(t *testing.T) {
	t.Helper()
	d, err := policy.Parse(doc(`{"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := policy.Evaluate(&policy.Request{Principal: iamARN(acctA, "user", "probe"), Action: "ec2:TerminateInstances", Resource: "*",
		Identity: []policy.Named{{Name: "probe", Doc: d}}, Unknown: true})
	if r.Decision != policy.Conditional {
		t.Skip("SKIPPED: internal/policy does not evaluate unknown condition keys yet (Request.Unknown gives " + string(r.Decision) + ", not allowed_if); merge the policy branch's three-valued evaluation")
	}
}

// TestCanIdentityCenterUser: ivy holds permission set S3Reader in B and C;
// `can` answers per account through the permission set's reserved role,
// allowed in B, denied in C by the SCP attached to C.
func TestCanIdentityCenterUser(t *testing.T) {
	st, snap := plantedStore(t)
	a, err := Can(context.Background(), st, snap, Question{Principal: "ivy@example.com", Action: "s3:GetObject", Resource: "arn:aws:s3:::data/x"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Principal.Name != "ivy@example.com" || a.Decision != policy.Allowed || len(a.Cases) != 2 {
		t.Fatalf("answer %+v, want ivy allowed in 2 cases", a)
	}
	b, c := a.Cases[0], a.Cases[1]
	if b.AccountID != acctB || b.PermissionSet != "S3Reader" || b.Via != "direct" || b.Role == nil || !strings.HasPrefix(b.Role.Name, "AWSReservedSSO_S3Reader_") ||
		b.Decision != policy.Allowed || !hasStep(b.Explanation, step{"identity", "AmazonS3ReadOnlyAccess", "#1", "Allow", "permission set S3Reader"}) {
		t.Errorf("case in B: %+v", b)
	}
	if c.AccountID != acctC || c.PermissionSet != "S3Reader" || c.Decision != policy.ExplicitDeny ||
		!hasStep(c.Explanation, step{"scp", "deny-s3-read-c", "NoReadsInC", "Deny", "SCP at account " + acctC}) {
		t.Errorf("case in C: %+v", c)
	}
}

// TestCanBadInput: an unknown principal, a group, and a malformed action
// are errors of the question, each saying what to give instead.
func TestCanBadInput(t *testing.T) {
	st, snap := plantedStore(t)
	ctx := context.Background()
	_, err := Can(ctx, st, snap, Question{Principal: "nobody-at-all", Action: "s3:GetObject"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !IsInput(err) {
		t.Errorf("unknown principal: %v", err)
	}
	_, err = Can(ctx, st, snap, Question{Principal: "ann", Action: "GetObject"})
	var in *InputError
	if !errors.As(err, &in) || in.Fix == "" {
		t.Errorf("bad action: %v", err)
	}
	_, err = Can(ctx, st, snap, Question{Principal: adminPolicy, Action: "s3:GetObject"})
	if !errors.As(err, &in) || !strings.Contains(in.Problem, "not a principal") {
		t.Errorf("a policy as the principal: %v", err)
	}
}
