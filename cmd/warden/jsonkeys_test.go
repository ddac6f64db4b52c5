package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// TestJSONKeysAsDocumented runs every command README's "JSON output" table
// lists with -o json, against a synced emulator (a lone account, then an
// organization with Identity Center), and checks that every key the table
// documents is present at every nesting level it lists. The table itself is
// parsed, so the README and the output cannot drift apart; a documented
// list that no run made non-empty fails too, since its elements' keys would
// then go unchecked.
func TestJSONKeysAsDocumented(t *testing.T) {
	docs := readmeJSONDocs(t)
	c := &jsonChecker{docs: docs, lists: map[*jsonSpec]string{}, nonEmpty: map[*jsonSpec]bool{}, nullable: map[*jsonSpec]string{}, nonNull: map[*jsonSpec]bool{}}
	outputs := map[string][]string{} // README row → the JSON printed
	add := func(row, what, out string) {
		if _, ok := docs[row]; !ok {
			t.Fatalf("no README JSON row %q", row)
		}
		outputs[row] = append(outputs[row], what+"\n"+out)
	}
	// runJSON returns a runner of one command line with -o json against db:
	// it fails the test unless the exit code is one of okCodes, and keeps
	// the output as an answer of README row row ("" keeps nothing).
	runJSON := func(t *testing.T, db string) func(row string, okCodes []int, args ...string) string {
		return func(row string, okCodes []int, args ...string) string {
			t.Helper()
			args = append(args, "-o", "json")
			out, errOut, code := runIn(t, db, args...)
			if !intIn(code, okCodes) {
				t.Fatalf("warden %s exited %d:\n%s", strings.Join(args, " "), code, errOut)
			}
			if row != "" {
				add(row, "warden "+strings.Join(args, " "), out)
			}
			return out
		}
	}
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")

	t.Run("single account", func(t *testing.T) {
		useFakeAWS(t, "--users", "12", "--seed", "7")
		dir := t.TempDir()
		db := filepath.Join(dir, "w.db")
		j := runJSON(t, db)
		ok := []int{0}
		j("sync", ok, "sync")
		j("sync status", ok, "sync", "status")
		j("snapshots", ok, "snapshots")
		j("db copy", ok, "db", "copy", "--to", filepath.Join(dir, "copy.db"))
		j("findings", ok, "findings")
		j("show activity", ok, "show", "activity")
		j("findings", ok, "findings", "--escalation")
		for _, kind := range []string{"users", "groups", "roles", "policies", "keys"} {
			out := j("show "+kind, ok, "show", kind)
			if kind == "keys" {
				continue
			}
			// Every user, group and role's access: some hold keys, some
			// are named by a trust policy, some have members.
			var rows []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("show %s: %v", kind, err)
			}
			for _, r := range rows {
				if kind != "policies" {
					j("access", ok, "access", r.ID)
				}
			}
		}
		j("plan", ok, "plan", "create-user", "--user", "json-keys-new", "--console-password")
		j("apply", ok, "apply", "create-user", "--user", "json-keys-new", "--console-password", "--yes")
		j("plan", ok, "plan", "create-user", "--user", "json-keys-new") // a no-op plan
		// An 11th managed policy is over IAM's quota: apply fails at that
		// call, after the user and its password were made.
		var arns []string
		for _, p := range awsfake.AWSManagedPolicies()[:11] {
			arns = append(arns, p.ARN)
		}
		j("apply", []int{exitError}, "apply", "create-user", "--user", "json-keys-failed", "--console-password", "--policies", strings.Join(arns, ","), "--yes")
		j("audit", ok, "audit")
		// Sync again; the diff from the first snapshot says what the applies
		// above changed.
		j("", ok, "sync")
		j("diff", ok, "diff", "1")
		// Two snapshots now: a dry run lists the older, then it goes.
		j("snapshots prune", ok, "snapshots", "prune", "--keep", "1", "--dry-run")
		j("snapshots prune", ok, "snapshots", "prune", "--keep", "1")
		j("token create", ok, "token", "create", "json-keys", "--scope", "read", "--expires", "90d")
		j("token create", ok, "token", "create", "json-keys-admin", "--scope", "admin")
		j("token revoke", ok, "token", "revoke", "json-keys-admin")
		j("token list", ok, "token", "list")
		j("setup external-id", ok, "setup", "external-id")
		j("version", ok, "version")

		cfg := filepath.Join(dir, "warden.yaml")
		os.WriteFile(cfg, []byte("version: 1\nconnections:\n  - id: lone\n  - id: org\n    organization:\n      enabled: true\n"), 0o600)
		j("config validate", ok, "--config", cfg, "config", "validate")
		j("demo", ok, "demo", "--users", "20", "--db", filepath.Join(dir, "demo.db"))
	})

	t.Run("organization with Identity Center", func(t *testing.T) {
		env := useFakeAWS(t, "--accounts", "2", "--users", "4", "--identity-center-users", "8")
		t.Setenv("WARDEN_SCIM_TOKEN", env["WARDEN_SCIM_TOKEN"])
		dir := t.TempDir()
		db := filepath.Join(dir, "w.db")
		j := runJSON(t, db)
		ok := []int{0}
		// A wrong ExternalId: every member fails, so the errors are listed.
		j("sync", []int{exitPartial}, "sync", "--organization", "--identity-center", "--member-external-id", "wrong-external-id-000000000000000")
		j("sync status", []int{exitPartial}, "sync", "status")
		j("sync", ok, "sync", "--organization", "--identity-center", "--member-external-id", fakeAWSExternalID)
		j("sync status", ok, "sync", "status")
		j("sync status", ok, "--connection", "never-synced", "sync", "status")
		j("snapshots", ok, "snapshots")
		j("findings", ok, "findings")
		j("findings", ok, "findings", "--escalation")
		for _, kind := range []string{"users", "groups", "roles", "policies", "keys",
			"accounts", "ous", "scps", "sso-users", "sso-groups", "permission-sets", "assignments"} {
			j("show "+kind, ok, "show", kind)
		}
		var export struct {
			Graph struct {
				Resources []struct {
					ID   string `json:"id"`
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"resources"`
			} `json:"graph"`
		}
		exported := func() {
			t.Helper()
			if err := json.Unmarshal([]byte(j("", ok, "export", "--format", "json")), &export); err != nil {
				t.Fatal(err)
			}
		}
		exported()
		// An IAM user of the same name as an Identity Center user is the
		// same person: its access is listed under linked_iam_users.
		for _, r := range export.Graph.Resources {
			if r.Type == "sso_user" {
				j("apply", ok, "apply", "create-user", "--user", r.Name, "--yes")
				break
			}
		}
		exported()
		for _, r := range export.Graph.Resources {
			switch r.Type {
			case "sso_user":
				j("access (Identity Center user)", ok, "access", r.ID)
			case "iam_user":
				j("access", ok, "access", r.ID)
			case "permission_set", "iam_policy":
				j("access (managed policy or permission set)", ok, "access", r.ID)
			}
		}
		// can and who-can (issue 14), checked once README's table documents
		// them: an IAM user of the management account (SCPs do not apply:
		// a note), every Identity Center user (a case per assignment, with
		// its role), and who can create users or assume a member's role.
		if _, documented := docs["can"]; documented {
			for _, r := range export.Graph.Resources {
				switch {
				case r.Type == "sso_user":
					j("can", ok, "can", r.ID, "s3:GetObject", "--context", "aws:SourceIp=10.0.0.1")
				case r.Type == "iam_user" && strings.Contains(r.ID, "::111111111111:"):
					j("can", ok, "can", r.ID, "iam:CreateUser")
				}
			}
			j("can", ok, "can", "arn:aws:iam::200000000000:role/OrganizationAccountAccessRole", "ec2:TerminateInstances")
			j("who-can", ok, "who-can", "iam:CreateUser", "*")
			j("who-can", ok, "who-can", "sts:AssumeRole", "arn:aws:iam::200000000000:role/OrganizationAccountAccessRole", "--account", "111111111111")
		}
		source := filepath.Join(dir, "people.csv")
		os.WriteFile(source, []byte("external_id,user_name,given_name,family_name,email,groups\n"+
			"e1,ann@example.com,Ann,Lee,ann@example.com,eng\n"), 0o600)
		j("scim test", ok, "scim", "test", "--endpoint", env["WARDEN_SCIM_ENDPOINT"])
		j("scim push", ok, "scim", "push", "--endpoint", env["WARDEN_SCIM_ENDPOINT"], "--source", source)
		j("audit", ok, "audit")
		// The members fail again after a complete sync: the snapshot
		// carries their last known state.
		j("sync", []int{exitPartial}, "sync", "--organization", "--identity-center", "--member-external-id", "wrong-external-id-000000000000000")
		j("sync status", []int{exitPartial}, "sync", "status")
		j("snapshots", ok, "snapshots")
	})

	// access on an asset, once README's table documents it: a bucket, a
	// key, a function (it runs as a role) and an instance of a generated
	// estate with assets.
	t.Run("assets", func(t *testing.T) {
		if _, documented := docs["access (asset)"]; !documented {
			return
		}
		db, truth := assetEstateDB(t)
		j := runJSON(t, db)
		ok := []int{0}
		a := truth.Assets
		j("access (asset)", ok, "access", "arn:aws:s3:::"+a.Buckets[0].Name)
		for _, k := range a.Keys {
			if k.Manager == "CUSTOMER" {
				j("access (asset)", ok, "access", k.ARN)
				break
			}
		}
		j("access (asset)", ok, "access", a.Functions[0].ARN)
		j("access (asset)", ok, "access", a.Secrets[0].ARN)
		in := a.Instances[0]
		j("access (asset)", ok, "access", "arn:aws:ec2:"+in.Region+":"+in.Account+":instance/"+in.ID)
	})

	for _, row := range sortedKeys(docs) {
		t.Run(row, func(t *testing.T) {
			if len(outputs[row]) == 0 {
				t.Fatalf("README documents the JSON of %q, but this test ran no such command", row)
			}
			var problems []string
			for _, o := range outputs[row] {
				what, out, _ := strings.Cut(o, "\n")
				dec := json.NewDecoder(strings.NewReader(out))
				n := 0
				for dec.More() {
					var v any
					if err := dec.Decode(&v); err != nil {
						t.Fatalf("%s printed no JSON (%v):\n%.300s", what, err, out)
					}
					n++
					for _, p := range c.check(v, docs[row], row) {
						problems = append(problems, what+": "+p)
					}
				}
				if n == 0 {
					problems = append(problems, what+" printed nothing")
				}
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
	t.Run("every documented list was seen non-empty", func(t *testing.T) {
		var problems []string
		for s, p := range c.lists {
			if !c.nonEmpty[s] && notExercised[p] == "" {
				problems = append(problems, p+" was [] in every run: the keys of its elements went unchecked")
			}
		}
		for s, p := range c.nullable {
			if !c.nonNull[s] && notExercised[p] == "" {
				problems = append(problems, p+" was null in every run: its keys went unchecked")
			}
		}
		sort.Strings(problems)
		for _, p := range problems {
			t.Error(p)
		}
	})
}

// notExercised are documented lists no run above can fill, with why.
var notExercised = map[string]string{
	// No run here syncs assets (fake-aws has none); TestFindingsAssets
	// (findings_assets_test.go) checks these lists filled, exactly.
	"findings.exposures[]":                             "filled in TestFindingsAssets: no run here syncs assets",
	"findings.public_admin_instances[]":                "filled in TestFindingsAssets: no run here syncs assets",
	"findings.public_admin_instances[].through[]":      "filled in TestFindingsAssets: no run here syncs assets",
	"demo.diff.assets[]":                               "the demo reads no assets; TestDiffJSONKeysAsDocumented checks the keys of the assets rows of a diff over two asset syncs",
	"demo.findings.exposures[]":                        "the demo reads no assets; TestFindingsAssets fills the list",
	"demo.findings.public_admin_instances[]":           "the demo reads no assets; TestFindingsAssets fills the list",
	"demo.findings.public_admin_instances[].through[]": "the demo reads no assets; TestFindingsAssets fills the list",
	"findings.exposures[].accounts[]":                  "filled in TestFindingsAssets: no run here syncs assets",
	"findings.exposures[].actions[]":                   "filled in TestFindingsAssets: no run here syncs assets",
	"findings.exposures[].ports[]":                     "filled in TestFindingsAssets: no run here syncs assets",
	"demo.findings.exposures[].accounts[]":             "the demo reads no assets; TestFindingsAssets fills the list",
	"demo.findings.exposures[].actions[]":              "the demo reads no assets; TestFindingsAssets fills the list",
	"demo.findings.exposures[].ports[]":                "the demo reads no assets; TestFindingsAssets fills the list",
	"demo.findings.unused_services[]":                  "filled only for a connection that reads IAM last accessed data (activity.last_accessed), which no run above configures; TestFakeAWSGeneratesActivity checks every key of its elements",
	"demo.findings.sso_admins[]":                       "the demo has no Identity Center; the organization run's findings list Identity Center administrators",
	"demo.findings.escalation_paths[]":                 "the demo estate has no way up to an effective administrator; the single-account run's findings --escalation finds some, and TestFindingsEffectiveAdminsAndEscalationPaths every kind",
	"demo.summary.snapshot.carried[]":                  "the demo reads its whole estate; a carried part is exercised by the organization run's sync",
	"scim push.failed[]":                               "needs a SCIM server refusing a write; the failure report is tested in internal/scimsync",
	"scim push.unmatched_members[]":                    "needs a group member that no user listing returns; tested in internal/scimsync",
	// The applies of the single-account run change users and policies only;
	// TestDiffJSONKeysAsDocumented (diff_test.go) checks every diff list on
	// a hand-built estate with a change of every kind.
	"diff.access[].via":      "filled in TestDiffJSONKeysAsDocumented",
	"diff.access_keys[]":     "filled in TestDiffJSONKeysAsDocumented",
	"diff.console_and_mfa[]": "filled in TestDiffJSONKeysAsDocumented",
	"diff.findings[]":        "filled in TestDiffJSONKeysAsDocumented",
	"diff.identity_center[]": "filled in TestDiffJSONKeysAsDocumented",
	"diff.trust[]":           "filled in TestDiffJSONKeysAsDocumented",
	// The fake-aws estate's conditions are on keys of the request
	// (aws:RequestTag/team) with resources no question here names;
	// internal/effective's planted organization fills them
	// (TestCanAllowedIfMFA, TestWhoCanAllowedIfMFA).
	"can.cases[].allowed_if[]":                     "filled in internal/effective TestCanAllowedIfMFA",
	"can.cases[].allowed_if[].requires[]":          "filled in internal/effective TestCanAllowedIfMFA",
	"who-can.principals[].allowed_if[]":            "filled in internal/effective TestWhoCanAllowedIfMFA",
	"who-can.principals[].allowed_if[].requires[]": "filled in internal/effective TestWhoCanAllowedIfMFA",
	"who-can.principals[].chain[].explanation[]":   "filled in internal/effective TestWhoCanChainAndTrust (a two-step AssumeRole chain); the runs here chain only through Identity Center assignments, which no statement decides",
	"who-can.principals[].chain[].allowed_if[]":    "filled in internal/effective TestWhoCanAllowedIfMFA",
}

func intIn(v int, list []int) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

// jsonSpec is what README's table says of one JSON value.
type jsonSpec struct {
	kind     string      // "any" (a scalar or not described), "object", "map", "array"
	fields   []jsonField // of an object, in README's order
	elem     *jsonSpec   // of an array
	ref      string      // "as access", "snapshot as in sync": described by another row
	nullable bool        // README says "or null"
}

type jsonField struct {
	name string
	spec *jsonSpec
}

// readmeJSONDocs parses the table under "## JSON output" in README.md into
// a spec per command.
func readmeJSONDocs(t *testing.T) map[string]*jsonSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## JSON output\n")
	if !ok {
		t.Fatal(`README.md has no "## JSON output" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	docs := map[string]*jsonSpec{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 2 || !strings.HasPrefix(line, "| `") {
			continue
		}
		name := strings.ReplaceAll(strings.TrimPrefix(cells[0], "| "), "`", "")
		doc := strings.TrimSuffix(strings.Join(cells[1:], " | "), " |")
		spec, err := parseJSONDoc(strings.ReplaceAll(doc, "`", ""))
		if err != nil {
			t.Fatalf("README JSON row %q: %v", name, err)
		}
		docs[name] = spec
	}
	if len(docs) < 10 {
		t.Fatalf("parsed only %d rows of README's JSON table", len(docs))
	}
	return docs
}

var jsonDocToken = regexp.MustCompile(`\s*(\.\.\.|…|"[^"]*"|<[^>]*>|\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*|[{}\[\],:])`)

// parseJSONDoc parses one cell: "array of {…}", "{…}", "<as X>" or
// "array of Xs as in Y", with text after the value ignored.
func parseJSONDoc(doc string) (*jsonSpec, error) {
	doc = strings.TrimSpace(doc)
	array := strings.HasPrefix(doc, "array of ")
	doc = strings.TrimPrefix(doc, "array of ")
	var spec *jsonSpec
	if !strings.HasPrefix(doc, "{") && !strings.HasPrefix(doc, "<") {
		if !strings.Contains(doc, " as ") { // "snapshots as in sync"
			return nil, fmt.Errorf("cannot read %q", doc)
		}
		spec = &jsonSpec{kind: "any", ref: doc}
	} else {
		p := &docParser{}
		for rest := doc; rest != ""; {
			m := jsonDocToken.FindStringSubmatchIndex(rest)
			if m == nil || m[0] != 0 {
				break // prose after the value
			}
			p.toks = append(p.toks, rest[m[2]:m[3]])
			rest = rest[m[1]:]
		}
		var err error
		if spec, err = p.value(); err != nil {
			return nil, err
		}
	}
	if array {
		return &jsonSpec{kind: "array", elem: spec}, nil
	}
	return spec, nil
}

type docParser struct {
	toks []string
	i    int
}

func (p *docParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *docParser) next() string { s := p.peek(); p.i++; return s }

func (p *docParser) expect(s string) error {
	if got := p.next(); got != s {
		return fmt.Errorf("want %q at token %d, got %q (%v)", s, p.i, got, p.toks)
	}
	return nil
}

func isEllipsis(s string) bool { return s == "…" || s == "..." }

// value reads "{fields}" or "<reference>".
func (p *docParser) value() (*jsonSpec, error) {
	if strings.HasPrefix(p.peek(), "<") {
		return refSpec(p.next()), nil
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	s := &jsonSpec{kind: "object"}
	for {
		tok := p.next()
		switch {
		case tok == "}":
			return s, nil
		case tok == ",":
		case isEllipsis(tok):
		case strings.HasPrefix(tok, `"`): // {"iam:Action": n}: a map
			s.kind = "map"
			for p.peek() != "}" && p.peek() != "" {
				p.next()
			}
		case tok == "":
			return nil, fmt.Errorf("unclosed { in %v", p.toks)
		default:
			f, err := p.field(tok)
			if err != nil {
				return nil, err
			}
			s.fields = append(s.fields, f)
		}
	}
}

// field reads what follows a key: {…}, […], [], [{…}], : <ref>, or
// nothing (a scalar), then "or null" or a "(…)" remark.
func (p *docParser) field(name string) (jsonField, error) {
	f := jsonField{name: name, spec: &jsonSpec{kind: "any"}}
	switch p.peek() {
	case "{":
		s, err := p.value()
		if err != nil {
			return f, err
		}
		f.spec = s
	case "[":
		p.next()
		f.spec = &jsonSpec{kind: "array", elem: &jsonSpec{kind: "any"}}
		switch tok := p.peek(); {
		case tok == "]":
		case isEllipsis(tok):
			p.next()
		default:
			s, err := p.value()
			if err != nil {
				return f, err
			}
			f.spec.elem = s
		}
		if err := p.expect("]"); err != nil {
			return f, err
		}
	case ":":
		p.next()
		if !strings.HasPrefix(p.peek(), "<") {
			return f, fmt.Errorf("%s: want <reference> after the colon, got %q", name, p.peek())
		}
		f.spec = refSpec(p.next())
	}
	if p.peek() == "or" {
		p.next()
		if err := p.expect("null"); err != nil {
			return f, err
		}
		f.spec.nullable = true
	}
	if tok := p.peek(); strings.HasPrefix(tok, "(") {
		p.next()
		if strings.Contains(tok, "null") {
			f.spec.nullable = true
		}
	}
	return f, nil
}

func refSpec(tok string) *jsonSpec {
	text := strings.Trim(tok, "<>")
	return &jsonSpec{kind: "any", ref: text, nullable: strings.Contains(text, "or null")}
}

// refPattern reads a reference: "as access", "snapshot as in sync, or null
// when never synced", "snapshots as in sync".
var refPattern = regexp.MustCompile(`^(?:(\w+) )?as (?:in )?([a-z -]*[a-z])`)

// jsonChecker walks JSON values against specs, remembering which lists were
// seen non-empty and which nullable objects non-null. A spec reached from
// several rows (the snapshot of sync, sync status, snapshots and demo) is
// one spec: filled once, checked everywhere.
type jsonChecker struct {
	docs     map[string]*jsonSpec
	lists    map[*jsonSpec]string // list spec → the first path it was seen at
	nonEmpty map[*jsonSpec]bool
	nullable map[*jsonSpec]string // nullable object spec with keys → path
	nonNull  map[*jsonSpec]bool
}

func (c *jsonChecker) seen(m map[*jsonSpec]string, s *jsonSpec, path string) {
	if _, ok := m[s]; !ok {
		m[s] = path
	}
}

// resolve returns the spec a reference names.
func (c *jsonChecker) resolve(ref string) (*jsonSpec, error) {
	m := refPattern.FindStringSubmatch(ref)
	if m == nil {
		return nil, fmt.Errorf("cannot read reference %q", ref)
	}
	row, ok := c.docs[m[2]]
	if !ok {
		return nil, fmt.Errorf("reference %q names no row %q", ref, m[2])
	}
	if m[1] == "" {
		return row, nil
	}
	for _, f := range row.fields {
		if f.name == m[1] || f.name+"s" == m[1] {
			return f.spec, nil
		}
	}
	return nil, fmt.Errorf("reference %q: row %q has no key %s", ref, m[2], m[1])
}

// check returns the ways v departs from s, at path.
func (c *jsonChecker) check(v any, s *jsonSpec, path string) []string {
	nullable := s.nullable
	if s.ref != "" {
		r, err := c.resolve(s.ref)
		if err != nil {
			return []string{err.Error()}
		}
		s = r
		nullable = nullable || r.nullable
	}
	if v == nil {
		if s.kind != "any" && !nullable {
			return []string{fmt.Sprintf("%s is null, want %s", path, map[string]string{"array": "a list ([] when empty)", "object": "an object", "map": "an object ({} when empty)"}[s.kind])}
		}
		if nullable && len(s.fields) > 0 {
			c.seen(c.nullable, s, path)
		}
		return nil
	}
	var problems []string
	switch s.kind {
	case "object", "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %T, want an object", path, v)}
		}
		if nullable && len(s.fields) > 0 {
			c.seen(c.nullable, s, path)
			c.nonNull[s] = true
		}
		for _, f := range s.fields {
			fv, ok := obj[f.name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s has no key %q", path, f.name))
				continue
			}
			problems = append(problems, c.check(fv, f.spec, path+"."+f.name)...)
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %T, want a list", path, v)}
		}
		p := path + "[]"
		if s.elem.kind != "any" || s.elem.ref != "" {
			c.seen(c.lists, s, p)
		}
		if len(list) > 0 {
			c.nonEmpty[s] = true
		}
		for _, e := range list {
			problems = append(problems, c.check(e, s.elem, p)...)
			if len(problems) > 20 {
				break // the first elements say enough
			}
		}
	}
	return problems
}

func TestParseJSONDoc(t *testing.T) {
	s, err := parseJSONDoc(`array of {a, b[], c[{d, e{…} or null}], f{"x": n}, g: <as h, or null when never>, i (null without j)}, and prose`)
	if err != nil {
		t.Fatal(err)
	}
	got := describeSpec(s)
	want := `[{a,b:[],c:[{d,e:{}?}],f:map,g:<as h, or null when never>?,i?}]`
	if got != want {
		t.Errorf("parsed %s, want %s", got, want)
	}
}

func describeSpec(s *jsonSpec) string {
	var out string
	switch {
	case s.ref != "":
		out = "<" + s.ref + ">"
	case s.kind == "array":
		out = "[" + strings.TrimPrefix(describeSpec(s.elem), "any") + "]"
	case s.kind == "map":
		out = "map"
	case s.kind == "object":
		parts := make([]string, len(s.fields))
		for i, f := range s.fields {
			d := describeSpec(f.spec)
			if strings.HasPrefix(d, "any") {
				parts[i] = f.name + strings.TrimPrefix(d, "any")
			} else {
				parts[i] = f.name + ":" + d
			}
		}
		out = "{" + strings.Join(parts, ",") + "}"
	default:
		out = "any"
	}
	if s.nullable {
		out += "?"
	}
	return out
}
