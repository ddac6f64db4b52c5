package webui

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/tokens"
)

// assetStack is the UI over a store synced from an organization with
// assets in two regions, and the ground truth.
type assetStack struct {
	truth *awsfake.OrgTruth
	st    *store.DB
	snap  int64
	url   string
	token string
}

// newAssetStack syncs an organization of accounts (IAM and assets) into a
// new store and serves the UI over it.
func newAssetStack(t testing.TB, accounts int) *assetStack {
	t.Helper()
	return newAssetStackOf(t, accounts, awsfake.AssetEstate{Instances: 8,
		// The last account's Block Public Access confines its buckets.
		AccountBlockPublicAccess: map[string]*awsfake.PublicAccessBlock{restrictedAccount: {RestrictPublicBuckets: true}}})
}

// newAssetStackOf is newAssetStack with the assets e describes.
func newAssetStackOf(t testing.TB, accounts int, e awsfake.AssetEstate) *assetStack {
	t.Helper()
	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	truth := awsfake.OrgEstate{Accounts: accounts, PerAccount: awsfake.Estate{Users: 2, Roles: 3}, Seed: 8, Assets: &e}.Build()
	c := truth.Install(srv)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 1e5, OrganizationsRate: 1e5,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap, err := syncer.Sync(ctx, sess, st, syncer.Options{ConnectionID: "prod", Organization: &syncer.OrganizationOptions{},
		Assets: &collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return serveStore(t, st, snap.ID, truth)
}

func serveStore(t testing.TB, st *store.DB, snap int64, truth *awsfake.OrgTruth) *assetStack {
	t.Helper()
	svc := tokens.New(st, tokens.Options{})
	tok, _, err := svc.Create(context.Background(), "reader", tokens.ScopeRead, 0)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := New(Config{Store: st, Tokens: svc})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(ui)
	t.Cleanup(h.Close)
	return &assetStack{truth: truth, st: st, snap: snap, url: h.URL, token: tok}
}

// restrictedAccount is the account of newAssetStack's organization whose
// account-level Block Public Access has RestrictPublicBuckets.
const restrictedAccount = "200000000001"

// truthAsset is one asset of the ground truth, as the pages name it.
type truthAsset struct {
	kind, id, account, region, role string
}

// truthAssets lists the estate's assets (customer managed keys only: warden
// reads no AWS managed key).
func truthAssets(a *awsfake.AssetTruth) []truthAsset {
	var out []truthAsset
	for _, x := range a.Instances {
		out = append(out, truthAsset{"instances", "arn:aws:ec2:" + x.Region + ":" + x.Account + ":instance/" + x.ID, x.Account, x.Region, ""})
	}
	for _, x := range a.SecurityGroups {
		out = append(out, truthAsset{"security-groups", "arn:aws:ec2:" + x.Region + ":" + x.Account + ":security-group/" + x.ID, x.Account, x.Region, ""})
	}
	for _, x := range a.Buckets {
		out = append(out, truthAsset{"buckets", "arn:aws:s3:::" + x.Name, x.Account, x.Region, ""})
	}
	for _, x := range a.Keys {
		if x.Manager == "CUSTOMER" {
			out = append(out, truthAsset{"keys-kms", x.ARN, x.Account, x.Region, ""})
		}
	}
	for _, x := range a.Functions {
		out = append(out, truthAsset{"functions", x.ARN, x.Account, x.Region, x.Role})
	}
	for _, x := range a.Secrets {
		out = append(out, truthAsset{"secrets", x.ARN, x.Account, x.Region, ""})
	}
	return out
}

// exposedTruth are the assets of the truth a list flags: those with a
// planted exposure, and the instances in a security group open on an
// admin port.
func exposedTruth(a *awsfake.AssetTruth) map[string]bool {
	out := map[string]bool{}
	openSG := map[string]bool{}
	for _, e := range a.Exposures {
		out[e.ARN] = true
		if e.Kind == "open-admin-port" {
			openSG[e.ARN[strings.LastIndexByte(e.ARN, '/')+1:]] = true
		}
	}
	for _, x := range a.Instances {
		for _, sg := range x.SecurityGroups {
			if openSG[sg] {
				out["arn:aws:ec2:"+x.Region+":"+x.Account+":instance/"+x.ID] = true
			}
		}
	}
	return out
}

// attrOf returns an attribute of every element matching a CSS selector.
func attrOf(t *testing.T, ctx context.Context, sel, attr string) []string {
	t.Helper()
	return run(t, ctx, "attrs "+sel, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.getAttribute(%q))`, sel, attr)))
}

// TestBrowserAssets drives Chromium through the asset pages of a synced
// organization and checks each against the ground truth: the counts per
// account and kind, every list (filtered too) with its exposed rows, an
// exposed bucket's and function's pages (statements, named principals, the
// function's role), an instance's role and inbound rules, the blast radius
// of the public instance running as an administrator, a role's instances
// and functions, the account page's counts and the findings page's asset
// findings, each linking to its asset.
func TestBrowserAssets(t *testing.T) {
	ctx := browser(t)
	dir := shots(t)
	s := newAssetStack(t, 2)
	browserSignIn(t, ctx, s.url, s.token)
	a := s.truth.Assets
	all := truthAssets(a)
	exposed := exposedTruth(a)

	// /assets: the count of each kind in each account.
	open(t, ctx, s.url, "/assets?c=prod")
	want := map[string]int{}
	for _, x := range all {
		want[x.account+" "+x.kind]++
		want[" "+x.kind]++
	}
	got := map[string]int{}
	cells := run(t, ctx, "counts", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.asset-counts tr[data-account] td[data-kind]")).map(c => c.closest("tr").dataset.account + " " + c.dataset.kind + "=" + c.textContent.trim())`))
	for _, c := range cells {
		k, v, _ := strings.Cut(c, "=")
		n, _ := strconv.Atoi(v)
		got[k] = n
	}
	for _, k := range assetKinds {
		for _, acct := range append([]string{""}, accountsOf(s.truth)...) {
			key := strings.TrimPrefix(acct+" "+k.Kind, "")
			if got[key] != want[key] {
				t.Errorf("/assets: %q is %d, the estate has %d", key, got[key], want[key])
			}
		}
	}
	shot(t, ctx, dir, "assets")

	// Every list: exactly the estate's assets, the exposed ones flagged;
	// filtered by account and region, exactly those.
	for _, k := range assetKinds {
		var ids, flagged []string
		for _, x := range all {
			if x.kind == k.Kind {
				ids = append(ids, x.id)
				if exposed[x.id] {
					flagged = append(flagged, x.id)
				}
			}
		}
		open(t, ctx, s.url, "/assets/"+k.Kind+"?c=prod")
		sameSet(t, k.Kind+" listed", attrOf(t, ctx, "table.assets tbody tr", "data-id"), ids)
		sameSet(t, k.Kind+" flagged exposed", attrOf(t, ctx, "table.assets tbody tr.exposed", "data-id"), flagged)
		if k.Kind == "instances" {
			shot(t, ctx, dir, "assets-instances")
		}
	}
	acct := accountsOf(s.truth)[1]
	var inRegion []string
	for _, x := range all {
		if x.kind == "functions" && x.account == acct && x.region == "eu-west-1" {
			inRegion = append(inRegion, x.id)
		}
	}
	open(t, ctx, s.url, "/assets/functions?c=prod&account="+acct+"&region=eu-west-1")
	sameSet(t, "functions of "+acct+" in eu-west-1", attrOf(t, ctx, "table.assets tbody tr", "data-id"), inRegion)
	if l := texts(t, ctx, `label[for="region"]`); len(l) != 1 || l[0] != "Region" {
		t.Errorf("the region filter's label %q", l)
	}

	// A public bucket's page: its exposure, its statements, "anyone".
	var public, crossFn awsfake.Exposure
	for _, e := range a.Exposures {
		if e.Kind == "public" && e.Type == "bucket" && public.ARN == "" {
			public = e
		}
		if e.Kind == "cross-account" && e.Type == "function" && slices.Contains(accountsOf(s.truth), e.Accounts[0]) && crossFn.ARN == "" {
			crossFn = e
		}
	}
	if public.ARN == "" || crossFn.ARN == "" {
		t.Fatalf("the estate planted no public bucket (%v) or function shared with an account of the estate (%v)", public, crossFn)
	}
	open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(public.ARN))
	if r := attrOf(t, ctx, "#exposures tbody tr", "data-rule"); !slices.Contains(r, "public-exposure") {
		t.Errorf("public bucket %s: exposures %q", public.ARN, r)
	}
	var policyDoc string
	for _, b := range a.Buckets {
		if "arn:aws:s3:::"+b.Name == public.ARN {
			policyDoc = b.Policy
		}
	}
	if n := len(rows(t, ctx, "#policy table.statements")); n != statementCount(t, policyDoc) {
		t.Errorf("public bucket: %d statements shown, its policy has %d", n, statementCount(t, policyDoc))
	}
	if p := rows(t, ctx, "#policy table.named-principals"); !slices.ContainsFunc(p, func(r string) bool { return strings.HasPrefix(r, "* (anyone)|Allow|") }) {
		t.Errorf("public bucket: named principals %q lack anyone", p)
	}
	shot(t, ctx, dir, "asset-bucket")
	// Who can read its objects: the link asks /who-can, which answers as
	// effective.WhoCan does (anyone, by the policy, among them).
	links := attrOf(t, ctx, "#who-can a", "href")
	if len(links) == 0 || !strings.Contains(links[0], "action=s3%3AGetObject") || !strings.Contains(links[0], url.QueryEscape(public.ARN+"/*")) {
		t.Fatalf("public bucket: who-can links %q", links)
	}
	wa, err := effective.WhoCan(context.Background(), s.st, s.snap, effective.WhoCanQuestion{Action: "s3:GetObject", Resource: public.ARN + "/*"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "who-can link", chromedp.Navigate(s.url+links[0]))
	run(t, ctx, "who-can answer", chromedp.WaitVisible("#whocan-count"))
	if n := texts(t, ctx, "#whocan-count .total"); len(n) != 1 || n[0] != strconv.Itoa(len(wa.Principals)) || len(wa.Principals) == 0 {
		t.Errorf("who can read public bucket %s: the page counts %q, effective.WhoCan %d", public.ARN, n, len(wa.Principals))
	}
	anyone := false
	for _, p := range wa.Principals {
		anyone = anyone || p.Principal.ID == model.ExternalPrincipalID("*", "*")
	}
	if !anyone {
		t.Errorf("effective.WhoCan of public bucket %s does not list anyone", public.ARN)
	}

	// A bucket whose policy is public, in the account whose Block Public
	// Access restricts it: not exposed, and its page says why.
	var confined string
	for _, b := range a.Buckets {
		if b.Account == restrictedAccount && strings.Contains(b.Policy, `"Principal":"*"`) {
			confined = "arn:aws:s3:::" + b.Name
		}
	}
	if confined == "" {
		t.Fatal("the estate has no bucket with a public policy in the restricted account")
	}
	open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(confined))
	if r := attrOf(t, ctx, "#exposures tbody tr", "data-rule"); slices.Contains(r, "public-exposure") {
		t.Errorf("bucket %s, confined by its account's Block Public Access, is shown public", confined)
	}
	if at := rows(t, ctx, "table.attrs"); !slices.Contains(at, "Account's Block Public Access|block public ACLs no, ignore public ACLs no, block public policy no, restrict public buckets yes") {
		t.Errorf("bucket %s: attributes %q lack the account's Block Public Access", confined, at)
	}

	// A bucket whose ACL grants to another account: its exposure, and the
	// ACL grant by grant, the other account's canonical user shortened.
	var aclShared awsfake.Exposure
	for _, e := range a.Exposures {
		if e.Kind == "cross-account-acl" && aclShared.ARN == "" {
			aclShared = e
		}
	}
	if aclShared.ARN == "" {
		t.Fatal("the estate planted no bucket whose ACL grants to another account")
	}
	open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(aclShared.ARN))
	if r := attrOf(t, ctx, "#exposures tbody tr", "data-rule"); !slices.Contains(r, "cross-account-acls") {
		t.Errorf("bucket %s: exposures %q lack cross-account-acls", aclShared.ARN, r)
	}
	shot(t, ctx, dir, "asset-bucket-acl")
	for _, b := range a.Buckets {
		if "arn:aws:s3:::"+b.Name != aclShared.ARN {
			continue
		}
		var want []string
		for _, g := range b.ACL {
			who := g.URI[strings.LastIndexByte(g.URI, '/')+1:]
			switch {
			case g.ID == awsfake.CanonicalUserID(b.Account):
				who = "owner"
			case g.ID != "":
				who = "canonical user " + g.ID[:12] + "…"
			}
			want = append(want, who+" "+g.Permission)
		}
		if at := rows(t, ctx, "table.attrs"); !slices.Contains(at, "ACL|"+strings.Join(want, "; ")) {
			t.Errorf("bucket %s: attributes %q lack its ACL %q", aclShared.ARN, at, want)
		}
	}

	// A function shared with another account of the estate: that account
	// linked, its role linked to the role page.
	open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(crossFn.ARN))
	if r := attrOf(t, ctx, "#exposures tbody tr", "data-rule"); !slices.Equal(r, []string{"cross-account-exposure"}) {
		t.Errorf("function %s: exposures %q", crossFn.ARN, r)
	}
	if l := attrOf(t, ctx, "#policy table.named-principals a", "data-id"); !slices.Contains(l, model.AccountResourceID(crossFn.Accounts[0])) {
		t.Errorf("function %s: the principals its policy names link %q, not account %s", crossFn.ARN, l, crossFn.Accounts[0])
	}
	var fnRole string
	for _, f := range a.Functions {
		if f.ARN == crossFn.ARN {
			fnRole = f.Role
		}
	}
	if l := attrOf(t, ctx, "#runs-as a", "data-id"); !slices.Equal(l, []string{fnRole}) {
		t.Errorf("function %s runs as %q, the estate says %s", crossFn.ARN, l, fnRole)
	}

	// A function with aliases, one of them with a policy of its own: the
	// page lists them, and asks who may invoke each.
	var aliased *awsfake.Function
	for _, f := range a.Functions {
		for _, al := range f.Aliases {
			if al.Policy != "" && aliased == nil {
				aliased = f
			}
		}
	}
	if aliased == nil {
		t.Fatal("the estate has no function alias with a policy")
	}
	open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(aliased.ARN))
	var words []string
	for _, al := range aliased.Aliases {
		w := al.Name + " → " + al.FunctionVersion
		if al.Policy != "" {
			w += fmt.Sprintf(", with a policy of %d statement(s)", statementCount(t, al.Policy))
		}
		words = append(words, w)
	}
	if at := rows(t, ctx, "table.attrs"); !slices.Contains(at, "Aliases|"+strings.Join(words, "; ")) {
		t.Errorf("function %s: attributes %q lack its aliases %q", aliased.Name, at, words)
	}
	shot(t, ctx, dir, "asset-function-aliases")
	for _, al := range aliased.Aliases {
		links := attrOf(t, ctx, "#who-can a", "href")
		if !slices.ContainsFunc(links, func(l string) bool { return strings.Contains(l, url.QueryEscape(aliased.AliasARN(al.Name))) }) {
			t.Errorf("function %s: who-can links %q do not ask about alias %s", aliased.Name, links, al.Name)
		}
	}

	// Every instance: its role, and its security groups' rules with the
	// ones open to the internet flagged.
	sgs := map[string]*awsfake.SecurityGroup{}
	for _, g := range a.SecurityGroups {
		sgs[g.ID] = g
	}
	roleOf := map[string]string{} // instance ARN → role ARN
	for _, in := range a.Instances {
		id := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
		if in.InstanceProfileARN != "" {
			for _, ac := range s.truth.Accounts() {
				if ac.ID == in.Account {
					p := ac.IAM.InstanceProfiles[in.InstanceProfileARN[strings.LastIndexByte(in.InstanceProfileARN, '/')+1:]]
					roleOf[id] = ac.IAM.Roles[p.Roles[0]].ARN
				}
			}
		}
	}
	for _, in := range a.Instances[:6] {
		id := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
		open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(id))
		var wantRole []string
		if r := roleOf[id]; r != "" {
			wantRole = []string{r}
		}
		if l := attrOf(t, ctx, "#runs-as a", "data-id"); !slices.Equal(l, wantRole) && !(len(l) == 0 && len(wantRole) == 0) {
			t.Errorf("instance %s runs as %q, the estate says %q", in.ID, l, wantRole)
		}
		var wantRules, wantOpen int
		for _, sg := range in.SecurityGroups {
			for _, p := range sgs[sg].Ingress {
				wantRules++
				if slices.Contains(p.CIDRs, "0.0.0.0/0") || slices.Contains(p.IPv6CIDRs, "::/0") {
					wantOpen++
				}
			}
		}
		if n, o := len(rows(t, ctx, "#security-groups table.rules")), len(texts(t, ctx, "#security-groups table.rules tbody tr.open")); n != wantRules || o != wantOpen {
			t.Errorf("instance %s: %d rules, %d open; the estate has %d, %d open", in.ID, n, o, wantRules, wantOpen)
		}
	}

	// The public instance running as an administrator: its blast radius,
	// on its page (once the findings are counted) and the findings page.
	var publicAdmins []string
	for _, in := range a.Instances {
		id := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
		if in.PublicIP == "" || roleOf[id] == "" {
			continue
		}
		for _, ac := range s.truth.Accounts() {
			if r := ac.IAM.Roles[roleOf[id][strings.LastIndexByte(roleOf[id], '/')+1:]]; r != nil && ac.ID == in.Account &&
				slices.Contains(r.AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") {
				publicAdmins = append(publicAdmins, id)
			}
		}
	}
	if len(publicAdmins) == 0 {
		t.Fatal("the estate planted no public instance running as an administrator")
	}
	var blast []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		open(t, ctx, s.url, "/asset?c=prod&id="+url.QueryEscape(publicAdmins[0]))
		if blast = attrOf(t, ctx, "#exposures tbody tr", "data-rule"); slices.Contains(blast, "public-admin-instances") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !slices.Contains(blast, "public-admin-instances") {
		t.Errorf("public admin instance %s: exposures %q", publicAdmins[0], blast)
	}
	shot(t, ctx, dir, "asset-instance")

	// A role's page: the instances and functions running as it.
	role := roleOf[publicAdmins[0]]
	var runners []string
	for id, r := range roleOf {
		if r == role {
			runners = append(runners, id)
		}
	}
	for _, f := range a.Functions {
		if f.Role == role {
			runners = append(runners, f.ARN)
		}
	}
	open(t, ctx, s.url, "/principal?c=prod&id="+url.QueryEscape(role))
	sameSet(t, "running as "+role, attrOf(t, ctx, "#runs-as-role a", "data-id"), runners)

	// The account page: its asset counts.
	open(t, ctx, s.url, "/account?c=prod&id="+acct)
	for _, c := range texts(t, ctx, "#assets li") {
		n, kind, _ := strings.Cut(c, " ")
		if v, _ := strconv.Atoi(n); v != want[acct+" "+kind] {
			t.Errorf("account %s page: %q, the estate has %d %s", acct, c, want[acct+" "+kind], kind)
		}
	}
	if n := len(texts(t, ctx, "#assets li")); n != len(assetKinds) {
		t.Errorf("account %s page: %d asset counts", acct, n)
	}

	// The findings page: every planted exposure under its rule, linking
	// to its asset, and the public instance running as an effective
	// administrator.
	open(t, ctx, s.url, "/findings?c=prod")
	rules := map[string]string{"public": "public-exposure", "cross-account": "cross-account-exposure", "account-manage": "account-manage-keys", "open-admin-port": "open-admin-ports",
		"public-acl": "public-acls", "cross-account-acl": "cross-account-acls"}
	var wantRows []string
	for _, e := range a.Exposures {
		wantRows = append(wantRows, rules[e.Kind]+" /asset?c=prod&id="+url.QueryEscape(e.ARN))
	}
	for _, id := range publicAdmins {
		wantRows = append(wantRows, "public-admin-instances /asset?c=prod&id="+url.QueryEscape(id))
	}
	gotRows := run(t, ctx, "asset findings", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.findings tbody tr")).filter(r => r.querySelector("a").getAttribute("href").startsWith("/asset?")).map(r => r.cells[1].textContent + " " + r.querySelector("a").getAttribute("href"))`))
	sameSet(t, "asset findings", gotRows, wantRows)
	sameSet(t, "public instances running as an effective administrator", attrOf(t, ctx, "table.public-admins tbody tr", "data-id"), publicAdmins)
	if n := len(texts(t, ctx, "#assets-not-read")); n != 0 {
		t.Error("the findings page says assets were not read")
	}
	shot(t, ctx, dir, "findings-assets")
}

// accountsOf are the estate's account IDs, sorted.
func accountsOf(truth *awsfake.OrgTruth) []string {
	var out []string
	for _, a := range truth.Accounts() {
		out = append(out, a.ID)
	}
	slices.Sort(out)
	return out
}

// TestBrowserAssetsHostileValues writes a snapshot straight into a store
// whose assets carry script in their names, tags, descriptions and
// resource policies (AWS refuses most of these characters; a store
// written by something else need not), renders every asset page in
// Chromium and checks the text is shown as it is and nothing runs.
func TestBrowserAssetsHostileValues(t *testing.T) {
	ctx := browser(t)
	dir := shots(t)
	hostile := xssScript + xssImg
	const acct, region = "111122223333", "us-east-1"
	roleARN := "arn:aws:iam::" + acct + ":role/app"
	inst := "arn:aws:ec2:" + region + ":" + acct + ":instance/i-0123456789abcdef0"
	sg := "arn:aws:ec2:" + region + ":" + acct + ":security-group/sg-0123456789abcdef0"
	bucket := "arn:aws:s3:::bucket-" + xssImg
	key := "arn:aws:kms:" + region + ":" + acct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	fn := "arn:aws:lambda:" + region + ":" + acct + ":function:fn"
	secret := "arn:aws:secretsmanager:" + region + ":" + acct + ":secret:db-AbCdEf"
	pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":%q,"Effect":"Allow","Principal":{"AWS":%q},"Action":"s3:GetObject","Resource":"*"},`+
		`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:UserAgent":%q}}}]}`,
		hostile, "arn:aws:iam::999988887777:role/"+xssImg, hostile)
	tags := map[string]string{"Name": hostile, "owner": xssImg}
	g := &model.Graph{Resources: []model.Resource{
		{ID: model.AccountResourceID(acct), Type: model.TypeAccount, AccountID: acct, Name: "prod"},
		{ID: roleARN, Type: model.TypeIAMRole, AccountID: acct, Name: "app", ARN: roleARN, Role: &model.RoleAttrs{Description: hostile}},
		{ID: inst, Type: model.TypeEC2Instance, AccountID: acct, Name: hostile, ARN: inst, Tags: tags, Instance: &model.InstanceAttrs{Region: region,
			InstanceID: "i-0123456789abcdef0", State: "running", InstanceType: "t3.micro", PublicIP: "198.51.100.7", Role: roleARN, SecurityGroups: []string{"sg-0123456789abcdef0"}}},
		{ID: sg, Type: model.TypeSecurityGroup, AccountID: acct, Name: hostile, ARN: sg, Tags: tags, SecurityGroup: &model.SecurityGroupAttrs{Region: region,
			GroupID: "sg-0123456789abcdef0", Description: hostile, Ingress: []model.IPRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}, Groups: []string{xssImg}}}}},
		{ID: bucket, Type: model.TypeS3Bucket, AccountID: acct, Name: "bucket-" + xssImg, ARN: bucket, Tags: tags, Bucket: &model.BucketAttrs{Region: region, Policy: pol}},
		{ID: key, Type: model.TypeKMSKey, AccountID: acct, Name: "1234abcd-12ab-34cd-56ef-1234567890ab", ARN: key, KMSKey: &model.KMSKeyAttrs{Region: region,
			KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", State: "Enabled", Description: hostile, Policy: strings.ReplaceAll(pol, "s3:GetObject", "kms:Decrypt"),
			Grants: []model.KMSGrant{{GrantID: "g1", Name: hostile, GranteePrincipal: "arn:aws:iam::" + acct + ":role/" + xssImg, Operations: []string{"Decrypt"},
				Constraints: &model.KMSGrantConstraints{EncryptionContextSubset: map[string]string{hostile: xssImg}}}}}},
		{ID: fn, Type: model.TypeLambdaFunction, AccountID: acct, Name: "fn", ARN: fn, Tags: tags, Function: &model.FunctionAttrs{Region: region, Runtime: hostile, Role: roleARN,
			Policy: strings.ReplaceAll(pol, "s3:GetObject", "lambda:InvokeFunction")}},
		{ID: secret, Type: model.TypeSecret, AccountID: acct, Name: "db", ARN: secret, Tags: tags, Secret: &model.SecretAttrs{Region: region, Description: hostile, KMSKeyID: xssImg,
			Policy: strings.ReplaceAll(pol, "s3:GetObject", "secretsmanager:GetSecretValue")}},
	},
		Entitlements: []model.Entitlement{{ID: model.EntitlementID(roleARN, model.EntRunsAs), ResourceID: roleARN, Name: model.EntRunsAs}},
		Grants: []model.Grant{{PrincipalID: inst, EntitlementID: model.EntitlementID(roleARN, model.EntRunsAs), Provenance: model.ViaInstanceProfile},
			{PrincipalID: fn, EntitlementID: model.EntitlementID(roleARN, model.EntRunsAs), Provenance: model.ViaExecutionRole}}}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	snap := &model.Snapshot{ConnectionID: "xss", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete, Counts: map[string]int{},
		APICalls: map[string]int64{"s3:ListBuckets": 1}}
	for _, r := range g.Resources {
		snap.Counts[string(r.Type)]++
	}
	id, err := st.WriteSnapshot(context.Background(), snap, g)
	if err != nil {
		t.Fatal(err)
	}
	s := serveStore(t, st, id, nil)
	browserSignIn(t, ctx, s.url, s.token)
	run(t, ctx, "arm", chromedp.Evaluate[bool](`true`))
	asset := func(id string) string { return "/asset?c=xss&id=" + url.QueryEscape(id) }
	pages := []struct {
		name, path string
		want       []string
	}{
		{"assets", "/assets?c=xss", nil},
		{"instances", "/assets/instances?c=xss", []string{hostile}},
		{"security-groups", "/assets/security-groups?c=xss", []string{hostile}},
		{"buckets", "/assets/buckets?c=xss", []string{"bucket-" + xssImg}},
		{"keys", "/assets/keys-kms?c=xss", []string{hostile}},
		{"functions", "/assets/functions?c=xss", []string{hostile}},
		{"secrets", "/assets/secrets?c=xss", []string{xssImg}},
		{"instance", asset(inst), []string{hostile, xssImg}},
		{"security-group", asset(sg), []string{hostile, xssImg}},
		{"bucket", asset(bucket), []string{hostile, "bucket-" + xssImg, "arn:aws:iam::999988887777:role/" + xssImg}},
		{"key", asset(key), []string{hostile, "arn:aws:iam::" + acct + ":role/" + xssImg}},
		{"function", asset(fn), []string{hostile}},
		{"secret", asset(secret), []string{hostile, xssImg}},
		{"role", "/principal?c=xss&id=" + url.QueryEscape(roleARN), []string{hostile}},
		{"findings", "/findings?c=xss", []string{hostile, "bucket-" + xssImg}},
	}
	for _, p := range pages {
		open(t, ctx, s.url, p.path)
		main := run(t, ctx, "main text "+p.name, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
		for _, w := range p.want {
			if !strings.Contains(main, w) {
				t.Errorf("%s page does not show %q as text:\n%s", p.name, w, main)
			}
		}
		if n := run(t, ctx, "img "+p.name, chromedp.Evaluate[int](`document.querySelectorAll("img, script:not([src])").length`)); n != 0 {
			t.Errorf("%s page: %d img or inline script elements made from the values", p.name, n)
		}
		if ran := run(t, ctx, "flag "+p.name, chromedp.Evaluate[bool](`window.__x !== undefined`)); ran {
			t.Errorf("%s page: script from a value ran", p.name)
		}
		shot(t, ctx, dir, "hostile-asset-"+p.name)
	}
	// The role page lists the instance and function running as it.
	open(t, ctx, s.url, "/principal?c=xss&id="+url.QueryEscape(roleARN))
	sameSet(t, "running as the role", attrOf(t, ctx, "#runs-as-role a", "data-id"), []string{inst, fn})
}
