package syncer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Refresh brings a connection's latest snapshot up to date after a change
// to one account's IAM, without a full sync: it rereads that account's IAM
// (GetAccountAuthorizationDetails pages and the reused credential report,
// and access keys only for the users named in changed), and stores a new
// snapshot that is the latest one with that account's IAM replaced. The
// organization, Identity Center and the other accounts are kept as they
// were; links between them and the account (reserved roles, trust across
// accounts) are made again. It returns store.ErrNoSnapshot when there is
// nothing to update.
func Refresh(ctx context.Context, sess *awsapi.Session, st store.Store, connectionID, accountID string, changed []string, o collect.IAMOptions) (*model.Snapshot, error) {
	prev, old, err := latest(ctx, st, connectionID)
	if err != nil {
		return nil, err
	}
	before := sess.Calls()
	start := time.Now().UTC()
	isChanged := map[string]bool{}
	for _, u := range changed {
		isChanged[strings.ToLower(u)] = true
	}
	o.AccessKeys = true
	o.KeepKeysOf = func(user string) bool { return !isChanged[strings.ToLower(user)] }
	res, err := collect.CollectIAM(ctx, sess.IAM(accountID), accountID, o)
	if err != nil {
		return nil, fmt.Errorf("refresh account %s: %w", accountID, err)
	}
	errs := refreshedErrors(prev.Errors, func(e model.SourceError) bool {
		return e.AccountID == accountID && accountSources[e.Source]
	}, res.Errors)
	return storeRefreshed(ctx, sess, st, prev, spliceAccount(old, &res.Graph, accountID, isChanged), errs, start, before)
}

// accountSources are the sources of the problems of an account's own IAM
// read, which a refresh of the account reads again.
var accountSources = map[string]bool{collect.SourceIAM: true, collect.SourceCredentialReport: true,
	collect.SourceAccessKeys: true, collect.SourceMFADevices: true}

// refreshedErrors returns the problems of a refreshed snapshot: the
// previous snapshot's, less those of the part read again (reread), with
// the fresh read's own.
func refreshedErrors(prev []model.SourceError, reread func(model.SourceError) bool, fresh []model.SourceError) []model.SourceError {
	var out []model.SourceError
	for _, e := range prev {
		if !reread(e) {
			out = append(out, e)
		}
	}
	return append(out, fresh...)
}

// storeRefreshed writes a refreshed graph as a new snapshot with its
// problems (partial when there are any: every part that failed is listed),
// the previous one's account tally and the calls the refresh made.
func storeRefreshed(ctx context.Context, sess *awsapi.Session, st store.Store, prev *model.Snapshot, g *model.Graph, errs []model.SourceError, start time.Time, before map[string]int64) (*model.Snapshot, error) {
	status := model.StatusComplete
	if len(errs) > 0 {
		status = model.StatusPartial
	}
	snap := &model.Snapshot{ConnectionID: prev.ConnectionID, StartedAt: start, FinishedAt: time.Now().UTC(), Status: status,
		Errors: errs, Accounts: prev.Accounts, Counts: counts(g), APICalls: map[string]int64{}}
	for k, v := range sess.Calls() {
		if d := v - before[k]; d > 0 {
			snap.APICalls[k] = d
		}
	}
	id, err := st.WriteSnapshot(ctx, snap, g)
	if err != nil {
		return nil, fmt.Errorf("store the refreshed snapshot: %w", err)
	}
	snap.ID = id
	return snap, nil
}

// latest returns a connection's latest snapshot and its graph.
func latest(ctx context.Context, st store.Store, connectionID string) (*model.Snapshot, *model.Graph, error) {
	prev, err := st.LatestSnapshot(ctx, connectionID)
	if err != nil {
		return nil, nil, err
	}
	g, err := st.Graph(ctx, prev.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot %d: %w", prev.ID, err)
	}
	return prev, g, nil
}

// inAccountIAM reports whether a resource is part of an account's own IAM,
// which a refresh of that account replaces. AWS managed policies and
// principals outside the account are shared, and recomputed instead.
func inAccountIAM(r *model.Resource, accountID string) bool {
	if r.AccountID != accountID {
		return false
	}
	switch r.Type {
	case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeInlinePolicy, model.TypeAccessKey, model.TypeMFADevice:
		return true
	case model.TypeIAMPolicy:
		return r.Policy == nil || !r.Policy.AWSManaged
	}
	return false
}

// spliceAccount returns old with accountID's IAM replaced by fresh, keeping
// the access keys of the users not in changed (fresh did not read them).
func spliceAccount(old, fresh *model.Graph, accountID string, changed map[string]bool) *model.Graph {
	byID := make(map[string]*model.Resource, len(old.Resources))
	for i := range old.Resources {
		byID[old.Resources[i].ID] = &old.Resources[i]
	}
	keptKey := func(r *model.Resource) bool {
		if r.Type != model.TypeAccessKey {
			return false
		}
		owner := r.ParentID[strings.LastIndexByte(r.ParentID, '/')+1:]
		return !changed[strings.ToLower(owner)]
	}
	replaced := map[string]bool{}
	var kept model.Graph
	for i := range old.Resources {
		r := &old.Resources[i]
		// The account itself is replaced too unless it carries the
		// organization's view, which the merge below keeps.
		ownAccount := r.Type == model.TypeAccount && r.AccountID == accountID && (r.Account == nil || r.Account.Org == nil)
		if (inAccountIAM(r, accountID) && !keptKey(r)) || ownAccount {
			replaced[r.ID] = true
			continue
		}
		kept.Resources = append(kept.Resources, *r)
	}
	freshIDs := make(map[string]bool, len(fresh.Resources))
	for _, r := range fresh.Resources {
		freshIDs[r.ID] = true
	}
	for _, e := range old.Entitlements {
		if !replaced[e.ResourceID] {
			kept.Entitlements = append(kept.Entitlements, e)
		}
	}
	for _, gr := range old.Grants {
		r := byID[entitlementResource(gr.EntitlementID)]
		switch {
		case r != nil && replaced[r.ID]:
			// Offered by a replaced resource: the fresh read has it.
		case !replaced[gr.PrincipalID]:
			kept.Grants = append(kept.Grants, gr)
		case !freshIDs[gr.PrincipalID]:
			// The principal is gone.
		case r != nil && r.Type == model.TypeAccessKey:
			kept.Grants = append(kept.Grants, gr) // a kept key's owner
		case r != nil && r.Policy != nil && r.Policy.AWSManaged:
			// The fresh read gives this account's AWS managed policies.
		default:
			kept.Grants = append(kept.Grants, gr) // links made outside the account's IAM
		}
	}
	m := newMerger()
	m.add(kept)
	m.add(*fresh)
	g := m.graph()
	resolveCrossAccount(g)
	linkReservedRoles(g)
	recountAWSManaged(g)
	dropUnusedExternals(g)
	return g
}

// entitlementResource is the resource part of an entitlement ID.
func entitlementResource(id string) string { return id[:max(0, strings.LastIndexByte(id, '#'))] }

// dropUnusedExternals removes external principals no grant names any more.
func dropUnusedExternals(g *model.Graph) {
	used := map[string]bool{}
	for _, gr := range g.Grants {
		used[gr.PrincipalID] = true
	}
	res := g.Resources[:0]
	for _, r := range g.Resources {
		if r.Type != model.TypeExternalPrincipal || used[r.ID] {
			res = append(res, r)
		}
	}
	g.Resources = res
}

// recountAWSManaged recomputes each AWS managed policy's attachment and
// boundary counts over the whole graph, lists it under the lowest account
// using it, and drops the ones no principal uses any more (AWS reports an
// AWS managed policy only where it is used).
func recountAWSManaged(g *model.Graph) {
	types := make(map[string]*model.Resource, len(g.Resources))
	for i := range g.Resources {
		types[g.Resources[i].ID] = &g.Resources[i]
	}
	attach, bound, account := map[string]int32{}, map[string]int32{}, map[string]string{}
	use := func(policy, acct string) {
		if a, ok := account[policy]; !ok || acct < a {
			account[policy] = acct
		}
	}
	for _, gr := range g.Grants {
		p := types[entitlementResource(gr.EntitlementID)]
		who := types[gr.PrincipalID]
		if p == nil || p.Policy == nil || !p.Policy.AWSManaged || who == nil || gr.Provenance != model.ViaDirect {
			continue
		}
		switch who.Type {
		case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole:
			attach[p.ID]++
			use(p.ID, who.AccountID)
		}
	}
	for _, r := range g.Resources {
		var b string
		switch {
		case r.User != nil:
			b = r.User.PermissionsBoundary
		case r.Role != nil:
			b = r.Role.PermissionsBoundary
		}
		if p := types[b]; p != nil && p.Policy != nil && p.Policy.AWSManaged {
			bound[b]++
			use(b, r.AccountID)
		}
	}
	gone := map[string]bool{}
	res := g.Resources[:0]
	for _, r := range g.Resources {
		if r.Type == model.TypeIAMPolicy && r.Policy != nil && r.Policy.AWSManaged {
			if attach[r.ID] == 0 && bound[r.ID] == 0 {
				gone[r.ID] = true
				continue
			}
			attrs := *r.Policy
			attrs.AttachmentCount, attrs.BoundaryCount = attach[r.ID], bound[r.ID]
			r.Policy, r.AccountID = &attrs, account[r.ID]
		}
		res = append(res, r)
	}
	g.Resources = res
	if len(gone) == 0 {
		return
	}
	ents := g.Entitlements[:0]
	for _, e := range g.Entitlements {
		if !gone[e.ResourceID] {
			ents = append(ents, e)
		}
	}
	g.Entitlements = ents
	grants := g.Grants[:0]
	for _, gr := range g.Grants {
		if !gone[entitlementResource(gr.EntitlementID)] {
			grants = append(grants, gr)
		}
	}
	g.Grants = grants
}

// RefreshIdentityCenter brings a connection's latest snapshot up to date
// after changes in IAM Identity Center: it rereads the instance (users,
// groups, permission sets, assignments; at Identity Center's 20 calls a
// second, about a minute for 2,000 users) and stores the latest snapshot
// with Identity Center replaced and its links to the accounts' reserved
// roles made again. Users' SCIM status is read again when o.SCIM is set,
// else kept from the snapshot.
func RefreshIdentityCenter(ctx context.Context, sess *awsapi.Session, st store.Store, connectionID string, o IdentityCenterOptions) (*model.Snapshot, error) {
	prev, old, err := latest(ctx, st, connectionID)
	if err != nil {
		return nil, err
	}
	before := sess.Calls()
	start := time.Now().UTC()
	sso, ids := sess.IdentityCenter(o.Region)
	res, err := collect.CollectIdentityCenter(ctx, sso, ids, o.IdentityCenterOptions)
	if err != nil {
		return nil, fmt.Errorf("refresh Identity Center: %w", err)
	}
	fresh := res.Errors
	if o.SCIM != nil {
		if _, err := collect.ApplySCIMStatus(ctx, o.SCIM, &res.Graph); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			problem, fix := awsapi.Explain(err)
			if fix == "" {
				fix = "check identity_center.scim (the endpoint and its token), then refresh again"
			}
			fresh = append(fresh, model.SourceError{Source: collect.SourceSCIM, Message: problem, Fix: fix})
		}
	} else {
		keepSCIMStatus(old, &res.Graph)
	}
	errs := refreshedErrors(prev.Errors, func(e model.SourceError) bool {
		return e.Source == collect.SourceIdentityCenter || (e.Source == collect.SourceSCIM && o.SCIM != nil)
	}, fresh)
	return storeRefreshed(ctx, sess, st, prev, spliceIdentityCenter(old, &res.Graph), errs, start, before)
}

// isIdentityCenter reports whether a resource belongs to Identity Center.
func isIdentityCenter(t model.ResourceType) bool {
	return t == model.TypeSSOUser || t == model.TypeSSOGroup || t == model.TypePermissionSet
}

// spliceIdentityCenter returns old with Identity Center replaced by fresh.
func spliceIdentityCenter(old, fresh *model.Graph) *model.Graph {
	replaced := map[string]bool{}
	var kept model.Graph
	for _, r := range old.Resources {
		if isIdentityCenter(r.Type) {
			replaced[r.ID] = true
			continue
		}
		kept.Resources = append(kept.Resources, r)
	}
	for _, e := range old.Entitlements {
		if !replaced[e.ResourceID] {
			kept.Entitlements = append(kept.Entitlements, e)
		}
	}
	for _, gr := range old.Grants {
		if !replaced[gr.PrincipalID] && !replaced[entitlementResource(gr.EntitlementID)] {
			kept.Grants = append(kept.Grants, gr)
		}
	}
	m := newMerger()
	m.add(kept)
	m.add(*fresh)
	g := m.graph()
	linkReservedRoles(g)
	return g
}

// keepSCIMStatus copies the SCIM status recorded in old onto the same
// users of fresh, when SCIM is not read again.
func keepSCIMStatus(old, fresh *model.Graph) {
	prev := map[string]*model.SSOUserAttrs{}
	for _, r := range old.Resources {
		if r.SSOUser != nil && r.SSOUser.SCIMActive != nil {
			prev[r.ID] = r.SSOUser
		}
	}
	for i := range fresh.Resources {
		r := &fresh.Resources[i]
		if p := prev[r.ID]; p != nil && r.SSOUser != nil {
			attrs := *r.SSOUser
			attrs.SCIMActive = p.SCIMActive
			attrs.SCIMMismatch = r.SSOUser.Status != "" && *p.SCIMActive != (r.SSOUser.Status == "ENABLED")
			r.SSOUser = &attrs
		}
	}
}
