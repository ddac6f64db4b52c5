package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The tests in this file keep README.md's claims true to the code: each
// reads the claim from the README itself.

// readme returns README.md, or the part of it from the line starting with
// from up to the next heading of the same level.
func readme(t *testing.T, from string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if from == "" {
		return s
	}
	i := strings.Index(s, "\n"+from)
	if i < 0 {
		t.Fatalf("README.md has no line starting %q", from)
	}
	s = s[i+1:]
	level := from[:strings.Index(from, " ")+1] // "### "
	if j := strings.Index(s[len(from):], "\n"+level); j >= 0 {
		s = s[:len(from)+j]
	}
	return s
}

// TestReadmeIAMPolicyIsSetupOutput: the policy README shows under "IAM
// permissions" is the one `warden setup policy --for read` prints.
func TestReadmeIAMPolicyIsSetupOutput(t *testing.T) {
	section := readme(t, "### IAM permissions")
	_, block, ok := strings.Cut(section, "```json\n")
	if !ok {
		t.Fatal("README's IAM permissions section has no ```json block")
	}
	block, _, _ = strings.Cut(block, "```")
	var shown, printed any
	if err := json.Unmarshal([]byte(block), &shown); err != nil {
		t.Fatalf("README's IAM policy is not JSON: %v", err)
	}
	out, stderr, code := runIn(t, "", "setup", "policy", "--for", "read")
	if code != 0 {
		t.Fatalf("setup policy exited %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shown, printed) {
		t.Errorf("README's IAM policy differs from `warden setup policy --for read`; paste its output into README.md:\n%s", out)
	}
}

// TestReadmeCommandFlagsExist: every flag a "### `warden …`" heading names
// is a flag of that command.
func TestReadmeCommandFlagsExist(t *testing.T) {
	headings := regexp.MustCompile("(?m)^### `warden ([^`]*)`").FindAllStringSubmatch(readme(t, ""), -1)
	if len(headings) < 10 {
		t.Fatalf("found only %d command headings in README.md", len(headings))
	}
	root := newRootCmd(newApp(nil, nil))
	root.InitDefaultCompletionCmd() // cobra adds `completion` when it runs
	flagPat := regexp.MustCompile(`--[a-z][a-z-]*`)
	for _, h := range headings {
		words := strings.Fields(h[1])
		var path []string
		for _, w := range words {
			if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") || strings.ToUpper(w) == w {
				break
			}
			path = append(path, strings.Split(w, "|")[0]) // show users|groups: show users
		}
		cmd, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 {
			t.Errorf("README heading `warden %s`: no command %q", h[1], strings.Join(path, " "))
			continue
		}
		for _, f := range flagPat.FindAllString(h[1], -1) {
			if cmd.Flags().Lookup(f[2:]) == nil && cmd.InheritedFlags().Lookup(f[2:]) == nil {
				t.Errorf("README heading `warden %s`: %s has no flag %s", h[1], cmd.CommandPath(), f)
			}
		}
		// And the other way: the section documents each of the command's
		// own flags.
		section := readme(t, "### `warden "+h[1]+"`")
		cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Name != "help" && !strings.Contains(section, "--"+f.Name) {
				t.Errorf("README's section `warden %s` does not document %s --%s", h[1], cmd.CommandPath(), f.Name)
			}
		})
	}
}

// TestReadmeShellCompletion: the completion command README documents
// prints a script bash accepts.
func TestReadmeShellCompletion(t *testing.T) {
	section := readme(t, "### `warden completion")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if !strings.Contains(section, shell) {
			t.Errorf("README's completion section does not name %s", shell)
		}
		out, stderr, code := runIn(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, "warden") {
			t.Errorf("warden completion %s exited %d: %s", shell, code, stderr)
		}
		if shell != "bash" {
			continue
		}
		if _, err := exec.LookPath("bash"); err != nil {
			continue
		}
		check := exec.Command("bash", "-n")
		check.Stdin = strings.NewReader(out)
		if msg, err := check.CombinedOutput(); err != nil {
			t.Errorf("bash -n refuses the completion script: %v %s", err, msg)
		}
	}
	// Completion completes warden's own words.
	out, _, _ := runIn(t, "", cobra.ShellCompRequestCmd, "show", "")
	if !strings.Contains(out, "users") || !strings.Contains(out, "keys") {
		t.Errorf("completing `warden show ` gave %q", out)
	}
}

// TestReadmeCSVValues: every principal_type, entitlement and provenance an
// export of an organization with Identity Center holds is one README's CSV
// table names, and each value README names appears.
func TestReadmeCSVValues(t *testing.T) {
	useFakeAWS(t, "--accounts", "1", "--users", "4", "--identity-center-users", "6")
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, stderr, code := runIn(t, db, "sync", "--organization", "--identity-center", "--member-external-id", fakeAWSExternalID); code != 0 {
		t.Fatalf("sync exited %d: %s", code, stderr)
	}
	out, stderr, code := runIn(t, db, "export", "--format", "csv")
	if code != 0 {
		t.Fatalf("export exited %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export csv: %v (%d rows)", err, len(rows))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	section := readme(t, "### `warden export")
	documented := func(column string) map[string]bool {
		for _, line := range strings.Split(section, "\n") {
			if strings.Contains(line, "`"+column+"`") && strings.HasPrefix(line, "  | ") {
				_, meaning, _ := strings.Cut(strings.TrimPrefix(line, "  | "), " | ")
				vals := map[string]bool{}
				for _, m := range regexp.MustCompile("`([a-z_]+(?::ID)?)`").FindAllStringSubmatch(meaning, -1) {
					vals[m[1]] = true
				}
				return vals
			}
		}
		t.Fatalf("README's CSV table has no row for %s", column)
		return nil
	}
	for _, column := range []string{"principal_type", "entitlement", "provenance"} {
		want := documented(column)
		seen := map[string]bool{}
		for _, r := range rows[1:] {
			v := r[col[column]]
			if strings.HasPrefix(v, "account:") && column == "entitlement" { // an assignment names its account
				v = "account:ID"
			}
			seen[v] = true
		}
		var undocumented, unseen []string
		for v := range seen {
			if !want[v] {
				undocumented = append(undocumented, v)
			}
		}
		for v := range want {
			if !seen[v] && v != column {
				unseen = append(unseen, v)
			}
		}
		sort.Strings(undocumented)
		sort.Strings(unseen)
		if len(undocumented) > 0 {
			t.Errorf("CSV %s values %q are not in README's table", column, undocumented)
		}
		if len(unseen) > 0 {
			t.Errorf("README's CSV table names %s values %q that no export of an organization with Identity Center holds", column, unseen)
		}
	}
}

// TestFakeAWSExportsAreRead: every variable `warden fake-aws` tells the
// shell to export is read: the AWS SDK's by the SDK, warden's by warden, so
// `scim test` with no flag reaches the emulator's SCIM endpoint.
func TestFakeAWSExportsAreRead(t *testing.T) {
	env := useFakeAWS(t, "--accounts", "1", "--users", "1", "--identity-center-users", "2")
	for k, v := range env {
		switch {
		case strings.HasPrefix(k, "AWS_"):
		case k == "WARDEN_SCIM_ENDPOINT" || k == "WARDEN_SCIM_TOKEN":
			t.Setenv(k, v)
		default:
			t.Errorf("fake-aws exports %s, which nothing reads", k)
		}
	}
	if env["WARDEN_SCIM_ENDPOINT"] == "" {
		t.Fatalf("fake-aws with Identity Center printed no WARDEN_SCIM_ENDPOINT: %v", env)
	}
	db := filepath.Join(t.TempDir(), "w.db")
	out, stderr, code := runIn(t, db, "scim", "test")
	if code != 0 || !strings.Contains(out, env["WARDEN_SCIM_ENDPOINT"]) {
		t.Errorf("scim test with fake-aws's environment exited %d:\n%s%s", code, out, stderr)
	}
	// The flag wins over the environment.
	_, stderr, code = runIn(t, db, "scim", "test", "--endpoint", "http://127.0.0.1:1/not-the-tenant/scim/v2")
	if code == 0 {
		t.Errorf("scim test --endpoint <another> used the environment's endpoint instead: %s", stderr)
	}
}
