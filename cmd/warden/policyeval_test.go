package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/policy"
)

// runStdin runs one command line with stdin holding in.
func runStdin(t *testing.T, in string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	a := newApp(&out, &errb)
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(strings.NewReader(in))
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = report(&errb, err)
	}
	return out.String(), errb.String(), code
}

const evalAllow = `{"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
 "resource": "arn:aws:s3:::bucket/key", "resource_account": "111111111111",
 "context": {"aws:SourceIp": "10.1.2.3", "aws:TagKeys": ["team", "env"]},
 "identity_policies": [{"name": "p1", "document": {"Version": "2012-10-17", "Statement": [
   {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*",
    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "cost"]}}}]}}],
 "permissions_boundary": [{"name": "b", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}],
 "scps": [{"target": "r-root", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]},
          {"target": "ou-x", "policies": [{"name": "DenyIAM", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "NoIAM", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}}]},
          {"target": "111111111111", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}],
 "rcps": [], "resource_policy": null, "session_policy": null}`

func TestPolicyEvalStdin(t *testing.T) {
	out, errOut, code := runStdin(t, evalAllow, "policy", "eval", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Decision    string `json:"decision"`
		Explanation []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Decision != "allowed" {
		t.Fatalf("decision %q, want allowed: %s", got.Decision, out)
	}
	var sawRead, sawSCP bool
	for _, s := range got.Explanation {
		for _, k := range []string{"kind", "policy", "via", "statement", "effect", "note"} {
			if _, ok := s[k]; !ok {
				t.Errorf("explanation step without key %q: %v", k, s)
			}
		}
		sawRead = sawRead || (s["statement"] == "Read" && s["kind"] == "identity")
		sawSCP = sawSCP || (s["kind"] == "scp" && s["via"] == "SCP at ou-x")
	}
	if !sawRead || !sawSCP {
		t.Errorf("explanation does not name statement Read and the SCP at ou-x: %s", out)
	}
}

func TestPolicyEvalFileBatch(t *testing.T) {
	deny := strings.Replace(evalAllow, `"action": "s3:GetObject"`, `"action": "iam:CreateUser"`, 1)
	noIP := strings.Replace(evalAllow, `"aws:SourceIp": "10.1.2.3", `, ``, 1)
	f := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(f, []byte("["+evalAllow+","+deny+","+noIP+"]"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runIn(t, "", "policy", "eval", "-f", f, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []policy.EvalResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []string{"allowed", "explicit_deny", "implicit_deny"}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(got), len(want), out)
	}
	for i := range want {
		if got[i].Decision != want[i] {
			t.Errorf("request %d: %s, want %s", i, got[i].Decision, want[i])
		}
	}
	if s := got[1].Explanation; len(s) != 1 || s[0].Statement != "NoIAM" || s[0].Via != "SCP at ou-x" {
		t.Errorf("deny explanation %+v, want statement NoIAM of the SCP at ou-x", s)
	}
	// The table form names the decision too.
	out, _, code = runIn(t, "", "policy", "eval", "-f", f)
	if code != 0 || !strings.Contains(out, "explicit_deny") || !strings.Contains(out, "NoIAM") {
		t.Errorf("table output (exit %d):\n%s", code, out)
	}
}

func TestPolicyEvalMalformed(t *testing.T) {
	for _, tt := range []struct{ in, field string }{
		{`{"principal": "arn:aws:iam::1:user/a"}`, "action"},
		{`{"action": "s3:GetObject"}`, "principal"},
		{`{"principal": "p", "action": "s3:GetObject", "identity_policies": [{"name": "x", "document": {"Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}}]}`, "identity_policies[0].document.Statement[0].Effect"},
		{`{"principal": "p", "action": "s3:GetObject", "scps": [{"policies": []}]}`, "scps[0].target"},
		{`{"principal": "p", "action": "s3:GetObject", "resource_policy": "not json"}`, "resource_policy"},
		{`{"principal": "p", "action": "s3:GetObject", "colour": "red"}`, "colour"},
		{`{"principal": "p", "action": 7}`, "action"},
		{`[{"principal": "p", "action": "s3:GetObject"}, {"principal": "p"}]`, "[1].action"},
		{`{"principal": "p"`, "(request)"},
	} {
		_, errOut, code := runStdin(t, tt.in, "policy", "eval")
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", tt.in, code, exitUsage)
		}
		if !strings.Contains(errOut, "field "+tt.field+":") || !strings.Contains(errOut, "fix: ") {
			t.Errorf("%s: stderr does not name field %s with a fix:\n%s", tt.in, tt.field, errOut)
		}
	}
}
