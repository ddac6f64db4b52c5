package scimsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/scim"
)

// writeCSV writes a source of people to a CSV file.
func writeCSV(t *testing.T, people []Person) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("external_id,user_name,given_name,family_name,display_name,email,title,department,active,groups\n")
	for _, p := range people {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%v,%s\n", p.ExternalID, p.UserName, p.GivenName, p.FamilyName, p.Display,
			p.Email, p.Title, p.Department, p.Active, strings.Join(p.Groups, ";"))
	}
	path := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// generate makes n people in groups groups (each in one to three).
func generate(n, groups int) []Person {
	var out []Person
	for i := 0; i < n; i++ {
		p := Person{ExternalID: fmt.Sprintf("emp-%05d", i), UserName: fmt.Sprintf("person%d@example.com", i), GivenName: "Given" + fmt.Sprint(i),
			FamilyName: "Family", Display: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("person%d@example.com", i), Title: "Engineer",
			Department: []string{"R&D", "Sales", "Ops"}[i%3], Active: true}
		for k := 0; k <= i%3; k++ {
			p.Groups = append(p.Groups, fmt.Sprintf("team-%03d", (i*7+k*13)%groups))
		}
		out = append(out, p)
	}
	return out
}

func newTarget(t *testing.T) (*awsfake.Server, *scim.Client) {
	t.Helper()
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	truth := awsfake.OrgEstate{Accounts: 1, Seed: 1, PerAccount: awsfake.Estate{Users: 1}, IdentityCenter: &awsfake.IdentityCenterEstate{}}.Build()
	truth.Install(srv)
	c, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetRate(1e6)
	return srv, c
}

func load(t *testing.T, people []Person) []Person {
	t.Helper()
	src, err := LoadSource(writeCSV(t, people))
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := Map(src, DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	return mapped
}

func writes(srv *awsfake.Server) int64 {
	var n int64
	for k, v := range srv.Calls() {
		if strings.HasPrefix(k, "scim:") && !strings.HasPrefix(k, "scim:List") && !strings.HasPrefix(k, "scim:Get") {
			n += v
		}
	}
	return n
}

// checkTarget compares Identity Center with the people in scope, through
// the Identity Store's own state.
func checkTarget(t *testing.T, srv *awsfake.Server, people []Person) {
	t.Helper()
	ic := srv.IdentityCenter()
	byExt := map[string]*awsfake.SSOUser{}
	for _, u := range ic.Users {
		byExt[u.ExternalID] = u
	}
	members := map[string][]string{}
	for _, g := range ic.Groups {
		for _, m := range g.Members {
			members[ic.Users[m].ExternalID] = append(members[ic.Users[m].ExternalID], g.DisplayName)
		}
	}
	for _, p := range people {
		u := byExt[p.ExternalID]
		if u == nil {
			t.Fatalf("%s was not pushed", p.UserName)
		}
		if u.UserName != p.UserName || u.GivenName != p.GivenName || u.FamilyName != p.FamilyName || u.DisplayName != p.Display ||
			u.Email != p.Email || u.Title != p.Title || u.Department != p.Department || (u.Status == "ENABLED") != p.Active {
			t.Fatalf("%s is %+v, want %+v", p.UserName, u, p)
		}
		got := members[p.ExternalID]
		slices.Sort(got)
		want := slices.Clone(p.Groups)
		slices.Sort(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s is in %v, want %v", p.UserName, got, want)
		}
	}
}

func TestPushReconcilesAndConverges(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	people := generate(2000, 100)
	rep, err := Push(ctx, c, load(t, people), Options{})
	if err != nil || len(rep.Failed) != 0 || rep.Created != 2000 || rep.GroupsCreated != 100 {
		t.Fatalf("initial push: %+v, %v", rep, err)
	}
	checkTarget(t, srv, people)
	if int64(rep.Writes) != writes(srv) {
		t.Errorf("report counts %d writes, the target saw %d", rep.Writes, writes(srv))
	}

	// 50 changes: 20 join, 20 change (title, a group), 10 leave.
	changed := slices.Clone(people[10:])
	for i := 0; i < 20; i++ {
		changed[i].Title = "Staff Engineer"
		changed[i].Groups = []string{"team-099"}
	}
	joiners := generate(2020, 100)[2000:]
	changed = append(changed, joiners...)
	before := writes(srv)
	rep, err = Push(ctx, c, load(t, changed), Options{})
	if err != nil || len(rep.Failed) != 0 || rep.Created != 20 || rep.Updated != 20 || rep.Deactivated != 10 || rep.Unchanged != 1970 {
		t.Fatalf("incremental push: %+v, %v", rep, err)
	}
	checkTarget(t, srv, changed)
	if got := writes(srv) - before; got != int64(rep.Writes) {
		t.Errorf("incremental push made %d writes, report says %d", got, rep.Writes)
	}
	if rep.Writes > 20+20+10+100 {
		t.Errorf("incremental push made %d writes, more than the users changed plus one per group", rep.Writes)
	}
	ic := srv.IdentityCenter()
	for _, u := range ic.Users {
		if u.ExternalID < "emp-00010" && u.Status != "DISABLED" {
			t.Errorf("leaver %s is %s", u.UserName, u.Status)
		}
	}

	// A third run with no change writes nothing.
	before = writes(srv)
	rep, err = Push(ctx, c, load(t, changed), Options{})
	if err != nil || rep.Writes != 0 || writes(srv) != before {
		t.Fatalf("third push: %+v (%d writes), %v; want none", rep, writes(srv)-before, err)
	}
	// A leaver who returns is reactivated, not recreated.
	back := append(slices.Clone(changed), people[0])
	rep, err = Push(ctx, c, load(t, back), Options{})
	if err != nil || rep.Created != 0 || rep.Updated != 1 {
		t.Fatalf("returning leaver: %+v, %v; want one update and no create", rep, err)
	}
}

func TestPushScopeAndDeletePolicy(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	people := generate(60, 5)
	rep, err := Push(ctx, c, load(t, people), Options{Groups: []string{"team-001"}})
	if err != nil || len(rep.Failed) != 0 {
		t.Fatal(err, rep)
	}
	var inScope []Person
	for _, p := range people {
		if slices.Contains(p.Groups, "team-001") {
			p.Groups = []string{"team-001"}
			inScope = append(inScope, p)
		}
	}
	if rep.Created != len(inScope) || rep.GroupsCreated != 1 || len(srv.IdentityCenter().Users) != len(inScope) {
		t.Fatalf("scoped push: %+v, want %d users and one group", rep, len(inScope))
	}
	checkTarget(t, srv, inScope)
	rep, err = Push(ctx, c, load(t, people[:0:0]), Options{Leavers: Delete})
	if err == nil {
		t.Fatal("an empty source was accepted")
	}
	rep, err = Push(ctx, c, load(t, people[1:2]), Options{Leavers: Delete})
	var limit *LeaverLimitError
	if !errors.As(err, &limit) || limit.Leavers != len(inScope)-boolInt(slices.Contains(people[1].Groups, "team-001")) || writes(srv) != int64(len(inScope)+2) {
		t.Fatalf("deleting nearly everyone was not stopped before any write: %v", err)
	}
	all, _ := ParseLeaverLimit("100%")
	rep, err = Push(ctx, c, load(t, people[1:2]), Options{Leavers: Delete, MaxLeavers: all})
	if err != nil || rep.Deleted != len(inScope)-boolInt(slices.Contains(people[1].Groups, "team-001")) {
		t.Fatalf("delete policy: %+v, %v", rep, err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBadSourcesAreRejectedBeforeAnyWrite(t *testing.T) {
	srv, _ := newTarget(t)
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte(`external_id,user_name,given_name,family_name,email,groups
e1,ann@example.com,Ann,Lee,ann@example.com,g1
e2,ANN@example.com,Ann,Other,ann2@example.com,g1
e3,bob@example.com,,Bo,bob@example.com,g1
e1,cat@example.com,Cat,Sun,"two@example.com, three@example.com",g2
`), 0o600)
	src, err := LoadSource(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Map(src, DefaultMapping())
	if err == nil {
		t.Fatal("a bad source was accepted")
	}
	for _, want := range []string{"row 3: user name", "row 4: given and family names", "row 5: e-mail", "row 5: external id \"e1\" repeats row 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
	m := DefaultMapping()
	m["nickname"] = "nick"
	if _, err := Map(src, m); err == nil || !strings.Contains(err.Error(), "nickname") {
		t.Errorf("an unknown attribute was accepted: %v", err)
	}
	if srv.TotalCalls() != 0 {
		t.Errorf("%d calls were made", srv.TotalCalls())
	}
}

// TestPushFromAnotherSCIMServer copies one Identity Center's people and
// groups into another through their SCIM APIs.
func TestPushFromAnotherSCIMServer(t *testing.T) {
	srcSrv, srcClient := newTarget(t)
	ctx := context.Background()
	people := generate(120, 6)
	if _, err := Push(ctx, srcClient, load(t, people), Options{}); err != nil {
		t.Fatal(err)
	}
	_ = srcSrv
	src, err := LoadSCIMSource(ctx, srcClient)
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := Map(src, DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	dstSrv, dst := newTarget(t)
	rep, err := Push(ctx, dst, mapped, Options{})
	if err != nil || rep.Created != 120 || len(rep.Failed) != 0 {
		t.Fatalf("push from SCIM: %+v, %v", rep, err)
	}
	checkTarget(t, dstSrv, people)
}
