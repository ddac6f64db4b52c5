package webui

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// attr is one attribute of an asset, for the attribute table.
type attr struct{ Key, Value string }

// namedPrincipal is a principal a resource policy (or a KMS grant) names:
// linked when the snapshot has it, with what the statements allow or deny.
type namedPrincipal struct {
	Ref     access.Ref // Type "" when the snapshot does not have it
	Value   string     // as the policy writes it
	Effect  string
	Actions []string
	// Conditional says a statement naming it has conditions.
	Conditional bool
	// Constraints are a KMS grant's encryption context constraints in
	// words, "" for none.
	Constraints string
}

// grantConstraintWords says a grant's constraints: "context includes
// k=v, …" (EncryptionContextSubset) and "context is exactly k=v, …"
// (EncryptionContextEquals), keys sorted; "" for none.
func grantConstraintWords(c *model.KMSGrantConstraints) string {
	if c == nil {
		return ""
	}
	pairs := func(m map[string]string) string {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, k+"="+m[k])
		}
		return strings.Join(out, ", ")
	}
	var words []string
	if len(c.EncryptionContextSubset) > 0 {
		words = append(words, "context includes "+pairs(c.EncryptionContextSubset))
	}
	if len(c.EncryptionContextEquals) > 0 {
		words = append(words, "context is exactly "+pairs(c.EncryptionContextEquals))
	}
	return strings.Join(words, "; ")
}

// sgView is a security group on an asset page, its inbound rules with
// those open to the internet flagged.
type sgView struct {
	Ref   access.Ref
	Found bool
	Rules []inventory.SecurityGroupRule
}

// assetData is the /asset page.
type assetData struct {
	entityBase
	Kind       assetKind
	Attrs      []attr
	HasPolicy  bool // the kind has a resource policy
	Doc        *docView
	Principals []namedPrincipal
	Grants     []namedPrincipal // a KMS key's grants
	RunsAs     *access.Ref
	RoleFound  bool
	Groups     []sgView
	Exposures  []findingRow
	// BlastRadius is the public-admin-instances finding of an instance,
	// nil for none; Pending while the findings are being counted.
	BlastRadius *findingRow
	Pending     bool
	// WhoCan are the who-can questions worth asking of it (the policy
	// evaluator, with its resource policy), as links to /who-can.
	WhoCan []whoCanLink
	// Beside is what grants on the asset beside its resource policy: a
	// bucket's ACL grants to others, a function's aliases' own policies
	// ("" for nothing). Through names, in the exposures table, what a
	// policy exposure comes through: "policy", or for a function with
	// aliases of their own "policy or an alias's".
	Beside  string
	Through string
}

// whoCanLink is one who-can question about an asset.
type whoCanLink struct{ Action, Resource, URL string }

// whoCanActions are, per asset type, the actions whose who-can answer
// says who can use the asset (on the resource given by the function).
var whoCanActions = map[model.ResourceType][]struct {
	action string
	on     func(id string) string
}{
	model.TypeS3Bucket: {{"s3:GetObject", func(id string) string { return id + "/*" }}, {"s3:PutObject", func(id string) string { return id + "/*" }},
		{"s3:ListBucket", same}, {"s3:PutBucketPolicy", same}},
	model.TypeKMSKey:         {{"kms:Decrypt", same}, {"kms:PutKeyPolicy", same}},
	model.TypeLambdaFunction: {{"lambda:InvokeFunction", same}, {"lambda:UpdateFunctionCode", same}},
	model.TypeSecret:         {{"secretsmanager:GetSecretValue", same}, {"secretsmanager:PutResourcePolicy", same}},
}

func same(id string) string { return id }

// whoCanLinks are the who-can questions of res; for a function, also who
// may invoke each of its aliases (an alias has a policy of its own).
func whoCanLinks(conn string, res *model.Resource) []whoCanLink {
	var out []whoCanLink
	link := func(action, on string) {
		v := url.Values{"c": {conn}, "action": {action}, "resource": {on}}
		out = append(out, whoCanLink{Action: action, Resource: on, URL: "/who-can?" + v.Encode()})
	}
	for _, a := range whoCanActions[res.Type] {
		link(a.action, a.on(res.ID))
	}
	if res.Function != nil {
		for _, a := range res.Function.Aliases {
			link("lambda:InvokeFunction", res.ID+":"+a.Name)
		}
	}
	return out
}

// assetPolicy is the resource policy of an asset ("" for none) and whether
// its kind has one.
func assetPolicy(r *model.Resource) (string, bool) {
	_, text, ok := model.ResourcePolicy(r)
	return text, ok
}

// assetAttrs lists an asset's attributes.
func assetAttrs(r *model.Resource) []attr {
	a := []attr{{"ARN", r.ID}, {"Account", r.AccountID}, {"Region", model.AssetRegion(r)}}
	add := func(k, v string) {
		if v != "" {
			a = append(a, attr{k, v})
		}
	}
	switch {
	case r.Instance != nil:
		x := r.Instance
		add("Instance ID", x.InstanceID)
		add("State", x.State)
		add("Type", x.InstanceType)
		add("VPC", x.VPC)
		add("Subnet", x.Subnet)
		add("Private IP", x.PrivateIP)
		add("Public IP", cmpOr(x.PublicIP, "none"))
		add("Instance profile", cmpOr(x.InstanceProfile, "none"))
	case r.SecurityGroup != nil:
		x := r.SecurityGroup
		add("Group ID", x.GroupID)
		add("VPC", x.VPC)
		add("Description", x.Description)
	case r.Bucket != nil:
		pab := "none set"
		if p := r.Bucket.PublicAccessBlock; p != nil {
			pab = pabWords(p)
		}
		add("Bucket's Block Public Access", pab)
		add("ACL", aclWords(r.Bucket.ACL))
	case r.KMSKey != nil:
		add("Key ID", r.KMSKey.KeyID)
		add("State", r.KMSKey.State)
		add("Description", r.KMSKey.Description)
	case r.Function != nil:
		add("Runtime", r.Function.Runtime)
		add("Aliases", aliasWords(r))
	case r.Secret != nil:
		add("Description", r.Secret.Description)
		add("KMS key", cmpOr(r.Secret.KMSKeyID, "the account's default (aws/secretsmanager)"))
		add("Value", "never read by warden")
	}
	return a
}

// accountAssetAttrs are the attributes of res its account's asset settings
// give: the account's Block Public Access for a bucket, and how the
// asset's region was read.
func accountAssetAttrs(res *model.Resource, a *model.AccountAssetsAttrs) []attr {
	var out []attr
	if res.Bucket != nil {
		v := "none set"
		if p := a.PublicAccessBlock; p != nil {
			v = pabWords(p)
		}
		out = append(out, attr{"Account's Block Public Access", v})
	}
	region := model.AssetRegion(res)
	for _, s := range a.Sources {
		if s.Region == region {
			v := "the service's own listings"
			if s.Source == model.AssetSourceConfig {
				v = "AWS Config aggregator " + s.Aggregator
			}
			out = append(out, attr{"Read from", v})
		}
	}
	return out
}

// pabWords says a Block Public Access configuration's four settings.
func pabWords(p *model.PublicAccessBlock) string {
	return "block public ACLs " + yesNo(p.BlockPublicAcls) + ", ignore public ACLs " + yesNo(p.IgnorePublicAcls) +
		", block public policy " + yesNo(p.BlockPublicPolicy) + ", restrict public buckets " + yesNo(p.RestrictPublicBuckets)
}

// principalIDs are the resource IDs a policy's principal value may be in
// the snapshot: an ARN as it is, an account's root or ID as the account.
func principalID(kind, v string) string {
	if kind != "AWS" {
		return ""
	}
	if model.IsAccountID(v) {
		return model.AccountResourceID(v)
	}
	if strings.HasPrefix(v, "arn:aws:iam::") && strings.HasSuffix(v, ":root") {
		if p := strings.Split(v, ":"); len(p) > 4 {
			return model.AccountResourceID(p[4])
		}
	}
	return v
}

// namedPrincipals lists the principals doc's statements name, each with
// the actions of the statements naming it, and looks them up.
func (u *UI) namedPrincipals(r *http.Request, snap int64, doc string) ([]namedPrincipal, error) {
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, nil
	}
	type key struct{ kind, value, effect string }
	found := map[key]*namedPrincipal{}
	var order []key
	var ids []string
	for _, s := range d.Statement {
		for kind, vals := range s.Principal {
			for _, v := range vals {
				k := key{kind, v, s.Effect}
				p := found[k]
				if p == nil {
					label := v
					if kind != "AWS" && kind != "*" {
						label = kind + ": " + v
					}
					if kind == "*" || v == "*" {
						label = "* (anyone)"
					}
					p = &namedPrincipal{Value: label, Effect: s.Effect}
					found[k] = p
					order = append(order, k)
					if id := principalID(kind, v); id != "" && v != "*" {
						ids = append(ids, id)
					}
				}
				p.Actions = append(p.Actions, s.Action...)
				p.Conditional = p.Conditional || len(s.Condition) > 0
			}
		}
	}
	res, err := u.c.Store.ResourcesByID(r.Context(), snap, ids)
	if err != nil {
		return nil, err
	}
	out := make([]namedPrincipal, 0, len(order))
	for _, k := range order {
		p := found[k]
		if x, ok := res[principalID(k.kind, k.value)]; ok && k.value != "*" {
			p.Ref = refOf(&x)
		}
		sort.Strings(p.Actions)
		out = append(out, *p)
	}
	return out, nil
}

// asset is /asset?id=ARN: one asset's attributes, its resource policy as
// statements, the principals it names, the role it runs as, its security
// groups' rules and its exposures.
func (u *UI) asset(w http.ResponseWriter, r *http.Request, s *session) {
	b, ok := u.resource(w, r, s, "id", "/asset?c=CONNECTION&id=ARN")
	if !ok {
		return
	}
	res, snap := b.Resource, b.Snap.ID
	d := assetData{entityBase: b}
	for _, k := range assetKinds {
		if k.Type == res.Type {
			d.Kind = k
		}
	}
	if d.Kind.Kind == "" {
		u.fail(w, r, s, http.StatusNotFound, res.Name+" is a "+string(res.Type)+", not an asset.")
		return
	}
	fail := func(err error) {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
	}
	d.Attrs = assetAttrs(res)
	d.WhoCan = whoCanLinks(b.Conn, res)
	d.Beside, d.Through = besideWords(res), "policy"
	if res.Function != nil && strings.Contains(d.Beside, "alias") {
		d.Through = "policy or an alias's"
	}
	doc, has := assetPolicy(res)
	d.HasPolicy = has
	if doc != "" {
		v := newDocView(doc)
		d.Doc = &v
		var err error
		if d.Principals, err = u.namedPrincipals(r, snap, doc); err != nil {
			fail(err)
			return
		}
	}
	if k := res.KMSKey; k != nil && len(k.Grants) > 0 {
		var ids []string
		for _, gr := range k.Grants {
			ids = append(ids, gr.GranteePrincipal)
		}
		found, err := u.c.Store.ResourcesByID(r.Context(), snap, ids)
		if err != nil {
			fail(err)
			return
		}
		for _, gr := range k.Grants {
			p := namedPrincipal{Value: gr.GranteePrincipal, Effect: "Grant " + gr.GrantID, Actions: gr.Operations, Constraints: grantConstraintWords(gr.Constraints)}
			if x, ok := found[gr.GranteePrincipal]; ok {
				p.Ref = refOf(&x)
			}
			d.Grants = append(d.Grants, p)
		}
	}
	role := ""
	switch {
	case res.Instance != nil:
		role = res.Instance.Role
	case res.Function != nil:
		role = res.Function.Role
	}
	if role != "" {
		d.RunsAs = roleRef(role)
		found, err := u.c.Store.ResourcesByID(r.Context(), snap, []string{role})
		if err != nil {
			fail(err)
			return
		}
		if x, ok := found[role]; ok {
			d.RoleFound = true
			d.RunsAs = &access.Ref{ID: x.ID, Type: x.Type, Name: x.Name, AccountID: x.AccountID}
		}
	}
	g := &model.Graph{Resources: []model.Resource{*res}}
	// The account's asset settings: its Block Public Access applies to
	// its buckets on top of their own.
	settings, err := u.c.Store.ResourcesByID(r.Context(), snap, []string{model.AccountAssetsID(res.AccountID)})
	if err != nil {
		fail(err)
		return
	}
	if x, ok := settings[model.AccountAssetsID(res.AccountID)]; ok && x.AccountAssets != nil {
		g.Resources = append(g.Resources, x)
		d.Attrs = append(d.Attrs, accountAssetAttrs(res, x.AccountAssets)...)
	}
	switch {
	case res.SecurityGroup != nil:
		d.Groups = []sgView{{Ref: refOf(res), Found: true, Rules: inventory.SecurityGroupRules(res.SecurityGroup.Ingress)}}
	case res.Instance != nil:
		region, ids := res.Instance.Region, []string{}
		for _, sg := range res.Instance.SecurityGroups {
			ids = append(ids, "arn:aws:ec2:"+region+":"+res.AccountID+":security-group/"+sg)
		}
		found, err := u.c.Store.ResourcesByID(r.Context(), snap, ids)
		if err != nil {
			fail(err)
			return
		}
		for i, id := range ids {
			v := sgView{Ref: access.Ref{ID: id, Type: model.TypeSecurityGroup, Name: res.Instance.SecurityGroups[i], AccountID: res.AccountID}}
			if x, ok := found[id]; ok && x.SecurityGroup != nil {
				v.Found, v.Ref = true, refOf(&x)
				v.Rules = inventory.SecurityGroupRules(x.SecurityGroup.Ingress)
				g.Resources = append(g.Resources, x)
			}
			d.Groups = append(d.Groups, v)
		}
	}
	for _, row := range assetFindingRows(g) {
		if row.Rule != "public-admin-instances" {
			d.Exposures = append(d.Exposures, row)
		}
	}
	sort.SliceStable(d.Exposures, func(i, j int) bool { return severities[d.Exposures[i].Severity] < severities[d.Exposures[j].Severity] })
	if res.Instance != nil && res.Instance.PublicIP != "" && role != "" {
		sf := u.counts.get(u, b.Snap, u.latestDay(), findingsWait)
		if sf == nil {
			d.Pending = true
		} else {
			for i := range sf.rows {
				if sf.rows[i].Rule == "public-admin-instances" && sf.rows[i].Principal.ID == res.ID {
					d.BlastRadius = &sf.rows[i]
				}
			}
		}
	}
	u.render(w, r, s, http.StatusOK, "asset.html", page{Title: res.Name, Data: d})
}

// aclWords says a bucket's ACL grant by grant ("owner FULL_CONTROL;
// AllUsers READ"), a canonical user other than the owner by the first 12
// characters of its ID.
func aclWords(acl *model.BucketACL) string {
	if acl == nil {
		return "not read"
	}
	var parts []string
	for _, g := range acl.Grants {
		who := g.Grantee
		switch {
		case g.GranteeType == model.ACLGroup:
			who = who[strings.LastIndexByte(who, '/')+1:]
		case g.Grantee == acl.OwnerID:
			who = "owner"
		case len(who) > 12:
			who = "canonical user " + who[:12] + "…"
		default:
			who = "canonical user " + who
		}
		parts = append(parts, who+" "+g.Permission)
	}
	if len(parts) == 0 {
		return "no grants"
	}
	return strings.Join(parts, "; ")
}

// aliasWords says a function's aliases, each with the version it points
// to and whether it has a policy of its own ("live → 1; prod → 2, with a
// policy of 1 statement"), or that they were not read.
func aliasWords(r *model.Resource) string {
	if slices.Contains(r.Unread, "aliases") {
		return "not read"
	}
	var parts []string
	for _, a := range r.Function.Aliases {
		w := a.Name + " → " + a.Version
		if a.Policy != "" {
			n := 0
			if d, err := policy.Parse(a.Policy); err == nil {
				n = len(d.Statement)
			}
			w += fmt.Sprintf(", with a policy of %d statement(s)", n)
		}
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// besideWords says what grants on an asset beside its resource policy: a
// bucket ACL's grants to others than the owner, a function's aliases with
// a policy of their own; "" for nothing.
func besideWords(r *model.Resource) string {
	switch {
	case r.Bucket != nil && r.Bucket.ACL != nil:
		n := 0
		for _, g := range r.Bucket.ACL.Grants {
			if g.GranteeType != model.ACLCanonicalUser || g.Grantee != r.Bucket.ACL.OwnerID {
				n++
			}
		}
		if n > 0 {
			return fmt.Sprintf("its ACL's %d grant(s) to others than its owner (above) grant too", n)
		}
	case r.Function != nil:
		var names []string
		for _, a := range r.Function.Aliases {
			if a.Policy != "" {
				names = append(names, a.Name)
			}
		}
		if len(names) > 0 {
			return "alias(es) " + strings.Join(names, ", ") + " have a policy of their own, which decides who may invoke the alias"
		}
	}
	return ""
}
