package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/config"
)

// writeConfig writes a connections file in a new directory and returns its
// path.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keepConfigEnv clears WARDEN_CONFIG for the test, so only what the test
// sets chooses the file.
func keepConfigEnv(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
}

// badConfig holds one mistake on each line named in TestConfigValidateNamesEveryProblem.
const badConfig = `version: 1
defaults:
  regoin: us-east-1
connections:
  - id: Prod
    credentials:
      role_arn: arn:aws:iam::12345:role/x
    organization:
      enabled: true
      include:
        accounts: ["1234"]
    identity_center:
      scim: {endpoint: "https://scim.example.com/scim/v2/", token: scim-bearer-value-123}
  - id: dev
    sync: {iam_rate: fast}
  - id: dev
`

func TestConfigValidateNamesEveryProblem(t *testing.T) {
	keepConfigEnv(t)
	path := writeConfig(t, "warden.yaml", badConfig)
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runIn(t, "", "config", "validate", "--config", path, "-o", format)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("an invalid file printed on stdout: %q", stdout)
			}
			want := []struct{ pos, says string }{
				{":3:3: ", `defaults.regoin is not a known key; did you mean "region"?`},
				{":5:5: ", "connections[0].id"},
				{":7:7: ", "connections[0].credentials.role_arn"},
				{":11:20: ", `"1234" is not an AWS account id`},
				{":13:61: ", "connections[0].identity_center.scim.token is refused"},
				{":15:22: ", "connections[1].sync.iam_rate must be a whole number"},
				{":16:5: ", `connections[2].id "dev" is already used by connections[1] (line 14)`},
			}
			lines := strings.Split(stderr, "\n")
			for _, w := range want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, path+w.pos) && strings.Contains(l, w.says) {
						found = true
					}
				}
				if !found {
					t.Errorf("no line %q…%q in:\n%s", path+w.pos, w.says, stderr)
				}
			}
			if !strings.Contains(stderr, "\nwarden: "+path+" has 8 problem(s)") || !strings.Contains(stderr, "\nfix: ") {
				t.Errorf("stderr does not end with the count and a fix:\n%s", stderr)
			}
			if strings.Contains(stderr, "scim-bearer-value-123") {
				t.Errorf("validate repeated the token written in the file:\n%s", stderr)
			}
		})
	}
}

func TestConfigValidateFileErrors(t *testing.T) {
	keepConfigEnv(t)
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []string
	}{
		{"not YAML", "version: 1\nconnections: [\n", []string{":2: ", "not valid YAML"}},
		{"empty", "", []string{": the file is empty"}},
		{"no connections", "version: 1\n", []string{"connections"}},
		{"wrong version", "version: 9\nconnections:\n  - id: a\n", []string{":1:", "version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "warden.yaml", tt.content)
			_, stderr, code := runIn(t, "", "config", "validate", "--config", path)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			if !strings.HasPrefix(stderr, path) {
				t.Errorf("stderr does not start with the file name:\n%s", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		stdout, stderr, code := runIn(t, "", "config", "validate", "--config", filepath.Join(dir, "missing.yaml"))
		assertFailure(t, stdout, stderr, code, exitUsage, "no connections file at "+filepath.Join(dir, "missing.yaml"))
	})
	t.Run("directory", func(t *testing.T) {
		stdout, stderr, code := runIn(t, "", "config", "validate", "--config", dir)
		assertFailure(t, stdout, stderr, code, exitUsage, dir)
	})
}

// exampleViews is what `config validate -o json` must say about
// config.Example().
var exampleViews = []map[string]any{
	{"id": "acme", "name": "ACME organization", "credentials": "role arn:aws:iam::111122223333:role/WardenReadRole from profile acme-admin",
		"organization": true, "member_role": "WardenReadRole", "identity_center": true},
	{"id": "vendor-sandbox", "name": "vendor-sandbox", "credentials": "role arn:aws:iam::777788889999:role/WardenReadRole",
		"organization": false, "member_role": nil, "identity_center": false},
	{"id": "dev", "name": "dev", "credentials": "environment",
		"organization": false, "member_role": nil, "identity_center": false},
}

func TestConfigValidateValid(t *testing.T) {
	keepConfigEnv(t)
	path := writeConfig(t, "warden.yaml", config.Example())

	out, stderr, code := runIn(t, "", "config", "validate", "--config", path, "-o", "json")
	if code != 0 {
		t.Fatalf("validate of config.Example() exited %d:\n%s", code, stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("-o json printed %q: %v", out, err)
	}
	if !reflect.DeepEqual(got, exampleViews) {
		t.Errorf("validate -o json =\n%v\nwant\n%v", got, exampleViews)
	}

	out, _, code = runIn(t, "", "config", "validate", "--config", path)
	if code != 0 {
		t.Fatalf("table output exited %d", code)
	}
	if !strings.HasPrefix(out, path+" is valid: 3 connection(s)\n") {
		t.Errorf("table does not start with the summary:\n%s", out)
	}
	for _, v := range exampleViews {
		if !strings.Contains(out, v["id"].(string)) || !strings.Contains(out, v["credentials"].(string)) {
			t.Errorf("table lacks connection %v:\n%s", v["id"], out)
		}
	}
	if !strings.Contains(out, "yes, via WardenReadRole") {
		t.Errorf("table does not name the member role:\n%s", out)
	}
}

// TestConfigValidateHidesExternalID checks an ExternalId written in the file
// is not printed back.
func TestConfigValidateHidesExternalID(t *testing.T) {
	keepConfigEnv(t)
	const id = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	path := writeConfig(t, "warden.yaml", `version: 1
connections:
  - id: one
    credentials:
      role_arn: arn:aws:iam::111122223333:role/WardenReadRole
      external_id: `+id+`
    organization:
      enabled: true
      external_id: `+id+`
`)
	for _, format := range []string{"table", "json"} {
		out, stderr, code := runIn(t, "", "config", "validate", "--config", path, "-o", format)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", format, code, stderr)
		}
		if strings.Contains(out+stderr, id) {
			t.Errorf("%s output holds the ExternalId:\n%s", format, out)
		}
	}
}

// TestConfigValidateFindsTheFile checks the order: --config, then
// WARDEN_CONFIG, then ./warden.yaml.
func TestConfigValidateFindsTheFile(t *testing.T) {
	one := writeConfig(t, "one.yaml", "version: 1\nconnections:\n  - id: from-flag\n")
	two := writeConfig(t, "two.yaml", "version: 1\nconnections:\n  - id: from-env\n")
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "warden.yaml"), []byte("version: 1\nconnections:\n  - id: from-cwd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tests := []struct {
		name      string
		env, dir  string
		args      []string
		wantID    string
		wantError string
	}{
		{"flag wins over the environment", two, cwd, []string{"--config", one}, "from-flag", ""},
		{"flag after the subcommand", two, cwd, []string{"config", "validate", "--config", one}, "from-flag", ""},
		{"environment wins over ./warden.yaml", two, cwd, nil, "from-env", ""},
		{"./warden.yaml by default", "", cwd, nil, "from-cwd", ""},
		{"nothing to read", "", empty, nil, "", "no connections file at warden.yaml"},
		{"environment naming a missing file", filepath.Join(empty, "gone.yaml"), cwd, nil, "", "no connections file at " + filepath.Join(empty, "gone.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WARDEN_CONFIG", tt.env)
			t.Chdir(tt.dir)
			args := tt.args
			if len(args) == 0 || args[0] != "config" {
				args = append(append([]string{}, args...), "config", "validate")
			}
			out, stderr, code := runIn(t, "", append(args, "-o", "json")...)
			if tt.wantError != "" {
				assertFailure(t, out, stderr, code, exitUsage, tt.wantError)
				return
			}
			var got []connectionView
			if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0].ID != tt.wantID {
				t.Errorf("exit %d, read %q (stderr %q); want connection %s", code, out, stderr, tt.wantID)
			}
		})
	}
}

func TestConfigExample(t *testing.T) {
	out, stderr, code := runIn(t, "", "config", "example")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if out != config.Example() {
		t.Error("config example printed something other than config.Example()")
	}
	if _, err := config.Parse([]byte(out), "example.yaml"); err != nil {
		t.Errorf("the example does not validate: %v", err)
	}
}

func TestConfigUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		problem string
	}{
		{[]string{"config", "valdate"}, `unknown command "valdate" for "warden config" (did you mean validate?)`},
		{[]string{"config", "validate", "warden.yaml"}, "takes no arguments"},
		{[]string{"config", "example", "--force"}, "unknown flag: --force"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := runIn(t, "", tt.args...)
			assertFailure(t, stdout, stderr, code, exitUsage, tt.problem)
		})
	}
}
