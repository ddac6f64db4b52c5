package setup

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// parsedPolicy is a policy document read back from JSON.
type parsedPolicy struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource string
	}
}

func parsePolicy(t *testing.T, b []byte) parsedPolicy {
	t.Helper()
	var p parsedPolicy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("policy is not the expected JSON: %v\n%s", err, b)
	}
	return p
}

var sidPattern = regexp.MustCompile(`^Warden([A-Za-z0-9]+)(Read|Provision)$`)

func TestPolicyCoversExactlyTheTable(t *testing.T) {
	for _, m := range []Mode{ModeRead, ModeProvision} {
		t.Run(string(m), func(t *testing.T) {
			b, err := Policy(m)
			if err != nil {
				t.Fatal(err)
			}
			p := parsePolicy(t, b)
			if p.Version != "2012-10-17" {
				t.Errorf("Version = %q", p.Version)
			}
			var all []string
			sids := map[string]bool{}
			for _, st := range p.Statement {
				if st.Effect != "Allow" || st.Resource != "*" {
					t.Errorf("statement %s: Effect %q Resource %q, want Allow on *", st.Sid, st.Effect, st.Resource)
				}
				sm := sidPattern.FindStringSubmatch(st.Sid)
				if sm == nil || sids[st.Sid] {
					t.Errorf("Sid %q is not unique Warden<Service>Read|Provision", st.Sid)
				}
				sids[st.Sid] = true
				if m == ModeRead && sm != nil && sm[2] != "Read" {
					t.Errorf("read policy has statement %s", st.Sid)
				}
				if !sort.StringsAreSorted(st.Action) {
					t.Errorf("statement %s: actions not sorted", st.Sid)
				}
				prefix, _, _ := strings.Cut(st.Action[0], ":")
				if sm != nil && sm[1] != serviceNames[prefix] {
					t.Errorf("statement %s holds %s actions", st.Sid, prefix)
				}
				for _, a := range st.Action {
					if !strings.HasPrefix(a, prefix+":") {
						t.Errorf("statement %s mixes services: %s", st.Sid, a)
					}
				}
				all = append(all, st.Action...)
			}
			sort.Strings(all)
			want := ActionsFor(m)
			if strings.Join(all, " ") != strings.Join(want, " ") {
				t.Errorf("policy actions differ from the table:\n got %v\nwant %v", all, want)
			}
			// Small enough to be created as a customer managed policy
			// (6,144 characters, white space not counted).
			if n := len(strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, string(b))); n > 6144 {
				t.Errorf("policy has %d characters without white space; IAM allows 6,144 in a managed policy", n)
			}
			again, _ := Policy(m)
			if !bytes.Equal(b, again) {
				t.Error("Policy is not deterministic")
			}
		})
	}
}

func TestPolicySids(t *testing.T) {
	// Every feature, built or not, to see every statement's name.
	b, err := Policy(ModeProvision, Features()...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range parsePolicy(t, b).Statement {
		got = append(got, st.Sid)
	}
	want := []string{"WardenCloudTrailRead", "WardenConfigRead", "WardenEC2Read", "WardenIAMProvision", "WardenIdentityStoreProvision", "WardenKMSRead", "WardenLambdaRead",
		"WardenOrganizationsProvision", "WardenS3Read", "WardenSecretsManagerRead", "WardenSSOProvision", "WardenSTSRead"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Sids = %v, want %v", got, want)
	}
}

func TestPolicyForFeatures(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		fs      []Feature
		want    []string
		wantErr string
	}{
		{"one feature", ModeRead, []Feature{FeatureIAMRead}, []string{"iam:GetAccountAuthorizationDetails", "iam:ListMFADevices", "iam:ListVirtualMFADevices"}, ""},
		{"features merge per service", ModeRead, []Feature{FeatureCredentialReport, FeatureAccessKeys, FeatureIdentity},
			[]string{"iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:ListAccessKeys", "sts:GetCallerIdentity"}, ""},
		{"provision feature in read mode", ModeRead, []Feature{FeatureIAMProvision}, nil, `feature "iam-provision" needs mode provision, not read`},
		{"unknown feature", ModeRead, []Feature{"iam-everything"}, nil, `unknown feature "iam-everything"`},
		{"unknown mode", "admin", nil, nil, `unknown mode "admin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Policy(tt.mode, tt.fs...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, st := range parsePolicy(t, b).Statement {
				got = append(got, st.Action...)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("actions = %v, want %v", got, tt.want)
			}
		})
	}
}
