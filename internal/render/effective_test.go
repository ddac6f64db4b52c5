package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// TestWhoCanTablesHow: each entry's way reads as words — direct with the
// allowing policies, a chain of assumed roles, a permission set's role —
// and an allowed_if entry lists its requirements.
func TestWhoCanTablesHow(t *testing.T) {
	allow := []policy.Step{{Kind: "identity", Policy: "AdministratorAccess", Effect: "Allow"}, {Kind: "scp", Policy: "FullAWSAccess", Effect: "Allow"}}
	a := &effective.WhoCanAnswer{Action: "s3:GetObject", Resource: "*", Evaluated: 3, Principals: []effective.Entry{
		{Principal: effective.Ref{Name: "ann", Type: model.TypeIAMUser}, AccountID: "111111111111", Decision: policy.Allowed, Path: "direct", Explanation: allow},
		{Principal: effective.Ref{Name: "eve", Type: model.TypeIAMUser}, AccountID: "111111111111", Decision: policy.Conditional, Path: "assume role",
			Chain:       []effective.Hop{{Role: effective.Ref{Name: "hop1"}, Via: "assume"}, {Role: effective.Ref{Name: "hop2"}, Via: "assume"}},
			Explanation: allow, AllowedIf: []policy.Alternative{{Requires: []policy.Requirement{{Key: "aws:MultiFactorAuthPresent", Operator: "Bool", Values: []string{"true"}}}}}},
		{Principal: effective.Ref{Name: "ivy", Type: model.TypeSSOUser}, AccountID: "222222222222", Decision: policy.Allowed, Path: "identity center",
			Chain: []effective.Hop{{Role: effective.Ref{Name: "AWSReservedSSO_S3Reader_1"}, Via: "permission set S3Reader"}}, Explanation: allow},
	}}
	var out bytes.Buffer
	if err := Tables(&out, WhoCanTables(a)...); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 principals (3 requests decided)", "direct (AdministratorAccess)",
		"assume hop1 → assume hop2 (AdministratorAccess)", "aws:MultiFactorAuthPresent Bool true", "allowed if …",
		"permission set S3Reader (role AWSReservedSSO_S3Reader_1) (AdministratorAccess)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("who-can table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCanTables: the cases, the deciding statements, the alternatives and
// the notes each get a table; none is printed when empty.
func TestCanTables(t *testing.T) {
	a := &effective.CanAnswer{Principal: effective.Ref{Name: "mia", Type: model.TypeIAMUser}, Action: "ec2:TerminateInstances", Resource: "*",
		Decision: policy.Conditional, Cases: []effective.Case{{AccountID: "111111111111", Decision: policy.Conditional,
			Explanation: []policy.Step{{Kind: "identity", Policy: "mfa-terminate", Via: "inline", Statement: "TerminateWithMFA", Effect: "Allow"}},
			AllowedIf:   []policy.Alternative{{Requires: []policy.Requirement{{Key: "aws:MultiFactorAuthPresent", Operator: "Bool", Values: []string{"true"}, Policy: "mfa-terminate", Statement: "TerminateWithMFA"}}}},
			Notes:       []string{"SCPs do not apply to the management account 111111111111"}}}}
	ts := CanTables(a)
	if len(ts) != 4 {
		t.Fatalf("%d tables, want cases, why, allowed if, notes", len(ts))
	}
	var out bytes.Buffer
	if err := Tables(&out, ts...); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"iam_user mia: ec2:TerminateInstances on *: allowed if …", "TerminateWithMFA", "aws:MultiFactorAuthPresent Bool true", "management account"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("can tables lack %q:\n%s", want, out.String())
		}
	}
	a.Cases[0].AllowedIf, a.Cases[0].Notes = nil, nil
	if n := len(CanTables(a)); n != 2 {
		t.Errorf("%d tables without alternatives or notes, want 2", n)
	}
}
