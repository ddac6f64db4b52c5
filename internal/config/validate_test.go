package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// expect is one expected problem: its position, its path and a part of its
// message.
type expect struct {
	at, path, msg string
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []expect
	}{
		{
			name: "unknown keys with and without suggestion",
			yaml: "version: 1\nconections: []\nconnections:\n  - id: a\n    flavour: x\n    organisation: {}\n",
			want: []expect{
				{"2:1", "conections", `is not a known key; did you mean "connections"?`},
				{"5:5", "connections[0].flavour", "is not a known key; the keys allowed here are activity, credentials, endpoint, id, identity_center, name, organization, region, retention, schedule, sync"},
				{"6:5", "connections[0].organisation", `did you mean "organization"?`},
			},
		},
		{
			name: "wrong kinds of value",
			yaml: "version: 1\nconnections:\n  - id: a\n    organization:\n      enabled: maybe\n      concurrency: 2.5\n      include:\n        accounts: 123456789012\n        tags: [a, b]\n    sync: [x]\n",
			want: []expect{
				{"5:16", "connections[0].organization.enabled", `must be true or false, not "maybe"`},
				{"6:20", "connections[0].organization.concurrency", `must be a whole number, not "2.5"`},
				{"8:19", "connections[0].organization.include.accounts", "must be a list"},
				{"9:15", "connections[0].organization.include.tags", "must be a mapping (key: value), not a list"},
				{"10:11", "connections[0].sync", "must be a mapping of keys"},
			},
		},
		{
			name: "connections not a list",
			yaml: "version: 1\nconnections:\n  id: a\n",
			want: []expect{{"3:3", "connections", "must be a list"}},
		},
		{
			name: "missing, malformed and duplicate ids",
			yaml: "version: 1\nconnections:\n  - id: prod\n  - name: no id\n  - id: Prod\n  - id: prod\n  - id: prod\n",
			want: []expect{
				{"4:5", "connections[1].id", "is missing; give every connection a unique id"},
				{"5:5", "connections[2].id", `"Prod" is not a valid id`},
				{"6:5", "connections[3].id", `"prod" is already used by connections[0] (line 3); ids must be unique`},
				{"7:5", "connections[4].id", `"prod" is already used by connections[0] (line 3)`},
			},
		},
		{
			name: "key written twice keeps the first value and still checks it",
			yaml: "version: 1\nconnections:\n  - id: BAD\n    id: good\n",
			want: []expect{
				{"3:5", "connections[0].id", `"BAD" is not a valid id`},
				{"4:5", "connections[0].id", "is written twice in the same mapping (first on line 3); keep one"},
			},
		},
		{
			name: "version missing",
			yaml: "connections:\n  - id: a\n",
			want: []expect{{"1:1", "version", `is missing; add "version: 1"`}},
		},
		{
			name: "version unsupported",
			yaml: "version: 2\nconnections:\n  - id: a\n",
			want: []expect{{"1:1", "version", "2 is not a schema version this warden reads; write version: 1"}},
		},
		{
			name: "bad account ids and OU entries",
			yaml: `version: 1
connections:
  - id: a
    organization:
      enabled: true
      include:
        accounts: ["12345678901", "1234567890123", abcdefghijkl, 111122223333]
        ous: [Prod, "Root//Prod", "Root/Pro*", "ou-AB12-cd34ef56", "r-ab12", "ou-ab12-cd34ef56", "Root/*/Web/*"]
      exclude:
        accounts: [111122223333]
`,
			want: []expect{
				{"7:20", "connections[0].organization.include.accounts[0]", `"12345678901" is not an AWS account id`},
				{"7:35", "connections[0].organization.include.accounts[1]", `"1234567890123" is not an AWS account id`},
				{"7:52", "connections[0].organization.include.accounts[2]", `"abcdefghijkl" is not an AWS account id`},
				{"8:15", "connections[0].organization.include.ous[0]", `"Prod" is not an OU path or id; paths start at the root`},
				{"8:21", "connections[0].organization.include.ous[1]", "has an empty OU name"},
				{"8:35", "connections[0].organization.include.ous[2]", "uses * inside a name"},
				{"8:48", "connections[0].organization.include.ous[3]", "is not an OU id"},
				{"10:20", "connections[0].organization.exclude.accounts[0]", `"111122223333" is also included (connections[0].organization.include.accounts[3] (line 7)); exclude wins`},
			},
		},
		{
			name: "filters without organization mode",
			yaml: "version: 1\nconnections:\n  - id: a\n    organization:\n      exclude: {tags: {env: dev}}\n",
			want: []expect{{"5:7", "connections[0].organization.exclude", "applies only to organization mode; set organization.enabled: true, or remove exclude"}},
		},
		{
			name: "role ARN formats",
			yaml: `version: 1
connections:
  - id: a
    credentials: {role_arn: "arn:aws:iam::12345678901:role/x"}
  - id: b
    credentials: {role_arn: "arn:aws:iam::123456789012:user/x"}
  - id: c
    credentials: {role_arn: "arn:aws:sts::123456789012:role/x"}
  - id: d
    credentials: {role_arn: "arn:aws:iam::123456789012:role/this-role-name-is-far-too-long-for-iam-which-allows-sixty-four-chars"}
  - id: e
    credentials: {role_arn: "arn:aws-cn:iam::123456789012:role/path/to/ok"}
  - id: f
    credentials: {source: role}
`,
			want: []expect{
				{"4:19", "connections[0].credentials.role_arn", "is not an IAM role ARN"},
				{"6:19", "connections[1].credentials.role_arn", "is not an IAM role ARN"},
				{"8:19", "connections[2].credentials.role_arn", "is not an IAM role ARN"},
				{"10:19", "connections[3].credentials.role_arn", "which is not a valid role name (1 to 64"},
				{"14:5", "connections[5].credentials.role_arn", "is missing; source: role needs the ARN of the role to assume"},
			},
		},
		{
			name: "external ids",
			yaml: `version: 1
connections:
  - id: a
    credentials: {role_arn: "arn:aws:iam::123456789012:role/r", external_id: "x"}
  - id: b
    credentials: {role_arn: "arn:aws:iam::123456789012:role/r", external_id: "has space"}
  - id: c
    credentials: {role_arn: "arn:aws:iam::123456789012:role/r", external_id: "good-id", external_id_env: GOOD_ENV}
  - id: d
    credentials: {role_arn: "arn:aws:iam::123456789012:role/r", external_id_env: "ExT3rnal Id Value"}
  - id: e
    organization: {enabled: true, external_id: "` + strings.Repeat("a", 1225) + `"}
`,
			want: []expect{
				{"4:65", "connections[0].credentials.external_id", "it has 1 characters and AWS accepts 2 to 1224"},
				{"6:65", "connections[1].credentials.external_id", `it contains ' '; AWS accepts letters, digits`},
				{"8:89", "connections[2].credentials.external_id_env", "cannot be used together with external_id (line 8); keep one"},
				{"10:65", "connections[3].credentials.external_id_env", "must name an environment variable"},
				{"12:35", "connections[4].organization.external_id", "it has 1225 characters"},
			},
		},
		{
			name: "credential source conflicts",
			yaml: `version: 1
connections:
  - id: a
    credentials: {profile: p, role_arn: "arn:aws:iam::123456789012:role/r"}
  - id: b
    credentials: {source: profile, role_arn: "arn:aws:iam::123456789012:role/r", source_profile: q}
  - id: c
    credentials: {source: environment, profile: p, external_id: abc}
  - id: d
    credentials: {source: sso}
  - id: e
    credentials: {source: profile}
  - id: f
    credentials: {session_name: "no spaces allowed"}
`,
			want: []expect{
				{"4:19", "connections[0].credentials.profile", "cannot be used with a role (source: role); to assume the role with that profile's credentials, rename profile to source_profile"},
				{"6:5", "connections[1].credentials.profile", "is missing"},
				{"6:36", "connections[1].credentials.role_arn", "cannot be used with source: profile"},
				{"6:82", "connections[1].credentials.source_profile", "is set but source is profile"},
				{"8:40", "connections[2].credentials.profile", "is set but source is environment; set source: profile, or remove profile"},
				{"8:52", "connections[2].credentials.external_id", "is set but source is environment; it applies only to source: role"},
				{"10:19", "connections[3].credentials.source", `"sso" is not a credential source; use environment, profile or role`},
				{"12:5", "connections[4].credentials.profile", "is missing; name the profile"},
				{"14:19", "connections[5].credentials.session_name", "is not a valid role session name"},
			},
		},
		{
			name: "regions and endpoints",
			yaml: `version: 1
defaults:
  region: europe
connections:
  - id: a
    region: us-east
    endpoint: "localhost:4566"
    identity_center: {region: EU-WEST-1}
  - id: b
    endpoint: "ftp://example.com"
  - id: c
    endpoint: "https://user:pw@example.com"
`,
			want: []expect{
				{"3:3", "defaults.region", `"europe" is not an AWS region name`},
				{"6:5", "connections[0].region", `"us-east" is not an AWS region name`},
				{"7:5", "connections[0].endpoint", `"localhost:4566" is not a URL`},
				{"8:23", "connections[0].identity_center.region", `"EU-WEST-1" is not an AWS region name`},
				{"10:5", "connections[1].endpoint", `"ftp://example.com" is not a URL`},
				{"12:5", "connections[2].endpoint", "must not carry a user name or password"},
			},
		},
		{
			name: "secrets are refused wherever they appear",
			yaml: `version: 1
password: hunter2-value
connections:
  - id: a
    credentials:
      aws_secret_access_key: secret-value-1
      AWS_ACCESS_KEY_ID: AKIAEXAMPLEVALUE
      session-token: secret-value-2
    identity_center:
      scim:
        endpoint: https://scim.us-east-1.amazonaws.com/t/scim/v2/
        token: secret-value-3
        token_env: TOKEN
`,
			want: []expect{
				{"2:1", "password", "is refused: secrets are never written in warden.yaml"},
				{"6:7", "connections[0].credentials.aws_secret_access_key", "is refused: AWS keys are never written in warden.yaml; use credentials source: environment"},
				{"7:7", "connections[0].credentials.AWS_ACCESS_KEY_ID", "is refused: AWS keys"},
				{"8:7", "connections[0].credentials.session-token", "is refused: AWS keys"},
				{"12:9", "connections[0].identity_center.scim.token", "is refused: tokens are never written in warden.yaml; put the token in an environment variable and set token_env to its name, or in a file only you can read and set token_file to its path"},
			},
		},
		{
			name: "scim settings",
			yaml: `version: 1
connections:
  - id: a
    identity_center:
      scim: {endpoint: "https://scim.us-east-1.amazonaws.com/t/scim/v2/"}
  - id: b
    identity_center:
      scim: {endpoint: "http://scim.example.com/", token_env: T, token_file: /f}
  - id: c
    identity_center:
      scim: {token_env: "not-a-name"}
  - id: d
    identity_center:
      scim: {endpoint: "http://localhost:9000/scim/v2/", token_env: T}
`,
			want: []expect{
				{"5:14", "connections[0].identity_center.scim.endpoint", "needs a token: set token_env"},
				{"8:14", "connections[1].identity_center.scim.endpoint", "uses http; the token would travel in clear text"},
				{"8:66", "connections[1].identity_center.scim.token_file", "cannot be used together with token_env (line 8); keep one"},
				{"11:7", "connections[2].identity_center.scim.endpoint", "is missing; copy the SCIM endpoint"},
				{"11:14", "connections[2].identity_center.scim.token_env", "must name an environment variable"},
			},
		},
		{
			name: "identity center ids",
			yaml: `version: 1
connections:
  - id: a
    identity_center: {instance_arn: "arn:aws:sso:::instance/ssoins-short"}
  - id: b
    identity_center: {identity_store_id: d-1234567890}
`,
			want: []expect{
				{"4:5", "connections[0].identity_center.identity_store_id", "is missing; give instance_arn and identity_store_id together"},
				{"4:23", "connections[0].identity_center.instance_arn", "is not an Identity Center instance ARN"},
				{"6:5", "connections[1].identity_center.instance_arn", "is missing"},
			},
		},
		{
			name: "numeric ranges",
			yaml: `version: 1
defaults:
  organization: {concurrency: 0}
  sync: {iam_rate: 5000}
connections:
  - id: a
    organization: {concurrency: 1000, member_role_name: "bad name"}
    sync: {iam_rate: -1}
`,
			want: []expect{
				{"3:18", "defaults.organization.concurrency", "must be between 1 and 256 accounts at a time, not 0"},
				{"4:10", "defaults.sync.iam_rate", "must be between 1 and 1000 calls per second, not 5000"},
				{"7:20", "connections[0].organization.concurrency", "not 1000"},
				{"7:39", "connections[0].organization.member_role_name", `"bad name" is not a valid role name`},
				{"8:12", "connections[0].sync.iam_rate", "not -1"},
			},
		},
		{
			// An invalid default is reported once, at the defaults, not in
			// every connection that inherits it.
			name: "inherited values are reported where they are written",
			yaml: "version: 1\ndefaults:\n  session_name: x\n  organization: {external_id_env: 1BAD}\nconnections:\n  - id: a\n  - id: b\n",
			want: []expect{
				{"3:3", "defaults.session_name", `"x" is not a valid role session name`},
				{"4:18", "defaults.organization.external_id_env", "must name an environment variable"},
			},
		},
		{
			name: "empty file",
			yaml: "# nothing yet\n",
			want: []expect{{"", "", "the file is empty; start from `warden config example`"}},
		},
		{
			name: "YAML syntax error",
			yaml: "version: 1\nconnections:\n  - id: a\n\tname: b\n",
			want: []expect{{"3", "", "the file is not valid YAML in the part starting on this line: found a tab character"}},
		},
		{
			name: "two documents",
			yaml: "version: 1\nconnections:\n  - id: a\n---\nversion: 1\n",
			want: []expect{{"5:1", "", "a second YAML document starts here"}},
		},
		{
			name: "merge cycle",
			yaml: "version: 1\nconnections:\n  - id: a\n    sync: &s\n      <<: *s\n",
			want: []expect{{"", "connections[0].sync", "nested too deeply"}},
		},
		{
			name: "aliases expanding exponentially",
			yaml: "version: 1\nconnections:\n  - id: a\n    sync:\n      <<: " + laughs(12) + "\n",
			want: []expect{{"", "connections[0].sync", "expands to too many values"}},
		},
		{
			name: "merge of a non-mapping",
			yaml: "version: 1\nconnections:\n  - id: a\n    sync:\n      <<: [1, 2]\n",
			want: []expect{
				{"5:12", "connections[0].sync", "merges (<<) a single value"},
				{"5:15", "connections[0].sync", "merges (<<) a single value"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.yaml), "w.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, %v; want a *ValidationError", f, err)
			}
			if f != nil {
				t.Error("Parse returned a File along with problems")
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(tt.want), err)
			}
			for i, w := range tt.want {
				p := ve.Problems[i]
				if p.File != "w.yaml" {
					t.Errorf("problem %d: file %q, want w.yaml", i, p.File)
				}
				if at := position2(p); w.at != "" && at != w.at {
					t.Errorf("problem %d at %s, want %s: %s", i, at, w.at, p)
				}
				if p.Path != w.path {
					t.Errorf("problem %d path %q, want %q: %s", i, p.Path, w.path, p)
				}
				if !strings.Contains(p.Message, w.msg) {
					t.Errorf("problem %d message %q does not contain %q", i, p.Message, w.msg)
				}
			}
			for _, secret := range []string{"hunter2", "secret-value", "AKIAEXAMPLE", "ExT3rnal"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error repeats a secret value %q:\n%v", secret, err)
				}
			}
		})
	}
}

// position2 formats a problem's position as "line:col", or "line" when the
// column is unknown.
func position2(p Problem) string {
	if p.Column == 0 {
		return fmt.Sprint(p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// laughs returns a list of mappings to merge whose aliases expand to
// 10^levels mappings (the "billion laughs" shape), anchors included.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < levels; i++ {
		if i == 0 {
			b.WriteString("&l0 {access_keys: true}")
			continue
		}
		fmt.Fprintf(&b, ", &l%d {<<: [", i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}")
	}
	b.WriteString("]")
	return b.String()
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "w.yaml", Line: 3, Column: 5, Path: "connections[0].id", Message: "is missing"}, "w.yaml:3:5: connections[0].id is missing"},
		{Problem{File: "w.yaml", Line: 3, Message: "the file is not valid YAML"}, "w.yaml:3: the file is not valid YAML"},
		{Problem{File: "w.yaml", Message: "the file is empty"}, "w.yaml: the file is empty"},
		{Problem{Path: "connections", Message: "has no connections"}, "connections has no connections"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
