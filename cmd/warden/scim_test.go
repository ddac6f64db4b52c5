package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSCIMTestAndPush(t *testing.T) {
	env := useFakeAWS(t, "--accounts", "1", "--users", "1", "--identity-center-users", "3")
	endpoint := env["WARDEN_SCIM_ENDPOINT"]
	if endpoint == "" || env["WARDEN_SCIM_TOKEN"] == "" {
		t.Fatalf("fake-aws printed no SCIM endpoint or token: %v", env)
	}
	t.Setenv("WARDEN_SCIM_TOKEN", env["WARDEN_SCIM_TOKEN"])
	db := filepath.Join(t.TempDir(), "w.db")

	out, errOut, code := runIn(t, db, "scim", "test", "--endpoint", endpoint)
	if code != 0 || !strings.Contains(out, "token and tenant are right") {
		t.Fatalf("scim test exited %d: %s %s", code, out, errOut)
	}
	t.Setenv("WRONG_TOKEN", "not-the-token-123")
	_, stderr, code := runIn(t, db, "scim", "test", "--endpoint", endpoint, "--token-env", "WRONG_TOKEN")
	if code != exitAuth || !strings.Contains(stderr, "401") || strings.Contains(stderr, "not-the-token-123") {
		t.Errorf("scim test with a wrong token exited %d:\n%s", code, stderr)
	}

	source := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(source, []byte("external_id,user_name,given_name,family_name,email,groups\n"+
		"e1,ann@example.com,Ann,Lee,ann@example.com,eng;ops\ne2,bob@example.com,Bob,Ray,bob@example.com,eng\n"), 0o600)
	out, errOut, code = runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source, "-o", "json")
	var rep struct {
		Created       int `json:"created"`
		Deactivated   int `json:"deactivated"`
		GroupsCreated int `json:"groups_created"`
		Writes        int `json:"writes"`
	}
	// The emulator's own users came from another provisioner: not leavers.
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Created != 2 || rep.GroupsCreated != 2 || rep.Deactivated != 0 {
		t.Fatalf("scim push exited %d (%s):\n%s", code, errOut, out)
	}
	out, _, code = runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source, "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Writes != 0 {
		t.Errorf("second push exited %d:\n%s", code, out)
	}
	// Bob leaves the source: he was pushed from here, so he is deactivated.
	os.WriteFile(source, []byte("external_id,user_name,given_name,family_name,email,groups\n"+
		"e1,ann@example.com,Ann,Lee,ann@example.com,eng;ops\n"), 0o600)
	out, _, code = runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source, "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Deactivated != 1 {
		t.Errorf("push without bob exited %d:\n%s", code, out)
	}
	// Bad rows are named before anything is written.
	os.WriteFile(source, []byte("external_id,user_name,given_name,family_name\ne1,ann@example.com,,Lee\n"), 0o600)
	_, stderr, code = runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source)
	if code != exitUsage || !strings.Contains(stderr, "row 2") {
		t.Errorf("a bad source exited %d:\n%s", code, stderr)
	}
	out, _, _ = runIn(t, db, "audit", "-o", "json")
	if !strings.Contains(out, "scim:CreateUser") {
		t.Errorf("the audit log lacks the SCIM writes:\n%.500s", out)
	}
	var recs []struct {
		Action, Call, Result string
		Params, Outcome      map[string]string
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		switch {
		case r.Action != "scim-push":
		case r.Result != "ok":
			t.Errorf("SCIM write %+v is not ok", r)
		case (r.Call == "scim:CreateUser" || r.Call == "scim:CreateGroup") && r.Outcome["id"] == "":
			t.Errorf("SCIM create %+v does not record the id it made", r)
		case r.Call == "scim:PatchUser" && r.Params["id"] == "":
			t.Errorf("SCIM patch %+v does not record the user it changed", r)
		}
	}
}

// TestSCIMRefusesPlainHTTPOffThisMachine: the bearer token is never sent
// over plain http to another host, from any SCIM command or flag, as
// warden.yaml's validation refuses it.
func TestSCIMRefusesPlainHTTPOffThisMachine(t *testing.T) {
	t.Setenv("WARDEN_SCIM_TOKEN", "secret-token-value-1")
	t.Setenv("WARDEN_SOURCE_SCIM_TOKEN", "secret-token-value-2")
	db := filepath.Join(t.TempDir(), "w.db")
	source := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(source, []byte("external_id,user_name,given_name,family_name\ne1,ann@example.com,Ann,Lee\n"), 0o600)
	for _, args := range [][]string{
		{"scim", "test", "--endpoint", "http://192.0.2.2:8080/t/scim/v2"},
		{"scim", "push", "--dry-run", "--source", source, "--endpoint", "http://192.0.2.2:8080/t/scim/v2"},
		{"scim", "push", "--dry-run", "--source-endpoint", "http://192.0.2.2:8080/t/scim/v2", "--endpoint", "https://scim.eu-west-1.amazonaws.com/t/scim/v2"},
	} {
		_, stderr, code := runIn(t, db, args...)
		if code != exitUsage || !strings.Contains(stderr, "uses http; the token would travel in clear text") || !strings.Contains(stderr, "fix: ") ||
			strings.Contains(stderr, "secret-token-value") {
			t.Errorf("warden %s exited %d:\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestSCIMPushGuardsFlagsProgressAndJSON: the leaver limit stops a
// one-row source with the fix; --rate and --max-leavers are checked;
// --progress reports on stderr; `scim test -o json` is a JSON document.
func TestSCIMPushGuardsFlagsProgressAndJSON(t *testing.T) {
	env := useFakeAWS(t, "--accounts", "1", "--users", "1", "--identity-center-users", "2")
	endpoint := env["WARDEN_SCIM_ENDPOINT"]
	t.Setenv("WARDEN_SCIM_TOKEN", env["WARDEN_SCIM_TOKEN"])
	db := filepath.Join(t.TempDir(), "w.db")
	source := filepath.Join(t.TempDir(), "people.csv")
	var b strings.Builder
	b.WriteString("external_id,user_name,given_name,family_name,groups\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "e%d,p%d@example.com,P%d,Q,eng\n", i, i, i)
	}
	os.WriteFile(source, []byte(b.String()), 0o600)
	_, errOut, code := runIn(t, db, "--progress", "scim", "push", "--endpoint", endpoint, "--source", source)
	if code != 0 || !strings.Contains(errOut, "scim push: writing") {
		t.Fatalf("push with --progress exited %d, stderr:\n%s", code, errOut)
	}
	os.WriteFile(source, []byte("external_id,user_name,given_name,family_name,groups\ne0,p0@example.com,P0,Q,eng\n"), 0o600)
	for _, dry := range []string{"--dry-run=false", "--dry-run"} {
		_, errOut, code = runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source, dry)
		if code != exitUsage || !strings.Contains(errOut, "would deactivate 7 of the 8 people") || !strings.Contains(errOut, "fix: ") ||
			!strings.Contains(errOut, "--max-leavers 7") {
			t.Errorf("a one-row source (%s) exited %d:\n%s", dry, code, errOut)
		}
	}
	out, _, code := runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", source, "--max-leavers", "7", "-o", "json")
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep["deactivated"] != float64(7) {
		t.Errorf("--max-leavers 7 exited %d:\n%s", code, out)
	}
	for _, key := range []string{"dry_run", "created", "updated", "deactivated", "deleted", "unchanged", "groups_created", "members_added",
		"members_removed", "writes", "failed", "unmatched_members", "stopped"} {
		if _, ok := rep[key]; !ok {
			t.Errorf("scim push -o json lacks %q", key)
		}
	}
	for _, bad := range [][]string{{"--rate", "0"}, {"--rate", "-1"}, {"--rate", "NaN"}, {"--rate", "Inf"}, {"--rate", "1e9"},
		{"--max-leavers", "lots"}, {"--max-leavers", "150%"}, {"--leavers", "fire"}, {"--group", "no-such-group"}} {
		_, errOut, code := runIn(t, db, append([]string{"scim", "push", "--endpoint", endpoint, "--source", source, "--dry-run"}, bad...)...)
		if code != exitUsage || !strings.Contains(errOut, bad[0]) || !strings.Contains(errOut, "fix: ") {
			t.Errorf("%v exited %d:\n%s", bad, code, errOut)
		}
	}

	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, []byte("external_id,user_name,given_name,family_name\n"), 0o600)
	if _, errOut, code := runIn(t, db, "scim", "push", "--endpoint", endpoint, "--source", empty); code != exitUsage ||
		!strings.Contains(errOut, "no people") || strings.Contains(errOut, "network") {
		t.Errorf("an empty source exited %d:\n%s", code, errOut)
	}

	out, _, code = runIn(t, db, "scim", "test", "--endpoint", endpoint, "-o", "json")
	var res map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res["ok"] != true {
		t.Fatalf("scim test -o json exited %d:\n%s", code, out)
	}
	for _, key := range []string{"endpoint", "ok", "status", "elapsed_ms", "clock_skew_seconds", "problem", "fix"} {
		if _, ok := res[key]; !ok {
			t.Errorf("scim test -o json lacks %q:\n%s", key, out)
		}
	}
	t.Setenv("WRONG_TOKEN", "not-the-token-456")
	out, _, code = runIn(t, db, "scim", "test", "--endpoint", endpoint, "--token-env", "WRONG_TOKEN", "-o", "json")
	res = nil
	if code != exitAuth || json.Unmarshal([]byte(out), &res) != nil || res["ok"] != false || res["status"] != float64(401) || res["fix"] == nil {
		t.Errorf("scim test -o json with a wrong token exited %d:\n%s", code, out)
	}
}
