package syncer

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// testExternalID is the ExternalId of the organization tests.
const testExternalID = "warden-org-test-7f3a9c2e51b84d06a1e2"

// orgEnv is an emulator holding a generated organization, a session with
// the management account's credentials, and a store.
type orgEnv struct {
	srv   *awsfake.Server
	truth *awsfake.OrgTruth
	creds awsfake.Credentials
	st    *store.DB
}

func newOrgEnv(tb testing.TB, estate awsfake.OrgEstate, fake awsfake.Options) *orgEnv {
	tb.Helper()
	isolateAWS(tb)
	e := &orgEnv{srv: awsfake.NewServer(fake), truth: estate.Build()}
	tb.Cleanup(e.srv.Close)
	e.creds = e.truth.Install(e.srv)
	e.st = newOrgEnvStore(tb)
	return e
}

// newOrgEnvStore opens a store in a temporary directory.
func newOrgEnvStore(tb testing.TB) *store.DB {
	tb.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "warden.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// orgSyncOptions are the options of an organization sync in the tests.
func orgSyncOptions() Options {
	o := syncOptions()
	o.Organization = &OrganizationOptions{ExternalID: testExternalID, Concurrency: 6, AccountTags: true}
	return o
}

// expectedOrgGraph is the graph an organization sync must store: the
// organization's tree and SCPs, and the IAM of every account in read, with
// each account's resource joining both views and trust policies naming a
// synced account or principal pointing at it.
func expectedOrgGraph(t testing.TB, truth *awsfake.OrgTruth, read map[string]bool, extra ...model.Graph) *model.Graph {
	t.Helper()
	o := truth.Organization
	var graphs []model.Graph
	orgG := &model.Graph{}
	ex := &expect{t: t, g: orgG, ents: map[string]bool{}}
	entitlement := ex.entitlement
	grant := func(principal, ent string) { ex.grant(principal, ent, model.ViaDirect, "") }
	mgmt := o.ManagementAccountID
	orgG.Resources = append(orgG.Resources, model.Resource{ID: o.ARN, Type: model.TypeOrganization, AccountID: mgmt, Name: o.ID, ARN: o.ARN,
		Organization: &model.OrganizationAttrs{ManagementAccountID: mgmt, ManagementAccountEmail: o.ManagementAccountEmail, FeatureSet: o.FeatureSet}})
	orgG.Resources = append(orgG.Resources, model.Resource{ID: o.Root.ARN, Type: model.TypeOrgRoot, AccountID: mgmt, Name: o.Root.Name,
		ARN: o.Root.ARN, ParentID: o.ARN, OrgUnit: &model.OrgUnitAttrs{Path: o.Root.Name, PolicyTypes: o.Root.PolicyTypes}})
	entitlement(o.Root.ARN, model.EntContains)
	// Paths and ARNs of every node, from the root down.
	arnOf := map[string]string{o.Root.ID: o.Root.ARN}
	var pathOf func(id string) []string
	pathOf = func(id string) []string {
		if id == o.Root.ID {
			return []string{o.Root.Name}
		}
		u := o.OUs[id]
		return append(pathOf(u.ParentID), u.Name)
	}
	for id, u := range o.OUs {
		arnOf[id] = u.ARN
	}
	for _, u := range o.OUs {
		orgG.Resources = append(orgG.Resources, model.Resource{ID: u.ARN, Type: model.TypeOrgUnit, AccountID: mgmt, Name: u.Name, ARN: u.ARN,
			ParentID: arnOf[u.ParentID], OrgUnit: &model.OrgUnitAttrs{Path: strings.Join(pathOf(u.ID), "/")}})
		entitlement(u.ARN, model.EntContains)
		grant(u.ARN, model.EntitlementID(arnOf[u.ParentID], model.EntContains))
	}
	orgAccount := map[string]model.Resource{}
	for _, a := range o.Accounts {
		joined := a.JoinedAt
		r := model.Resource{ID: model.AccountResourceID(a.ID), Type: model.TypeAccount, AccountID: a.ID, Name: a.Name, ARN: a.ARN,
			ParentID: arnOf[a.ParentID], Tags: tags(a.Tags), Account: &model.AccountAttrs{Org: &model.OrgAccountAttrs{
				OrganizationID: o.ID, Email: a.Email, Status: a.Status, JoinedMethod: a.JoinedMethod, JoinedAt: &joined,
				Management: a.ID == mgmt, OUPath: strings.Join(pathOf(a.ParentID), "/")}}}
		orgAccount[r.ID] = r
		grant(r.ID, model.EntitlementID(arnOf[a.ParentID], model.EntContains))
	}
	for _, p := range o.Policies {
		doc, err := policy.Normalize(p.Content)
		if err != nil {
			t.Fatalf("ground truth: SCP %s: %v", p.Name, err)
		}
		orgG.Resources = append(orgG.Resources, model.Resource{ID: p.ARN, Type: model.TypeSCP, AccountID: mgmt, Name: p.Name, ARN: p.ARN,
			SCP: &model.SCPAttrs{PolicyID: p.ID, AWSManaged: p.AWSManaged, Description: p.Description, Document: doc}})
		ent := entitlement(p.ARN, model.EntAttached)
		for _, tgt := range p.Targets {
			id := arnOf[tgt]
			if id == "" {
				id = model.AccountResourceID(tgt)
			}
			grant(id, ent)
		}
	}
	graphs = append(graphs, *orgG)

	// The IAM of every account read; account resources join the
	// organization's view.
	awsManaged := awsfake.AWSManagedPolicies()
	for _, a := range truth.Accounts() {
		if !read[a.ID] {
			continue
		}
		g := expectedGraph(t, a, awsManaged)
		for i, r := range g.Resources {
			if r.Type == model.TypeAccount {
				view := orgAccount[r.ID]
				r.Name, r.ARN, r.ParentID, r.Tags = view.Name, view.ARN, view.ParentID, view.Tags
				attrs := *r.Account
				attrs.Org = view.Account.Org
				r.Account = &attrs
				g.Resources[i] = r
				delete(orgAccount, r.ID)
			}
		}
		graphs = append(graphs, *g)
	}
	for _, r := range orgAccount { // accounts not read: the organization's view alone
		graphs[0].Resources = append(graphs[0].Resources, r)
	}
	graphs = append(graphs, extra...)

	// Join: resources once (AWS managed policies with their counts summed),
	// then trust naming a synced principal points at it.
	out := &model.Graph{}
	index := map[string]int{}
	seenEnt := map[string]bool{}
	seenGrant := map[model.Grant]bool{}
	for _, g := range graphs {
		for _, r := range g.Resources {
			if i, ok := index[r.ID]; ok {
				if r.Policy != nil && r.Policy.AWSManaged {
					p := *out.Resources[i].Policy
					p.AttachmentCount += r.Policy.AttachmentCount
					p.BoundaryCount += r.Policy.BoundaryCount
					out.Resources[i].Policy = &p
				}
				continue
			}
			index[r.ID] = len(out.Resources)
			out.Resources = append(out.Resources, r)
		}
		for _, e := range g.Entitlements {
			if !seenEnt[e.ID] {
				seenEnt[e.ID] = true
				out.Entitlements = append(out.Entitlements, e)
			}
		}
		for _, gr := range g.Grants {
			if !seenGrant[gr] {
				seenGrant[gr] = true
				out.Grants = append(out.Grants, gr)
			}
		}
	}
	resolved := map[string]string{}
	for _, r := range out.Resources {
		if r.Type != model.TypeExternalPrincipal {
			continue
		}
		v := strings.TrimPrefix(r.ID, "principal:AWS:")
		if v == r.ID {
			continue
		}
		for _, a := range o.Accounts {
			if v == a.ID || v == "arn:aws:iam::"+a.ID+":root" {
				resolved[r.ID] = model.AccountResourceID(a.ID)
			}
		}
		if _, ok := index[v]; ok {
			resolved[r.ID] = v
		}
	}
	final := &model.Graph{Entitlements: out.Entitlements}
	for _, r := range out.Resources {
		if resolved[r.ID] == "" {
			final.Resources = append(final.Resources, r)
		}
	}
	seenGrant = map[model.Grant]bool{}
	for _, gr := range out.Grants {
		if to := resolved[gr.PrincipalID]; to != "" {
			gr.PrincipalID = to
		}
		if !seenGrant[gr] {
			seenGrant[gr] = true
			final.Grants = append(final.Grants, gr)
		}
	}
	final.Sort()
	return final
}

// TestOrganizationSyncMatchesGroundTruth syncs a generated organization
// with a member whose role is missing, one whose trust wants another
// ExternalId, a suspended one, and one that throttles every other call: every
// account that can be read equals the ground truth, each failure is
// recorded with its reason and fix, and the snapshot is partial.
func TestOrganizationSyncMatchesGroundTruth(t *testing.T) {
	estate := awsfake.OrgEstate{Accounts: 24, SCPs: 5, Seed: 11, ExternalID: testExternalID,
		PerAccount:  awsfake.Estate{Users: 6, Groups: 3, Roles: 8, Policies: 3},
		MissingRole: []int{3}, WrongExternalID: []int{7}, Suspended: []int{12}}
	throttled := "200000000005"
	e := newOrgEnv(t, estate, awsfake.Options{OrgEmptyPages: true, Seed: 3,
		AccountFaults: map[string]awsfake.Faults{throttled: {ThrottleEvery: 2}}})
	sess := newSession(t, e.srv.URL(), e.creds)
	snap, err := Sync(context.Background(), sess, e.st, orgSyncOptions())
	if err != nil {
		t.Fatalf("sync: %v", err)
	}

	broken := map[string]bool{"200000000003": true, "200000000007": true}
	read := map[string]bool{}
	for _, a := range e.truth.Accounts() {
		if id := a.ID; !broken[id] && id != "200000000012" {
			read[id] = true
		}
	}
	if snap.Status != model.StatusPartial || snap.Accounts.Planned != 24 || snap.Accounts.Read != len(read) {
		t.Errorf("snapshot status %s, accounts %+v; want partial, 24 planned (25 less the suspended one), %d read", snap.Status, snap.Accounts, len(read))
	}
	var failed []string
	for _, se := range snap.Errors {
		failed = append(failed, se.AccountID)
		if se.Source != SourceAssumeRole || !strings.Contains(se.Message, "cannot assume arn:aws:iam::"+se.AccountID+":role/OrganizationAccountAccessRole") ||
			!strings.Contains(se.Fix, "external_id") {
			t.Errorf("failure of account %s = %+v; want an assume_role failure naming the role, with a fix", se.AccountID, se)
		}
	}
	sort.Strings(failed)
	if strings.Join(failed, ",") != "200000000003,200000000007" {
		t.Errorf("failed accounts = %v, want the one without the role and the one with another ExternalId", failed)
	}
	if got := e.srv.FaultsFor(throttled); got < 2 {
		t.Errorf("the throttled account was throttled %d times; the fault did not bite", got)
	}
	checkGraph(t, e.st, snap.ID, expectedOrgGraph(t, e.truth, read))

	// Calls: the organization read top-down, one AssumeRole per member, no
	// per-account ListParents.
	calls := e.srv.Calls()
	if calls["organizations:ListParents"] != 0 || calls["organizations:ListAccounts"] != 0 {
		t.Errorf("calls = %v: the tree is read top-down, never per account", calls)
	}
	if got := e.srv.CallsFor("111111111111")["sts:AssumeRole"]; got != 23 {
		t.Errorf("AssumeRole calls = %d, want one per active member (23)", got)
	}
}

func TestOrganizationSyncFilters(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 10, Seed: 2, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2}}, awsfake.Options{})
	sess := newSession(t, e.srv.URL(), e.creds)
	o := orgSyncOptions()
	o.Organization.Select = func(a collect.OrgAccount) bool { return a.Tags["env"] == "prod" }
	snap, err := Sync(context.Background(), sess, e.st, o)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	read := map[string]bool{}
	for i := range 10 {
		if i%3 == 0 {
			read[e.truth.Members[i].ID] = true
		}
	}
	if snap.Status != model.StatusComplete || snap.Accounts.Read != len(read) {
		t.Fatalf("snapshot %s with %+v accounts, want complete with %d (the env=prod members)", snap.Status, snap.Accounts, len(read))
	}
	checkGraph(t, e.st, snap.ID, expectedOrgGraph(t, e.truth, read))

	o.Organization.Select = func(collect.OrgAccount) bool { return false }
	if _, err := Sync(context.Background(), sess, e.st, o); err == nil || !strings.Contains(err.Error(), "filters") {
		t.Errorf("sync selecting nothing: %v, want an error naming the filters", err)
	}
}

func TestOrganizationModeFromMemberOrLoneAccount(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 2, Seed: 1, PerAccount: awsfake.Estate{Users: 1}}, awsfake.Options{})
	member := e.srv.AddAccount(e.truth.Members[0])
	loner := e.srv.AddAccount(awsfake.Estate{AccountID: "999999999999", Users: 1}.Build())
	for name, c := range map[string]awsfake.Credentials{"member": member, "lone": loner} {
		before, _ := e.st.Snapshots(context.Background(), "")
		_, err := Sync(context.Background(), newSession(t, e.srv.URL(), c), e.st, orgSyncOptions())
		if err == nil || !strings.Contains(err.Error(), "organization mode") {
			t.Errorf("%s account: %v, want an organization mode error", name, err)
		}
		after, _ := e.st.Snapshots(context.Background(), "")
		if len(after) != len(before) {
			t.Errorf("%s account: a snapshot was stored", name)
		}
	}
}

func TestOrganizationSyncAllAccountsFail(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 3, Seed: 1, ExternalID: "another-external-id-entirely-000", PerAccount: awsfake.Estate{Users: 1}}, awsfake.Options{})
	o := orgSyncOptions()
	// Only the members are selected, and none trusts warden's ExternalId.
	o.Organization.Select = func(a collect.OrgAccount) bool { return a.ID != "111111111111" }
	_, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, o)
	if err == nil || !strings.Contains(err.Error(), "none of the 3 accounts") {
		t.Errorf("sync = %v, want none of the 3 accounts read", err)
	}
	if snaps, _ := e.st.Snapshots(context.Background(), ""); len(snaps) != 0 {
		t.Errorf("%d snapshots stored, want none", len(snaps))
	}
}

func TestSingleAccountThroughRole(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 2, Seed: 4, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 5, Roles: 2}}, awsfake.Options{})
	sess := newRoleSession(t, e.srv.URL(), e.creds, "arn:aws:iam::200000000001:role/OrganizationAccountAccessRole", testExternalID)
	snap, err := Sync(context.Background(), sess, e.st, syncOptions())
	if err != nil {
		t.Fatalf("sync through the role: %v", err)
	}
	checkGraph(t, e.st, snap.ID, expectedGraph(t, e.truth.Members[1], awsfake.AWSManagedPolicies()))
	if n := e.srv.CallsFor("200000000001")["iam:GetAccountAuthorizationDetails"]; n == 0 {
		t.Error("the member's IAM was not read with the role's credentials")
	}

	bad := newRoleSession(t, e.srv.URL(), e.creds, "arn:aws:iam::200000000001:role/OrganizationAccountAccessRole", "wrong-external-id-000")
	if _, err := Sync(context.Background(), bad, e.st, syncOptions()); err == nil || !slices.ContainsFunc([]string{"AccessDenied"}, func(s string) bool { return strings.Contains(err.Error(), s) }) {
		t.Errorf("sync through a role with the wrong ExternalId: %v, want AccessDenied", err)
	}
}
