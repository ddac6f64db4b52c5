package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestExampleIsValid(t *testing.T) {
	f, err := Parse([]byte(Example()), "example.yaml")
	if err != nil {
		t.Fatalf("Example() does not validate:\n%v", err)
	}
	if got, want := f.IDs(), []string{"acme", "vendor-sandbox", "dev"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if err := f.Validate(); err != nil {
		t.Errorf("Validate() after Parse: %v", err)
	}
}

func TestLoadGood(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Connection{
		{
			ID: "org", Name: "Main organization", Region: "eu-central-1",
			Credentials: Credentials{Source: SourceRole, RoleARN: "arn:aws-us-gov:iam::111122223333:role/ops/WardenReadRole",
				ExternalID: "abcdefghijklmnopqrstuvwxyz0123456789ABCD", SourceProfile: "base", SessionName: "warden-audit"},
			Organization: Organization{Enabled: true, MemberRoleName: "WardenReadRole", ExternalIDEnv: "WARDEN_MEMBER_EXTERNAL_ID",
				Concurrency: 16,
				Include:     AccountFilter{OUs: []string{"Root/Prod/*", "r-ab12"}, Tags: map[string]string{"team": "*"}},
				Exclude:     AccountFilter{Accounts: []string{"012345678901"}}},
			IdentityCenter: IdentityCenter{Enabled: true, InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
				IdentityStoreID: "d-1234567890", Region: "eu-central-1",
				SCIM: SCIM{Endpoint: "http://127.0.0.1:8080/scim/v2/", TokenFile: "/run/secrets/scim"}},
			Sync: SyncParts{AccessKeys: false, CredentialReport: true, CloudTrail: false, IAMRate: 20},
		},
		{
			// Inherits everything from defaults, including the merged
			// anchor's sync settings, and has its source inferred.
			ID: "staging", Name: "staging", Region: "eu-central-1",
			Credentials: Credentials{Source: SourceProfile, Profile: "staging", SessionName: "warden-audit"},
			Organization: Organization{MemberRoleName: "WardenReadRole", ExternalIDEnv: "WARDEN_MEMBER_EXTERNAL_ID",
				Concurrency: 4},
			IdentityCenter: IdentityCenter{Region: "eu-central-1"},
			Sync:           SyncParts{AccessKeys: true, CredentialReport: false, CloudTrail: false, IAMRate: 5},
		},
		{
			ID: "local", Name: "local", Region: "us-west-2", Endpoint: "http://127.0.0.1:4566",
			Credentials: Credentials{Source: SourceEnvironment, SessionName: "warden-audit"},
			Organization: Organization{MemberRoleName: "WardenReadRole", ExternalID: "inline-id",
				Concurrency: 4},
			IdentityCenter: IdentityCenter{Region: "us-west-2"},
			Sync:           SyncParts{AccessKeys: true, CredentialReport: true, CloudTrail: false, IAMRate: 20},
		},
	}
	if len(f.Connections) != len(want) {
		t.Fatalf("got %d connections, want %d", len(f.Connections), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(f.Connections[i], want[i]) {
			t.Errorf("connection %d:\n got %+v\nwant %+v", i, f.Connections[i], want[i])
		}
	}
}

func TestDefaultsWithoutDefaultsSection(t *testing.T) {
	f, err := Parse([]byte("version: 1\nconnections:\n  - id: a\n"), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := NewConnection("a")
	if !reflect.DeepEqual(f.Connections[0], want) {
		t.Errorf("got %+v\nwant NewConnection: %+v", f.Connections[0], want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "warden.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "warden config example") {
		t.Errorf("Load(missing) = %v, want a not-exist error that says how to create one", err)
	}
}

func TestLoadBadFileListsEveryProblem(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad.yaml"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Load(bad.yaml) = %v, want *ValidationError", err)
	}
	got := strings.Split(err.Error(), "\n")
	wantLines := []string{
		`testdata/bad.yaml:3:3: defaults.regoin is not a known key; did you mean "region"?`,
		`testdata/bad.yaml:9:7: connections[0].credentials.profile cannot be used with a role (source: role); to assume the role with that profile's credentials, rename profile to source_profile`,
		`testdata/bad.yaml:10:7: connections[0].credentials.role_arn "arn:aws:iam::12345:role/x" is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name> (arn:aws-cn or arn:aws-us-gov in those partitions)`,
		`testdata/bad.yaml:12:7: connections[0].organization.include applies only to organization mode; set organization.enabled: true, or remove include`,
		`testdata/bad.yaml:13:20: connections[0].organization.include.accounts[0] "1234" is not an AWS account id; write its 12 digits`,
		`testdata/bad.yaml:14:22: connections[0].identity_center must be a mapping of keys (key: value on their own lines), not a single value`,
		`testdata/bad.yaml:15:5: connections[1].id "prod" is already used by connections[0] (line 6); ids must be unique`,
		`testdata/bad.yaml:16:22: connections[1].sync.iam_rate must be a whole number, not "fast"`,
		`testdata/bad.yaml:18:75: connections[1].identity_center.scim.token is refused: tokens are never written in warden.yaml; put the token in an environment variable and set token_env to its name, or in a file only you can read and set token_file to its path`,
	}
	if !reflect.DeepEqual(got, wantLines) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}
	if strings.Contains(err.Error(), "scim-bearer-value") {
		t.Error("the error repeats the token's value")
	}
}

func TestConnectionLookup(t *testing.T) {
	f, err := Parse([]byte(Example()), "warden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Connection("vendor-sandbox")
	if err != nil || c.ID != "vendor-sandbox" || c != &f.Connections[1] {
		t.Errorf("Connection(vendor-sandbox) = %v, %v; want a pointer to the second connection", c, err)
	}
	_, err = f.Connection("prod")
	if err == nil || err.Error() != `no connection "prod" in warden.yaml; known ids: acme, vendor-sandbox, dev` {
		t.Errorf("Connection(prod) error = %v", err)
	}
	empty := &File{}
	if _, err := empty.Connection("x"); err == nil || !strings.Contains(err.Error(), "defines no connections") {
		t.Errorf("Connection on empty file = %v", err)
	}
}

func TestValidateFileBuiltInCode(t *testing.T) {
	ok := &File{Version: 1, Defaults: Defaults{SessionName: "warden", Organization: OrganizationDefaults{
		MemberRoleName: DefaultMemberRoleName, Concurrency: 1}, Sync: SyncParts{IAMRate: 1}},
		Connections: []Connection{NewConnection("a")}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid File built in code: %v", err)
	}
	bad := *ok
	c := NewConnection("b")
	c.Credentials.RoleARN = "arn:aws:iam::123456789012:user/x"
	c.Credentials.Source = SourceRole
	bad.Connections = []Connection{c, NewConnection("b")}
	err := bad.Validate()
	want := `connections[0].credentials.role_arn "arn:aws:iam::123456789012:user/x" is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name> (arn:aws-cn or arn:aws-us-gov in those partitions)` + "\n" +
		`connections[1].id "b" is already used by connections[0]; ids must be unique`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestValidateAfterEditing(t *testing.T) {
	f, err := Parse([]byte("version: 1\ndefaults:\n  region: eu-west-1\nconnections:\n  - id: a\n"), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := NewConnection("b")
	c.Region = "moon-1"
	f.Connections = append(f.Connections, c)
	f.Connections[0].Sync.IAMRate = 0
	err = f.Validate()
	// A value changed after loading is checked even where it had been
	// inherited; a connection added in code is placed under connections.
	want := `w.yaml:4:1: connections[1].region "moon-1" is not an AWS region name such as us-east-1 or eu-west-2` + "\n" +
		`w.yaml:5:5: connections[0].sync.iam_rate must be between 1 and 1000 calls per second, not 0`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

// TestCloudTrailRefused: cloudtrail: true would validate and then read
// nothing, so it is refused where it is written; false is accepted.
func TestCloudTrailRefused(t *testing.T) {
	for _, tt := range []struct{ yaml, path string }{
		{"version: 1\ndefaults:\n  sync:\n    cloudtrail: true\nconnections:\n  - id: a\n", "defaults.sync.cloudtrail"},
		{"version: 1\nconnections:\n  - id: a\n    sync:\n      cloudtrail: true\n", "connections[0].sync.cloudtrail"},
	} {
		_, err := Parse([]byte(tt.yaml), "w.yaml")
		var verr *ValidationError
		if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Problems[0].Path != tt.path ||
			!strings.Contains(verr.Problems[0].Message, "the connection's activity: key") || verr.Problems[0].Line == 0 {
			t.Errorf("%s: cloudtrail: true gave %v; want one problem at %s with its line", tt.path, err, tt.path)
		}
	}
	if _, err := Parse([]byte("version: 1\nconnections:\n  - id: a\n    sync:\n      cloudtrail: false\n"), "w.yaml"); err != nil {
		t.Errorf("cloudtrail: false refused: %v", err)
	}
}

// TestHugeFileRefused: a file over MaxFileSize is refused with one problem,
// before it is parsed; one just under is read.
func TestHugeFileRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "huge.yaml")
	// 24 MB of connections with a mistake each: once 247,572 problems.
	var b strings.Builder
	b.WriteString("version: 1\nconnections:\n")
	for b.Len() < 24<<20 {
		b.WriteString("  - id: BAD_ID\n    region: nowhere\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || !strings.Contains(verr.Problems[0].Message, "over the 1048576 bytes (1 MiB)") ||
		!strings.Contains(verr.Problems[0].Message, fmt.Sprint(b.Len())) {
		t.Fatalf("a 24 MB file gave %v; want one problem naming its size and the limit", err)
	}
	if _, err := Parse([]byte(b.String()), "huge.yaml"); !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Errorf("Parse of 24 MB gave %v; want the one size problem", err)
	}
}

// TestProblemsCapped: a file with many mistakes lists the first
// MaxProblems in file order and says how many more there are.
func TestProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nconnections:\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "  - id: BAD_%d\n", i)
	}
	_, err := Parse([]byte(b.String()), "w.yaml")
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != MaxProblems+1 {
		t.Fatalf("200 bad ids gave %d problems; want %d and a last line", len(verr.Problems), MaxProblems+1)
	}
	last := verr.Problems[MaxProblems]
	if last.Message != "and 150 more problem(s) not listed; correct the ones above, then validate again" || verr.Problems[0].Line != 3 {
		t.Errorf("first problem %v, last %v; want line 3 first and the count of the rest last", verr.Problems[0], last)
	}
}
