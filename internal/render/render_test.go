package render

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
)

const acct = "111111111111"

func arn(kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }

// smallGraph: alice in devs (ReadOnly attached to devs) with one active and
// one inactive key; bob without a credential report.
func smallGraph() *model.Graph {
	devs, readOnly := arn("group", "devs"), arn("policy", "ReadOnly")
	alice, bob := arn("user", "alice"), arn("user", "bob")
	created := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	g := &model.Graph{
		Resources: []model.Resource{
			{ID: bob, Type: model.TypeIAMUser, AccountID: acct, Name: "bob", User: &model.UserAttrs{ConsoleAccess: true}},
			{ID: alice, Type: model.TypeIAMUser, AccountID: acct, Name: "alice", CreatedAt: created,
				User: &model.UserAttrs{ConsoleAccess: true, MFAActive: true, CredentialReport: true}},
			{ID: devs, Type: model.TypeIAMGroup, AccountID: acct, Name: "devs"},
			{ID: readOnly, Type: model.TypeIAMPolicy, AccountID: acct, Name: "ReadOnly", Policy: &model.PolicyAttrs{AttachmentCount: 1}},
			{ID: model.AccessKeyID(acct, "AKIA1"), Type: model.TypeAccessKey, AccountID: acct, Name: "AKIA1", ParentID: alice,
				CreatedAt: created, AccessKey: &model.AccessKeyAttrs{Status: "Active", LastUsedService: "N/A"}},
			{ID: model.AccessKeyID(acct, "AKIA2"), Type: model.TypeAccessKey, AccountID: acct, Name: "AKIA2", ParentID: alice,
				CreatedAt: created, AccessKey: &model.AccessKeyAttrs{Status: "Inactive"}},
		},
		Grants: []model.Grant{
			{PrincipalID: alice, EntitlementID: model.EntitlementID(devs, model.EntMember), Provenance: model.ViaDirect},
			{PrincipalID: devs, EntitlementID: model.EntitlementID(readOnly, model.EntAttached), Provenance: model.ViaDirect},
			{PrincipalID: alice, EntitlementID: model.EntitlementID(readOnly, model.EntAttached), Provenance: model.ViaGroup, ViaID: devs},
			{PrincipalID: alice, EntitlementID: model.EntitlementID(model.AccessKeyID(acct, "AKIA1"), model.EntOwner), Provenance: model.ViaDirect},
		},
	}
	for _, gr := range g.Grants {
		i := strings.LastIndexByte(gr.EntitlementID, '#')
		g.Entitlements = append(g.Entitlements, model.Entitlement{ID: gr.EntitlementID, ResourceID: gr.EntitlementID[:i], Name: gr.EntitlementID[i+1:]})
	}
	return g
}

func TestUsersTable(t *testing.T) {
	rows := inventory.Users(smallGraph(), "")
	var buf bytes.Buffer
	tab := UsersTable(rows)
	if err := tab.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ACCOUNT       NAME   GROUPS  CONSOLE  MFA  KEYS        PASSWORD LAST USED  CREATED",
		"111111111111  alice  devs    yes      yes  1/2 active  never               2024-01-02",
		"111111111111  bob    -       ?        ?    0           ?                   -",
	}
	if got := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("users table =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows := inventory.Users(smallGraph(), "222222222222"); len(rows) != 0 {
		t.Errorf("Users of another account = %v, want none", rows)
	}
}

func TestTableLimitAndEmpty(t *testing.T) {
	tests := []struct {
		rows  int
		limit int
		want  string
	}{
		{0, 5, "T\n  (none)\n"},
		{3, 2, "T\nA\n1\n2\n  … and 1 more\n"},
		{2, 0, "T\nA\n1\n2\n"},
	}
	for _, tt := range tests {
		tab := &Table{Title: "T", Header: []string{"A"}}
		for i := 1; i <= tt.rows; i++ {
			tab.Add(string(rune('0' + i)))
		}
		tab.Limit(tt.limit)
		var buf bytes.Buffer
		if err := tab.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("%d rows, limit %d: %q, want %q", tt.rows, tt.limit, buf.String(), tt.want)
		}
	}
}

func TestGrantsCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := GrantsCSV(&buf, smallGraph()); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		GrantColumns,
		{acct, "iam_user", "alice", arn("user", "alice"), "member", "iam_group", "devs", arn("group", "devs"), "direct", "", ""},
		{acct, "iam_group", "devs", arn("group", "devs"), "attached", "iam_policy", "ReadOnly", arn("policy", "ReadOnly"), "direct", "", ""},
		{acct, "iam_user", "alice", arn("user", "alice"), "attached", "iam_policy", "ReadOnly", arn("policy", "ReadOnly"), "group", "devs", arn("group", "devs")},
		{acct, "iam_user", "alice", arn("user", "alice"), "owner", "access_key", "AKIA1", model.AccessKeyID(acct, "AKIA1"), "direct", "", ""},
	}
	if !reflect.DeepEqual(records, want) {
		t.Errorf("csv =\n%v\nwant\n%v", records, want)
	}
}

func TestParseFormat(t *testing.T) {
	for in, ok := range map[string]bool{"table": true, "json": true, "yaml": false, "": false} {
		if _, err := ParseFormat(in); (err == nil) != ok {
			t.Errorf("ParseFormat(%q) error = %v, want ok=%v", in, err, ok)
		}
	}
}
