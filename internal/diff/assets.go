package diff

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// The kinds of AssetChange.
const (
	AssetKindAsset             = "asset"               // the asset itself added or removed
	AssetKindResourcePolicy    = "resource_policy"     // a statement of its resource policy added or removed
	AssetKindBlockPublicAccess = "block_public_access" // a bucket's (or an account's) Block Public Access settings changed
	AssetKindKMSGrant          = "kms_grant"           // a grant on a KMS key added or removed
	AssetKindBucketACL         = "bucket_acl"          // a grant of a bucket's ACL added or removed
	AssetKindAliasPolicy       = "alias_policy"        // a statement of a function alias's policy added or removed
	AssetKindExecutionRole     = "execution_role"      // a function's execution role changed
	AssetKindInstanceRole      = "instance_role"       // the role an instance runs as changed
	AssetKindPublicIP          = "public_ip"           // an instance's public IP address changed
	AssetKindInstanceState     = "instance_state"      // an instance's state changed
	AssetKindIngress           = "ingress"             // a security group's inbound source added or removed
)

// The severities of an AssetChange, as warden's findings rank theirs.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

// AssetChange is one change of an asset (an S3 bucket, KMS key, Lambda
// function, secret, EC2 instance or security group), or of an account's
// own Block Public Access (Asset of type account_assets), that bears on
// who can reach it or what it can reach.
type AssetChange struct {
	Change string `json:"change"` // added, removed or changed
	// Kind is what changed: asset, resource_policy, alias_policy,
	// block_public_access, kms_grant, bucket_acl, execution_role,
	// instance_role, public_ip, instance_state or ingress.
	Kind   string `json:"kind"`
	Asset  Ref    `json:"asset"`
	Region string `json:"region"`
	// Before and After are the values of a changed one: a role ARN, an IP
	// address, a state, or the Block Public Access settings on (comma
	// separated); "" for none, and for the other kinds.
	Before string `json:"before"`
	After  string `json:"after"`
	// Detail is what was added or removed, as normalized JSON: the policy
	// statement, an alias's ({alias, statement}), the KMS grant
	// ({grant_id, grantee_principal, operations, …}), the bucket ACL grant
	// ({grantee_type, grantee, permission}) or the inbound rule ({protocol,
	// from_port, to_port, and one of cidr, ipv6_cidr, group}); null for the
	// other kinds.
	Detail json.RawMessage `json:"detail"`
	// Exposure is the exposure the change opens, in internal/findings'
	// words (public, public-acl, cross-account, cross-account-acl,
	// cross-account-grant, account-manage, open-admin-port); "" for none.
	Exposure string `json:"exposure"`
	// Severity is high (the asset is now public, or open to the internet
	// on an admin port), medium (shared with another account, open to the
	// internet, given a public IP, its Block Public Access loosened), low
	// (any other widening), or "" for a change that narrows access.
	Severity string `json:"severity"`
	Text     string `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// isAsset reports whether t is an asset type.
func isAsset(t model.ResourceType) bool {
	switch t {
	case model.TypeS3Bucket, model.TypeKMSKey, model.TypeLambdaFunction, model.TypeSecret, model.TypeEC2Instance, model.TypeSecurityGroup:
		return true
	}
	return false
}

// assets lists the asset changes, asset by asset: an asset added (with
// the worst exposure it comes with) or removed, and of a changed one each
// statement of its resource policy, KMS grant and inbound source added or
// removed, its Block Public Access settings, execution or instance role,
// public IP and state changed.
func (c *computer) assets() []AssetChange {
	out := []AssetChange{}
	for _, rc := range c.cs.Resources {
		switch {
		case rc.Before != nil && rc.After != nil && rc.After.Type == model.TypeAccountAssets:
			out = append(out, accountBlockChange(rc.Before, rc.After)...)
		case rc.Before == nil && rc.After != nil && isAsset(rc.After.Type):
			a := AssetChange{Change: Added, Kind: AssetKindAsset, Asset: refOf(rc.After), Region: model.AssetRegion(rc.After), Severity: SeverityLow}
			a.Exposure = worstExposure(c.exposures(*rc.After, true))
			if s := exposureSeverity(a.Exposure); s != "" {
				a.Severity = s
			}
			out = append(out, a)
		case rc.Before != nil && rc.After == nil && isAsset(rc.Before.Type):
			out = append(out, AssetChange{Change: Removed, Kind: AssetKindAsset, Asset: refOf(rc.Before), Region: model.AssetRegion(rc.Before)})
		case rc.Before != nil && rc.After != nil && isAsset(rc.After.Type):
			out = append(out, c.assetChanges(rc.Before, rc.After)...)
		}
	}
	for i := range out {
		if out[i].Detail == nil {
			out[i].Detail = json.RawMessage("null")
		}
		out[i].Text = assetText(out[i])
	}
	slices.SortFunc(out, func(x, y AssetChange) int {
		return cmp.Or(cmp.Compare(x.Asset.AccountID, y.Asset.AccountID), cmp.Compare(x.Asset.Type, y.Asset.Type),
			cmp.Compare(x.Asset.Name, y.Asset.Name), cmp.Compare(x.Asset.ID, y.Asset.ID), cmp.Compare(x.Kind, y.Kind),
			cmp.Compare(x.Change, y.Change), cmp.Compare(string(x.Detail), string(y.Detail)))
	})
	return out
}

// exposures are findings.Exposures of one asset as it is in the newer
// (after) or older snapshot, with its account's Block Public Access
// settings there.
func (c *computer) exposures(r model.Resource, after bool) []findings.Exposure {
	g := &model.Graph{Resources: []model.Resource{r}}
	if r.Type == model.TypeS3Bucket {
		side := c.before
		if after {
			side = c.after
		}
		if acct, ok := side[model.AccountAssetsID(r.AccountID)]; ok {
			g.Resources = append(g.Resources, acct)
		}
	}
	return findings.Exposures(g)
}

// accountBlockChange is the change of an account's own Block Public
// Access settings, which apply to every bucket of the account on top of
// the bucket's.
func accountBlockChange(b, a *model.Resource) []AssetChange {
	var pb, pa *model.PublicAccessBlock
	if b.AccountAssets != nil {
		pb = b.AccountAssets.PublicAccessBlock
	}
	if a.AccountAssets != nil {
		pa = a.AccountAssets.PublicAccessBlock
	}
	vb, va := strings.Join(blockSettings(pb), ","), strings.Join(blockSettings(pa), ",")
	if vb == va {
		return nil
	}
	r := AssetChange{Change: Changed, Kind: AssetKindBlockPublicAccess, Asset: refOf(a), Before: vb, After: va}
	if len(turnedOff(pb, pa)) > 0 {
		r.Severity = SeverityMedium
	}
	return []AssetChange{r}
}

// assetChanges compares one asset in both snapshots.
func (c *computer) assetChanges(b, a *model.Resource) []AssetChange {
	ref, region := refOf(a), model.AssetRegion(a)
	var out []AssetChange
	row := func(change, kind string) *AssetChange {
		out = append(out, AssetChange{Change: change, Kind: kind, Asset: ref, Region: region})
		return &out[len(out)-1]
	}
	// The resource policy, statement by statement; each statement added is
	// judged alone, on the asset as it is now.
	c.statementRows(resourcePolicy(b), resourcePolicy(a), func(doc string) model.Resource { return withPolicy(a, doc) },
		func(change string, stmt json.RawMessage) {
			r := row(change, AssetKindResourcePolicy)
			r.Detail = stmt
		}, &out)
	if a.Function != nil && b.Function != nil {
		c.aliasRows(b, a, row, &out)
	}
	switch {
	case a.Bucket != nil && b.Bucket != nil:
		on := func(p *model.PublicAccessBlock) string { return strings.Join(blockSettings(p), ",") }
		if vb, va := on(b.Bucket.PublicAccessBlock), on(a.Bucket.PublicAccessBlock); vb != va {
			r := row(Changed, AssetKindBlockPublicAccess)
			r.Before, r.After = vb, va
			if len(turnedOff(b.Bucket.PublicAccessBlock, a.Bucket.PublicAccessBlock)) > 0 {
				r.Severity = SeverityMedium
				if now := c.public(a, true); c.public(b, false) == "" && now != "" {
					r.Exposure, r.Severity = now, SeverityHigh
				}
			}
		}
		c.aclChanges(b, a, row)
	case a.KMSKey != nil && b.KMSKey != nil:
		gb, ga := grants(b.KMSKey.Grants), grants(a.KMSKey.Grants)
		for _, id := range sortedKeys(ga) {
			if _, ok := gb[id]; !ok {
				r := row(Added, AssetKindKMSGrant)
				r.Detail, r.Severity = grantJSON(ga[id]), SeverityLow
				if acct := accountOfPrincipal(ga[id].GranteePrincipal); acct != "" && acct != a.AccountID {
					r.Exposure, r.Severity = string(findings.ExposureCrossAccountGrant), SeverityMedium
				}
			}
		}
		for _, id := range sortedKeys(gb) {
			if _, ok := ga[id]; !ok {
				row(Removed, AssetKindKMSGrant).Detail = grantJSON(gb[id])
			}
		}
	case a.Function != nil && b.Function != nil:
		if b.Function.Role != a.Function.Role {
			r := row(Changed, AssetKindExecutionRole)
			r.Before, r.After = b.Function.Role, a.Function.Role
			if r.After != "" {
				r.Severity = SeverityLow
			}
		}
	case a.Instance != nil && b.Instance != nil:
		ib, ia := b.Instance, a.Instance
		if ib.Role != ia.Role {
			r := row(Changed, AssetKindInstanceRole)
			r.Before, r.After = ib.Role, ia.Role
			if r.After != "" {
				r.Severity = SeverityLow
			}
		}
		if ib.PublicIP != ia.PublicIP {
			r := row(Changed, AssetKindPublicIP)
			r.Before, r.After = ib.PublicIP, ia.PublicIP
			switch {
			case ib.PublicIP == "":
				r.Severity = SeverityMedium
			case ia.PublicIP != "":
				r.Severity = SeverityLow
			}
		}
		if ib.State != ia.State {
			r := row(Changed, AssetKindInstanceState)
			r.Before, r.After = ib.State, ia.State
			if ia.State == "running" {
				r.Severity = SeverityLow
			}
		}
	case a.SecurityGroup != nil && b.SecurityGroup != nil:
		rb, ra := ingressSources(b.SecurityGroup.Ingress), ingressSources(a.SecurityGroup.Ingress)
		for _, k := range sortedKeys(ra) {
			if _, ok := rb[k]; !ok {
				r := row(Added, AssetKindIngress)
				src := ra[k]
				r.Detail, r.Severity = src.json(), SeverityLow
				switch {
				case src.openToInternet() && len(src.adminPorts()) > 0:
					r.Exposure, r.Severity = string(findings.ExposureOpenAdminPort), SeverityHigh
				case src.openToInternet():
					r.Severity = SeverityMedium
				}
			}
		}
		for _, k := range sortedKeys(rb) {
			if _, ok := ra[k]; !ok {
				row(Removed, AssetKindIngress).Detail = rb[k].json()
			}
		}
	}
	return out
}

// statementRows adds, through add, the statements of a policy added (pa
// against pb) and removed; then gives each row added to *out its exposure
// and severity: an added Allow by the exposure it alone gives the asset
// (judge makes the asset with a policy of that one statement), else low; a
// removed Deny low (it widens access).
func (c *computer) statementRows(pb, pa string, judge func(doc string) model.Resource, add func(change string, stmt json.RawMessage), out *[]AssetChange) {
	if pb == pa {
		return
	}
	before, _ := document(pb)
	after, _ := document(pa)
	sb, sa := statements(before["Statement"]), statements(after["Statement"])
	for _, st := range minus(sa, sb) {
		add(Added, st)
		r := &(*out)[len(*out)-1]
		r.Exposure = worstExposure(c.exposures(judge(`{"Version":"2012-10-17","Statement":[`+string(st)+`]}`), true))
		switch {
		case exposureSeverity(r.Exposure) != "":
			r.Severity = exposureSeverity(r.Exposure)
		case statementEffect(st) != "Deny":
			r.Severity = SeverityLow
		}
	}
	for _, st := range minus(sb, sa) {
		add(Removed, st)
		if statementEffect(st) == "Deny" {
			(*out)[len(*out)-1].Severity = SeverityLow
		}
	}
}

// aliasStatement is the detail of an alias_policy row.
type aliasStatement struct {
	Alias     string          `json:"alias"`
	Statement json.RawMessage `json:"statement"`
}

// aliasRows adds the statements of a function's aliases' policies added
// and removed (an alias added or removed counts with its whole policy),
// each judged as statementRows does.
func (c *computer) aliasRows(b, a *model.Resource, row func(change, kind string) *AssetChange, out *[]AssetChange) {
	names := map[string]bool{}
	for _, x := range b.Function.Aliases {
		names[x.Name] = true
	}
	for _, x := range a.Function.Aliases {
		names[x.Name] = true
	}
	policyOf := func(r *model.Resource, name string) string {
		if al := r.Function.Alias(name); al != nil {
			return al.Policy
		}
		return ""
	}
	for _, name := range sortedKeys(names) {
		judge := func(doc string) model.Resource {
			cp := withPolicy(a, "")
			x := *cp.Function
			x.Aliases = []model.FunctionAlias{{Name: name, Policy: doc}}
			cp.Function = &x
			return cp
		}
		c.statementRows(policyOf(b, name), policyOf(a, name), judge, func(change string, stmt json.RawMessage) {
			r := row(change, AssetKindAliasPolicy)
			r.Detail, _ = json.Marshal(aliasStatement{Alias: name, Statement: stmt})
		}, out)
	}
}

// resourcePolicy is an asset's resource policy, "" for none.
func resourcePolicy(r *model.Resource) string {
	_, text, _ := model.ResourcePolicy(r)
	return text
}

// withPolicy returns a copy of the asset whose resource policy is doc and
// nothing else grants: a bucket without its ACL, a function without its
// aliases.
func withPolicy(r *model.Resource, doc string) model.Resource {
	cp := *r
	switch {
	case r.Bucket != nil:
		x := *r.Bucket
		x.Policy, x.ACL, cp.Bucket = doc, nil, &x
	case r.KMSKey != nil:
		x := *r.KMSKey
		x.Policy, cp.KMSKey = doc, &x
	case r.Function != nil:
		x := *r.Function
		x.Policy, x.Aliases, cp.Function = doc, nil, &x
	case r.Secret != nil:
		x := *r.Secret
		x.Policy, cp.Secret = doc, &x
	}
	return cp
}

// public returns "public" when the asset is public by its policy in the
// newer (after) or older snapshot, "public-acl" when by its ACL, "" when
// it is not public.
func (c *computer) public(r *model.Resource, after bool) string {
	out := ""
	for _, e := range c.exposures(*r, after) {
		if e.Kind == findings.ExposurePublic || e.Kind == findings.ExposurePublicACL && out == "" {
			out = string(e.Kind)
		}
	}
	return out
}

// aclChanges adds, through row, the grants of a bucket's ACL added (each
// judged alone, on the bucket as it is now) and removed. An ACL the
// older snapshot did not read gives no rows.
func (c *computer) aclChanges(b, a *model.Resource, row func(change, kind string) *AssetChange) {
	if b.Bucket.ACL == nil || a.Bucket.ACL == nil {
		return
	}
	key := func(g model.BucketACLGrant) string { return g.GranteeType + " " + g.Grantee + " " + g.Permission }
	before, after := map[string]bool{}, map[string]bool{}
	for _, g := range b.Bucket.ACL.Grants {
		before[key(g)] = true
	}
	for _, g := range a.Bucket.ACL.Grants {
		after[key(g)] = true
		if before[key(g)] {
			continue
		}
		r := row(Added, AssetKindBucketACL)
		r.Detail, r.Severity = aclGrantJSON(g), SeverityLow
		one := *a
		x := *a.Bucket
		x.Policy, x.ACL = "", &model.BucketACL{OwnerID: a.Bucket.ACL.OwnerID, Grants: []model.BucketACLGrant{g}}
		one.Bucket = &x
		if r.Exposure = worstExposure(c.exposures(one, true)); exposureSeverity(r.Exposure) != "" {
			r.Severity = exposureSeverity(r.Exposure)
		}
	}
	for _, g := range b.Bucket.ACL.Grants {
		if !after[key(g)] {
			row(Removed, AssetKindBucketACL).Detail = aclGrantJSON(g)
		}
	}
}

func aclGrantJSON(g model.BucketACLGrant) json.RawMessage {
	b, _ := json.Marshal(g)
	return b
}

// exposureRank orders the exposure kinds, worst first.
var exposureRank = []findings.ExposureKind{findings.ExposurePublic, findings.ExposurePublicACL, findings.ExposureOpenAdminPort, findings.ExposureCrossAccount,
	findings.ExposureCrossAccountACL, findings.ExposureCrossAccountGrant, findings.ExposureAccountManage}

// worstExposure is the worst kind of the exposures, "" for none.
func worstExposure(es []findings.Exposure) string {
	for _, k := range exposureRank {
		for _, e := range es {
			if e.Kind == k {
				return string(k)
			}
		}
	}
	return ""
}

// exposureSeverity ranks an exposure as the findings do: public and open
// admin ports high, the others medium; "" for none.
func exposureSeverity(kind string) string {
	switch findings.ExposureKind(kind) {
	case findings.ExposurePublic, findings.ExposurePublicACL, findings.ExposureOpenAdminPort:
		return SeverityHigh
	case findings.ExposureCrossAccount, findings.ExposureCrossAccountACL, findings.ExposureCrossAccountGrant, findings.ExposureAccountManage:
		return SeverityMedium
	}
	return ""
}

// statementEffect is a statement's Effect.
func statementEffect(stmt json.RawMessage) string {
	var s struct{ Effect string }
	_ = json.Unmarshal(stmt, &s)
	return s.Effect
}

// blockSettings are the Block Public Access settings on, in S3's order.
func blockSettings(p *model.PublicAccessBlock) []string {
	if p == nil {
		return nil
	}
	var on []string
	for _, s := range []struct {
		name string
		v    bool
	}{{"BlockPublicAcls", p.BlockPublicAcls}, {"IgnorePublicAcls", p.IgnorePublicAcls},
		{"BlockPublicPolicy", p.BlockPublicPolicy}, {"RestrictPublicBuckets", p.RestrictPublicBuckets}} {
		if s.v {
			on = append(on, s.name)
		}
	}
	return on
}

// turnedOff are the settings on in b and off in a.
func turnedOff(b, a *model.PublicAccessBlock) []string {
	var out []string
	for _, s := range blockSettings(b) {
		if !slices.Contains(blockSettings(a), s) {
			out = append(out, s)
		}
	}
	return out
}

// grants indexes a key's grants by ID.
func grants(list []model.KMSGrant) map[string]model.KMSGrant {
	out := map[string]model.KMSGrant{}
	for _, g := range list {
		out[g.GrantID] = g
	}
	return out
}

func grantJSON(g model.KMSGrant) json.RawMessage {
	b, _ := json.Marshal(g)
	return b
}

// accountOfPrincipal is the account of an ARN or account ID, "" for a
// service or another principal.
func accountOfPrincipal(p string) string {
	if f := strings.Split(p, ":"); len(f) >= 5 && strings.HasPrefix(p, "arn:") {
		return f[4]
	}
	if len(p) == 12 {
		if _, err := strconv.Atoi(p); err == nil {
			return p
		}
	}
	return ""
}

// ingressSource is one source of one inbound rule.
type ingressSource struct {
	Protocol string `json:"protocol"`
	FromPort int    `json:"from_port"`
	ToPort   int    `json:"to_port"`
	CIDR     string `json:"cidr,omitempty"`
	IPv6CIDR string `json:"ipv6_cidr,omitempty"`
	Group    string `json:"group,omitempty"`
}

func (s ingressSource) json() json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func (s ingressSource) rule() model.IPRule {
	r := model.IPRule{Protocol: s.Protocol, FromPort: s.FromPort, ToPort: s.ToPort}
	if s.CIDR != "" {
		r.CIDRs = []string{s.CIDR}
	}
	if s.IPv6CIDR != "" {
		r.IPv6CIDRs = []string{s.IPv6CIDR}
	}
	return r
}

func (s ingressSource) openToInternet() bool { return s.rule().OpenToInternet() }

// adminPorts are the admin ports (findings.AdminPorts) the source's rule
// covers.
func (s ingressSource) adminPorts() []int {
	var out []int
	for _, p := range findings.AdminPorts {
		if s.rule().CoversPort(p) {
			out = append(out, p)
		}
	}
	return out
}

// ingressSources splits a group's inbound rules into their sources, by a
// key of protocol, ports and source.
func ingressSources(rules []model.IPRule) map[string]ingressSource {
	out := map[string]ingressSource{}
	for _, r := range rules {
		base := ingressSource{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort}
		for _, v := range r.CIDRs {
			s := base
			s.CIDR = v
			out[string(s.json())] = s
		}
		for _, v := range r.IPv6CIDRs {
			s := base
			s.IPv6CIDR = v
			out[string(s.json())] = s
		}
		for _, v := range r.Groups {
			s := base
			s.Group = v
			out[string(s.json())] = s
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// assetWord names an asset's kind in a sentence.
func assetWord(t model.ResourceType) string {
	switch t {
	case model.TypeS3Bucket:
		return "bucket"
	case model.TypeKMSKey:
		return "KMS key"
	case model.TypeLambdaFunction:
		return "function"
	case model.TypeSecret:
		return "secret"
	case model.TypeEC2Instance:
		return "instance"
	case model.TypeSecurityGroup:
		return "security group"
	}
	return strings.ReplaceAll(string(t), "_", " ")
}

// policyWord names an asset's resource policy.
func policyWord(t model.ResourceType) string {
	switch t {
	case model.TypeS3Bucket:
		return "bucket policy"
	case model.TypeKMSKey:
		return "key policy"
	case model.TypeLambdaFunction:
		return "function policy"
	case model.TypeSecret:
		return "secret policy"
	}
	return "resource policy"
}

// statementWords says what a statement now allows or denies (or no longer
// does), to whom: "now allows s3:GetObject to *".
func statementWords(stmt json.RawMessage, added bool) string {
	d, err := policy.Parse(`{"Statement":[` + string(stmt) + `]}`)
	if err != nil || len(d.Statement) != 1 {
		return "has statement " + string(stmt)
	}
	s := d.Statement[0]
	verb := "allows"
	if s.Effect == "Deny" {
		verb = "denies"
	}
	if added {
		verb = "now " + verb
	} else {
		verb = "no longer " + verb
	}
	actions := strings.Join(s.Action, ", ")
	if len(s.NotAction) > 0 {
		actions = "every action but " + strings.Join(s.NotAction, ", ")
	}
	var whom []string
	for _, kind := range sortedKeys(s.Principal) {
		if kind == "*" {
			whom = append(whom, "*")
			continue
		}
		whom = append(whom, s.Principal[kind]...)
	}
	if len(s.NotPrincipal) > 0 {
		whom = append(whom, "everyone but the named principals")
	}
	out := verb + " " + actions
	if len(whom) > 0 {
		out += " to " + strings.Join(whom, ", ")
	}
	if len(s.Condition) > 0 {
		out += " on a condition"
	}
	return out
}

// assetText says an asset change in a sentence.
func assetText(a AssetChange) string {
	name := assetWord(a.Asset.Type) + " " + a.Asset.Name
	where := in(a.Asset.AccountID)
	if a.Region != "" {
		where += " (" + a.Region + ")"
	}
	note := ""
	if a.Exposure != "" {
		note = " (" + a.Exposure + ")"
	}
	if a.Asset.Type == model.TypeAccountAssets {
		name = "account " + a.Asset.AccountID
		where = ""
	}
	switch a.Kind {
	case AssetKindAsset:
		return name + where + " " + a.Change + note
	case AssetKindResourcePolicy:
		return policyWord(a.Asset.Type) + " of " + name + where + " " + statementWords(a.Detail, a.Change == Added) + note
	case AssetKindBlockPublicAccess:
		var b, x *model.PublicAccessBlock
		b, x = settingsOf(a.Before), settingsOf(a.After)
		var parts []string
		if off := turnedOff(b, x); len(off) > 0 {
			parts = append(parts, strings.Join(off, ", ")+" turned off")
		}
		if on := turnedOff(x, b); len(on) > 0 {
			parts = append(parts, strings.Join(on, ", ")+" turned on")
		}
		s := "Block Public Access of " + name + where + ": " + strings.Join(parts, "; ")
		if a.Exposure != "" {
			s += " (now public)"
		}
		return s
	case AssetKindKMSGrant:
		var g model.KMSGrant
		_ = json.Unmarshal(a.Detail, &g)
		verb := "now grants"
		if a.Change == Removed {
			verb = "no longer grants"
		}
		return fmt.Sprintf("%s%s %s %s to %s (grant %s)%s", name, where, verb, strings.Join(g.Operations, ", "), g.GranteePrincipal, shortID(g.GrantID), note)
	case AssetKindAliasPolicy:
		var d aliasStatement
		_ = json.Unmarshal(a.Detail, &d)
		return "policy of alias " + d.Alias + " of " + name + where + " " + statementWords(d.Statement, a.Change == Added) + note
	case AssetKindBucketACL:
		var g model.BucketACLGrant
		_ = json.Unmarshal(a.Detail, &g)
		verb := "now grants"
		if a.Change == Removed {
			verb = "no longer grants"
		}
		return fmt.Sprintf("ACL of %s%s %s %s to %s%s", name, where, verb, g.Permission, aclGranteeWords(g), note)
	case AssetKindExecutionRole, AssetKindInstanceRole:
		switch {
		case a.After == "":
			return fmt.Sprintf("%s%s no longer runs as a role (was %s)", name, where, roleName(a.Before))
		case a.Before == "":
			return fmt.Sprintf("%s%s now runs as role %s", name, where, roleName(a.After))
		}
		return fmt.Sprintf("%s%s now runs as role %s (was %s)", name, where, roleName(a.After), roleName(a.Before))
	case AssetKindPublicIP:
		switch {
		case a.After == "":
			return fmt.Sprintf("%s%s no longer has a public IP (was %s)", name, where, a.Before)
		case a.Before == "":
			return fmt.Sprintf("%s%s now has public IP %s", name, where, a.After)
		}
		return fmt.Sprintf("%s%s now has public IP %s (was %s)", name, where, a.After, a.Before)
	case AssetKindInstanceState:
		return fmt.Sprintf("%s%s is %s (was %s)", name, where, a.After, a.Before)
	case AssetKindIngress:
		var s ingressSource
		_ = json.Unmarshal(a.Detail, &s)
		verb := "now admits"
		if a.Change == Removed {
			verb = "no longer admits"
		}
		src := s.CIDR + s.IPv6CIDR + s.Group
		out := fmt.Sprintf("%s%s %s %s from %s", name, where, verb, portWords(s), src)
		if s.openToInternet() && a.Change == Added {
			out += " (open to the internet"
			if ports := s.adminPorts(); len(ports) > 0 {
				var ps []string
				for _, p := range ports {
					ps = append(ps, strconv.Itoa(p))
				}
				out += " on admin port " + strings.Join(ps, ", ")
			}
			out += ")"
		}
		return out
	}
	return name + where + " " + a.Change
}

// settingsOf reads Block Public Access settings written as
// blockSettings' names.
func settingsOf(on string) *model.PublicAccessBlock {
	if on == "" {
		return nil
	}
	p := &model.PublicAccessBlock{}
	for _, s := range strings.Split(on, ",") {
		switch s {
		case "BlockPublicAcls":
			p.BlockPublicAcls = true
		case "IgnorePublicAcls":
			p.IgnorePublicAcls = true
		case "BlockPublicPolicy":
			p.BlockPublicPolicy = true
		case "RestrictPublicBuckets":
			p.RestrictPublicBuckets = true
		}
	}
	return p
}

func portWords(s ingressSource) string {
	switch {
	case s.Protocol == "-1":
		return "all traffic"
	case s.FromPort == s.ToPort:
		return fmt.Sprintf("%s %d", s.Protocol, s.FromPort)
	}
	return fmt.Sprintf("%s %d-%d", s.Protocol, s.FromPort, s.ToPort)
}

func roleName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// aclGranteeWords names an ACL grant's grantee: a group by its name
// (AllUsers, AuthenticatedUsers, LogDelivery), a canonical user by the
// first 12 characters of its ID.
func aclGranteeWords(g model.BucketACLGrant) string {
	if g.GranteeType == model.ACLGroup {
		return g.Grantee[strings.LastIndexByte(g.Grantee, '/')+1:]
	}
	return "canonical user " + shortID(g.Grantee)
}
