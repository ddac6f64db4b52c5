package effective

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/policy"
)

// entryKey is how a test names a who-can entry: the principal's name and
// account, the path, and the names of the roles of its chain.
func entryKey(e Entry) string {
	var hops []string
	for _, h := range e.Chain {
		hops = append(hops, h.Role.Name)
	}
	name := e.Principal.Name
	if strings.HasPrefix(name, "AWSReservedSSO_") {
		name = name[:strings.LastIndexByte(name, '_')]
	}
	k := name + "@" + e.AccountID + " " + e.Path
	if len(hops) > 0 {
		for i, h := range hops {
			if strings.HasPrefix(h, "AWSReservedSSO_") {
				hops[i] = h[:strings.LastIndexByte(h, '_')]
			}
		}
		k += " [" + strings.Join(hops, " > ") + "]"
	}
	return k + " " + string(e.Decision)
}

func keys(a *WhoCanAnswer) []string {
	var out []string
	for _, e := range a.Principals {
		out = append(out, entryKey(e))
	}
	sort.Strings(out)
	return out
}

// TestWhoCanChainAndTrust: who can delete DynamoDB tables in the planted
// organization, from its definition (plantedTruth): the holders of
// AdministratorAccess that no SCP or boundary stops (ann; root-admin; the
// three OrganizationAccountAccessRole roles; the service-linked role, and
// through its trust the support service), hop2 (its inline policy), hop1
// (it may assume hop2, which trusts account B), and eve (hop1's trust names
// her): a two-step chain. bound's boundary denies everything; nobody else
// holds an allow.
func TestWhoCanChainAndTrust(t *testing.T) {
	st, snap := plantedStore(t)
	a, err := WhoCan(context.Background(), st, snap, WhoCanQuestion{Action: "dynamodb:DeleteTable", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"AWSServiceRoleForSupport@" + acctA + " direct allowed",
		"OrganizationAccountAccessRole@" + acctA + " direct allowed",
		"OrganizationAccountAccessRole@" + acctB + " direct allowed",
		"OrganizationAccountAccessRole@" + acctC + " direct allowed",
		"ann@" + acctA + " direct allowed",
		"eve@" + acctB + " assume role [hop1 > hop2] allowed",
		"hop1@" + acctB + " assume role [hop2] allowed",
		"hop2@" + acctC + " direct allowed",
		"root-admin@" + mgmt + " direct allowed",
		"support.amazonaws.com@ outside [AWSServiceRoleForSupport] allowed",
	}
	if got := keys(a); !reflect.DeepEqual(got, want) {
		t.Errorf("who-can dynamodb:DeleteTable *:\n got %q\nwant %q", got, want)
	}
	for _, e := range a.Principals {
		if e.Principal.Name != "eve" {
			continue
		}
		if !hasStep(e.Chain[0].Explanation, step{"resource", "trust policy of hop1", "#1", "Allow", "trust policy"}) ||
			!hasStep(e.Chain[1].Explanation, step{"identity", "assume-hop2", "AssumeHop2", "Allow", "inline"}) ||
			!hasStep(e.Chain[1].Explanation, step{"resource", "trust policy of hop2", "#1", "Allow", "trust policy"}) ||
			!hasStep(e.Explanation, step{"identity", "tables", "DeleteTables", "Allow", "inline"}) {
			t.Errorf("eve's chain does not name the statements of each step: %+v / %+v", e.Chain, e.Explanation)
		}
	}
}

// TestWhoCanAccountAndIdentityCenter: who can read objects, principals of
// account B only: its OrganizationAccountAccessRole and the S3Reader role
// Identity Center made there, and ivy through that permission set; bound
// is denied by its boundary; eve's chain ends in hop2, in C, where an SCP
// denies reads.
func TestWhoCanAccountAndIdentityCenter(t *testing.T) {
	st, snap := plantedStore(t)
	a, err := WhoCan(context.Background(), st, snap, WhoCanQuestion{Action: "s3:GetObject", Resource: "arn:aws:s3:::data/x", Account: acctB})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"AWSReservedSSO_S3Reader@" + acctB + " direct allowed",
		"OrganizationAccountAccessRole@" + acctB + " direct allowed",
		"ivy@example.com@" + acctB + " identity center [AWSReservedSSO_S3Reader] allowed",
	}
	if got := keys(a); !reflect.DeepEqual(got, want) {
		t.Errorf("who-can s3:GetObject --account B:\n got %q\nwant %q", got, want)
	}
	for _, e := range a.Principals {
		if e.Path == "identity center" && e.Chain[0].Via != "permission set S3Reader" {
			t.Errorf("ivy's way is %q, want permission set S3Reader", e.Chain[0].Via)
		}
	}
}

// TestWhoCanAssumeRole asks who can assume cross-reader (in C, trusting
// carl in A): carl, whose inline policy allows it; no one else, though
// administrators hold an allow of every action, since the trust policy
// names only carl.
func TestWhoCanAssumeRole(t *testing.T) {
	st, snap := plantedStore(t)
	a, err := WhoCan(context.Background(), st, snap, WhoCanQuestion{Action: "sts:AssumeRole", Resource: iamARN(acctC, "role", "cross-reader")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"carl@" + acctA + " direct allowed"}
	if got := keys(a); !reflect.DeepEqual(got, want) {
		t.Errorf("who-can sts:AssumeRole cross-reader:\n got %q\nwant %q", got, want)
	}
}

// TestWhoCanAllowedIfMFA: mia can terminate instances if MFA is present.
func TestWhoCanAllowedIfMFA(t *testing.T) {
	skipWithoutUnknown(t)
	st, snap := plantedStore(t)
	a, err := WhoCan(context.Background(), st, snap, WhoCanQuestion{Action: "ec2:TerminateInstances", Resource: "*", Account: acctA})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.Principals {
		if e.Principal.Name == "mia" {
			if e.Decision != policy.Conditional || len(e.AllowedIf) != 1 || e.AllowedIf[0].Requires[0].Operator != "Bool" {
				t.Errorf("mia: %+v", e)
			}
			return
		}
	}
	t.Errorf("mia is not listed: %q", keys(a))
}

func TestWhoCanBadInput(t *testing.T) {
	st, snap := plantedStore(t)
	for _, q := range []WhoCanQuestion{{Action: "s3", Resource: "*"}, {Action: "s3:GetObject"}, {Action: "s3:GetObject", Resource: "*", Account: "12"}} {
		_, err := WhoCan(context.Background(), st, snap, q)
		var in *InputError
		if !errors.As(err, &in) || in.Fix == "" {
			t.Errorf("%+v: %v", q, err)
		}
	}
}
