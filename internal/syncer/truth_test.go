package syncer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// expectedGraph derives, from the emulator's ground truth alone, the graph
// a sync of the account must store. It shares no code with the collector:
// it walks awsfake's state structs, where the collector reads the IAM wire
// format, so a mistake on either side shows up as a difference.
//
// What the collector cannot know, it must not claim either: role
// descriptions and maximum session durations are not in
// GetAccountAuthorizationDetails (and warden makes no per-role call for
// them), so they stay empty here too.
func expectedGraph(t testing.TB, truth *awsfake.Account, awsManaged []*awsfake.ManagedPolicy) *model.Graph {
	t.Helper()
	acct := truth.ID
	in := truth.IAM
	e := &expect{t: t, g: &model.Graph{}, ents: map[string]bool{}}

	root := in.Root
	rootKeys := 0
	for _, active := range []bool{root.AccessKey1Active, root.AccessKey2Active} {
		if active {
			rootKeys++
		}
	}
	accountID := model.AccountResourceID(acct)
	e.resource(model.Resource{ID: accountID, Type: model.TypeAccount, AccountID: acct, Name: acct, CreatedAt: root.CreatedAt,
		Account: &model.AccountAttrs{RootMFAActive: root.MFAActive, RootAccessKeys: rootKeys,
			RootPasswordLastUse: root.PasswordLastUsed, CredentialReport: true}})

	// Attachment and boundary counts, from every principal's attachments.
	attachments := map[string]int32{}
	boundaries := map[string]int32{}
	for _, u := range in.Users {
		for _, p := range u.AttachedPolicies {
			attachments[p]++
		}
		if u.PermissionsBoundary != "" {
			boundaries[u.PermissionsBoundary]++
		}
	}
	for _, g := range in.Groups {
		for _, p := range g.AttachedPolicies {
			attachments[p]++
		}
	}
	for _, r := range in.Roles {
		for _, p := range r.AttachedPolicies {
			attachments[p]++
		}
		if r.PermissionsBoundary != "" {
			boundaries[r.PermissionsBoundary]++
		}
	}

	// Managed policies: every customer managed one, and the AWS managed
	// ones in use in the account (attached or a boundary).
	type managed struct {
		*awsfake.ManagedPolicy
		aws bool
	}
	var policies []managed
	for _, p := range in.Policies {
		policies = append(policies, managed{p, false})
	}
	for _, p := range awsManaged {
		if attachments[p.ARN] > 0 || boundaries[p.ARN] > 0 {
			policies = append(policies, managed{p, true})
		}
	}
	for _, p := range policies {
		var doc string
		for _, v := range p.Versions {
			if v.ID == p.DefaultVersionID {
				doc = e.normalize(v.Document)
			}
		}
		e.resource(model.Resource{ID: p.ARN, Type: model.TypeIAMPolicy, AccountID: acct, Name: p.Name, ARN: p.ARN, Path: p.Path,
			CreatedAt: p.CreatedAt, Policy: &model.PolicyAttrs{PolicyID: p.ID, AWSManaged: p.aws,
				Description: p.Description, DefaultVersionID: p.DefaultVersionID, Document: doc, AttachmentCount: attachments[p.ARN],
				BoundaryCount: boundaries[p.ARN], IsAttachable: p.IsAttachable, VersionCount: len(p.Versions)}})
		e.entitlement(p.ARN, model.EntAttached)
	}

	for _, g := range in.Groups {
		e.resource(model.Resource{ID: g.ARN, Type: model.TypeIAMGroup, AccountID: acct, Name: g.Name, ARN: g.ARN, Path: g.Path,
			CreatedAt: g.CreatedAt, Group: &model.GroupAttrs{GroupID: g.ID}})
		e.entitlement(g.ARN, model.EntMember)
		e.inline(acct, g.ARN, g.InlinePolicies)
		e.attached(g.ARN, g.AttachedPolicies, model.ViaDirect, "")
	}

	synced := map[string]bool{}
	for _, u := range in.Users {
		synced[u.ARN] = true
	}
	for _, r := range in.Roles {
		synced[r.ARN] = true
	}

	for _, u := range in.Users {
		attrs := &model.UserAttrs{UserID: u.ID, PermissionsBoundary: u.PermissionsBoundary, ConsoleAccess: u.LoginProfile != nil,
			MFAActive: len(u.MFADevices) > 0, CredentialReport: true, PasswordLastUsed: u.PasswordLastUsed}
		if u.LoginProfile != nil {
			changed := u.LoginProfile.PasswordLastChanged
			attrs.PasswordLastChanged = &changed
		}
		e.resource(model.Resource{ID: u.ARN, Type: model.TypeIAMUser, AccountID: acct, Name: u.Name, ARN: u.ARN, Path: u.Path,
			CreatedAt: u.CreatedAt, Tags: tags(u.Tags), User: attrs})
		e.inline(acct, u.ARN, u.InlinePolicies)
		e.attached(u.ARN, u.AttachedPolicies, model.ViaDirect, "")
		for _, name := range u.Groups {
			g := in.Groups[name]
			if g == nil {
				t.Fatalf("ground truth: user %s is in group %s, which does not exist", u.Name, name)
			}
			e.grant(u.ARN, model.EntitlementID(g.ARN, model.EntMember), model.ViaDirect, "")
			e.attached(u.ARN, g.AttachedPolicies, model.ViaGroup, g.ARN)
			for pname := range g.InlinePolicies {
				e.grant(u.ARN, model.EntitlementID(model.InlinePolicyID(g.ARN, pname), model.EntAttached), model.ViaGroup, g.ARN)
			}
		}
		for _, k := range u.AccessKeys {
			id := model.AccessKeyID(acct, k.ID)
			created := k.CreatedAt
			e.resource(model.Resource{ID: id, Type: model.TypeAccessKey, AccountID: acct, Name: k.ID, ParentID: u.ARN, CreatedAt: created,
				AccessKey: &model.AccessKeyAttrs{Status: k.Status, LastRotated: &created, LastUsed: k.LastUsed,
					LastUsedService: notAvailable(k.LastUsedService), LastUsedRegion: notAvailable(k.LastUsedRegion)}})
			e.entitlement(id, model.EntOwner)
			e.grant(u.ARN, model.EntitlementID(id, model.EntOwner), model.ViaDirect, "")
		}
		for _, m := range u.MFADevices {
			id := model.MFADeviceID(acct, m.SerialNumber)
			enabled := m.EnabledAt
			e.resource(model.Resource{ID: id, Type: model.TypeMFADevice, AccountID: acct, Name: m.SerialNumber, ParentID: u.ARN,
				MFADevice: &model.MFADeviceAttrs{Virtual: m.Virtual, EnabledAt: &enabled, SerialName: m.SerialNumber}})
			e.entitlement(id, model.EntOwner)
			e.grant(u.ARN, model.EntitlementID(id, model.EntOwner), model.ViaDirect, "")
		}
	}

	for _, r := range in.Roles {
		trust := e.normalize(r.AssumeRolePolicy)
		attrs := &model.RoleAttrs{RoleID: r.ID, PermissionsBoundary: r.PermissionsBoundary, TrustPolicy: trust,
			LastUsed: r.LastUsed, LastUsedRegion: r.LastUsedRegion}
		principals, err := policy.TrustedPrincipals(trust)
		if err != nil {
			t.Fatalf("ground truth: trust policy of %s: %v", r.Name, err)
		}
		e.resource(model.Resource{ID: r.ARN, Type: model.TypeIAMRole, AccountID: acct, Name: r.Name, ARN: r.ARN, Path: r.Path,
			CreatedAt: r.CreatedAt, Tags: tags(r.Tags), Role: attrs})
		e.entitlement(r.ARN, model.EntAssume)
		for _, p := range principals {
			attrs.TrustedPrincipals = append(attrs.TrustedPrincipals, model.TrustedEntity{Kind: p.Kind, Value: p.Value, Conditions: p.Conditions})
			holder := ""
			switch {
			case p.Kind == "AWS" && synced[p.Value]:
				holder = p.Value
			case p.Kind == "AWS" && (p.Value == acct || p.Value == "arn:aws:iam::"+acct+":root"):
				holder = accountID
			default:
				holder = model.ExternalPrincipalID(p.Kind, p.Value)
				ext := model.Resource{ID: holder, Type: model.TypeExternalPrincipal, Name: p.Value}
				if strings.HasPrefix(p.Value, "arn:") {
					ext.ARN = p.Value
				}
				e.resourceOnce(ext)
			}
			e.grant(holder, model.EntitlementID(r.ARN, model.EntAssume), model.ViaTrust, "")
		}
		e.inline(acct, r.ARN, r.InlinePolicies)
		e.attached(r.ARN, r.AttachedPolicies, model.ViaDirect, "")
	}
	e.g.Sort()
	return e.g
}

// expect accumulates an expected graph.
type expect struct {
	t    testing.TB
	g    *model.Graph
	ents map[string]bool
	ids  map[string]bool
}

func (e *expect) resource(r model.Resource) {
	if e.ids == nil {
		e.ids = map[string]bool{}
	}
	if e.ids[r.ID] {
		e.t.Fatalf("ground truth: two resources with ID %s", r.ID)
	}
	e.ids[r.ID] = true
	e.g.Resources = append(e.g.Resources, r)
}

func (e *expect) resourceOnce(r model.Resource) {
	if !e.ids[r.ID] {
		e.resource(r)
	}
}

// entitlement adds the named entitlement of a resource once and returns
// its ID.
func (e *expect) entitlement(resourceID, name string) string {
	id := model.EntitlementID(resourceID, name)
	if !e.ents[id] {
		e.ents[id] = true
		e.g.Entitlements = append(e.g.Entitlements, model.Entitlement{ID: id, ResourceID: resourceID, Name: name})
	}
	return id
}

func (e *expect) grant(principal, ent string, via model.Provenance, viaID string) {
	e.g.Grants = append(e.g.Grants, model.Grant{PrincipalID: principal, EntitlementID: ent, Provenance: via, ViaID: viaID})
}

func (e *expect) attached(principal string, arns []string, via model.Provenance, viaID string) {
	for _, arn := range arns {
		e.grant(principal, model.EntitlementID(arn, model.EntAttached), via, viaID)
	}
}

func (e *expect) inline(acct, owner string, docs map[string]string) {
	for name, doc := range docs {
		id := model.InlinePolicyID(owner, name)
		e.resource(model.Resource{ID: id, Type: model.TypeInlinePolicy, AccountID: acct, Name: name, ParentID: owner,
			InlinePolicy: &model.InlinePolicyAttrs{Document: e.normalize(doc)}})
		e.entitlement(id, model.EntAttached)
		e.grant(owner, model.EntitlementID(id, model.EntAttached), model.ViaInline, "")
	}
}

func (e *expect) normalize(doc string) string {
	n, err := policy.Normalize(doc)
	if err != nil {
		e.t.Fatalf("ground truth: policy document does not normalize: %v\n%s", err, doc)
	}
	return n
}

func tags(ts []awsfake.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

// notAvailable maps AWS's "N/A" (never used) to the empty string the graph
// stores.
func notAvailable(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

// canonical returns a copy of g fit for comparison: sorted, every time in
// UTC at the second (the credential report's precision, and what survives
// any store), and empty collections as nil.
func canonical(g *model.Graph) *model.Graph {
	out := &model.Graph{
		Resources:    append([]model.Resource(nil), g.Resources...),
		Entitlements: append([]model.Entitlement(nil), g.Entitlements...),
		Grants:       append([]model.Grant(nil), g.Grants...),
	}
	for i := range out.Resources {
		r := &out.Resources[i]
		r.CreatedAt = second(r.CreatedAt)
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
		if u := r.User; u != nil {
			c := *u
			c.PasswordLastUsed, c.PasswordLastChanged = secondPtr(c.PasswordLastUsed), secondPtr(c.PasswordLastChanged)
			r.User = &c
		}
		if ro := r.Role; ro != nil {
			c := *ro
			c.LastUsed = secondPtr(c.LastUsed)
			c.TrustedPrincipals = append([]model.TrustedEntity(nil), c.TrustedPrincipals...)
			for j := range c.TrustedPrincipals {
				if len(c.TrustedPrincipals[j].Conditions) == 0 {
					c.TrustedPrincipals[j].Conditions = nil
				}
			}
			sort.Slice(c.TrustedPrincipals, func(a, b int) bool {
				x, y := c.TrustedPrincipals[a], c.TrustedPrincipals[b]
				if x.Kind != y.Kind {
					return x.Kind < y.Kind
				}
				if x.Value != y.Value {
					return x.Value < y.Value
				}
				return strings.Join(x.Conditions, ",") < strings.Join(y.Conditions, ",")
			})
			if len(c.TrustedPrincipals) == 0 {
				c.TrustedPrincipals = nil
			}
			r.Role = &c
		}
		if k := r.AccessKey; k != nil {
			c := *k
			c.LastRotated, c.LastUsed = secondPtr(c.LastRotated), secondPtr(c.LastUsed)
			r.AccessKey = &c
		}
		if a := r.Account; a != nil {
			c := *a
			c.RootPasswordLastUse = secondPtr(c.RootPasswordLastUse)
			r.Account = &c
		}
		if m := r.MFADevice; m != nil {
			c := *m
			c.EnabledAt = secondPtr(c.EnabledAt)
			r.MFADevice = &c
		}
	}
	if len(out.Resources) == 0 {
		out.Resources = nil
	}
	if len(out.Entitlements) == 0 {
		out.Entitlements = nil
	}
	if len(out.Grants) == 0 {
		out.Grants = nil
	}
	out.Sort()
	return out
}

func second(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(t.Unix(), 0).UTC()
}

func secondPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := second(*t)
	return &s
}

// graphDiff describes how got differs from want, resource by resource,
// entitlement by entitlement and grant by grant, at most limit lines; ""
// when they are equal.
func graphDiff(got, want *model.Graph, limit int) string {
	var lines []string
	add := func(format string, args ...any) {
		if len(lines) < limit {
			lines = append(lines, fmt.Sprintf(format, args...))
		} else if len(lines) == limit {
			lines = append(lines, "… (more differences)")
		}
	}
	gotRes, wantRes := map[string]model.Resource{}, map[string]model.Resource{}
	for _, r := range got.Resources {
		gotRes[r.ID] = r
	}
	for _, r := range want.Resources {
		wantRes[r.ID] = r
	}
	for _, r := range want.Resources {
		g, ok := gotRes[r.ID]
		switch {
		case !ok:
			add("missing resource %s", jsonOf(r))
		case jsonOf(g) != jsonOf(r):
			add("resource %s differs:\n   got  %s\n   want %s", r.ID, jsonOf(g), jsonOf(r))
		}
	}
	for _, r := range got.Resources {
		if _, ok := wantRes[r.ID]; !ok {
			add("unexpected resource %s", jsonOf(r))
		}
	}
	diffSet(add, "entitlement", keysOf(got.Entitlements, func(e model.Entitlement) string { return jsonOf(e) }),
		keysOf(want.Entitlements, func(e model.Entitlement) string { return jsonOf(e) }))
	diffSet(add, "grant", keysOf(got.Grants, func(g model.Grant) string { return jsonOf(g) }),
		keysOf(want.Grants, func(g model.Grant) string { return jsonOf(g) }))
	if len(lines) == 0 && len(got.Resources)+len(got.Entitlements)+len(got.Grants) != len(want.Resources)+len(want.Entitlements)+len(want.Grants) {
		add("duplicates: got %d resources, %d entitlements, %d grants; want %d, %d, %d",
			len(got.Resources), len(got.Entitlements), len(got.Grants), len(want.Resources), len(want.Entitlements), len(want.Grants))
	}
	return strings.Join(lines, "\n")
}

func keysOf[T any](xs []T, key func(T) string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[key(x)]++
	}
	return m
}

func diffSet(add func(string, ...any), what string, got, want map[string]int) {
	var missing, extra []string
	for k, n := range want {
		if got[k] < n {
			missing = append(missing, k)
		}
	}
	for k, n := range got {
		if want[k] < n {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		add("missing %s %s", what, k)
	}
	for _, k := range extra {
		add("unexpected %s %s", what, k)
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
