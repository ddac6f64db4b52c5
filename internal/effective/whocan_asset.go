package effective

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// readBeside reads from st what a who-can on resource needs that Load
// does not read: the asset the resource is or is inside (one read by ID;
// for a bucket whose ACL grants to another canonical user, the snapshot's
// buckets too, whose owners say which accounts those are), and, when the organization has RCPs enabled, its resource control
// policies (one read, once per Snapshot).
func (s *Snapshot) readBeside(ctx context.Context, st store.Store, resource string) error {
	if id := assetID(resource); id != "" && s.remembered(id) == nil {
		r, err := st.Resource(ctx, s.ID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read %s from snapshot %d: %w", id, s.ID, err)
		default:
			s.remember(r)
			if r.Bucket != nil {
				// The account's Block Public Access applies to the bucket too.
				switch a, err := st.Resource(ctx, s.ID, model.AccountAssetsID(r.AccountID)); {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					return fmt.Errorf("read the asset settings of account %s from snapshot %d: %w", r.AccountID, s.ID, err)
				default:
					s.remember(a)
				}
				if foreignACL(r) {
					// Which accounts its ACL's canonical users are: the
					// owners of the snapshot's buckets (one read).
					bs, err := st.Resources(ctx, s.ID, store.ResourceFilter{Type: model.TypeS3Bucket})
					if err != nil {
						return fmt.Errorf("read the buckets of snapshot %d: %w", s.ID, err)
					}
					s.setCanonical(model.CanonicalOwners(&model.Graph{Resources: bs}))
				}
			}
		}
	}
	o, err := s.orgOf(ctx)
	if err != nil || !o.rcps {
		return err
	}
	s.mu.Lock()
	done := s.rcpsRead
	s.rcpsRead = true
	s.mu.Unlock()
	if done {
		return nil
	}
	rs, err := st.Resources(ctx, s.ID, store.ResourceFilter{Type: model.TypeRCP})
	if err != nil {
		return fmt.Errorf("read the resource control policies of snapshot %d: %w", s.ID, err)
	}
	s.remember(pointers(rs)...)
	return nil
}

// outsideOfAsset adds the entries of the principals outside the snapshot
// that the asset's resource policy names in an Allow statement (another
// account, a principal of one, a service, anyone) and that it allows, by
// the policy alone: their own account's policies are not in the snapshot,
// so they are taken to allow (and the explanation says so).
func (w *whoCan) outsideOfAsset(ctx context.Context, asset *model.Resource) error {
	s := w.s
	var notes []string
	rp, err := s.resourcePolicyFor(ctx, asset, w.q.Resource, &notes)
	if err != nil || rp == nil || rp.Doc == nil {
		return err
	}
	mem := s.src.(*memSource)
	seen := map[string]bool{}
	for _, st := range rp.Doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		kinds := make([]string, 0, len(st.Principal))
		for k := range st.Principal {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, kind := range kinds {
			for _, v := range st.Principal[kind] {
				k := kind
				if k == "AWS" && v == "*" || k == "*" {
					k, v = "*", "*"
				}
				id := model.ExternalPrincipalID(k, v)
				if seen[id] || !w.outside(k, v) {
					continue
				}
				seen[id] = true
				if _, ok := w.entries[id]; ok {
					continue
				}
				c, err := w.outsideCase(ctx, asset, rp, notes, k, v)
				if err != nil {
					return err
				}
				if !can(c.Decision) {
					continue
				}
				ref := Ref{ID: id, Type: model.TypeExternalPrincipal, Name: v}
				if r := mem.byID[id]; r != nil {
					ref = refOf(r)
				} else if accountOfARN(v) != "" {
					ref.ARN = v
				}
				w.add(id, &Entry{Principal: ref, Decision: c.Decision, Path: "outside", Chain: []Hop{},
					Explanation: c.Explanation, AllowedIf: conditions(c)})
			}
		}
	}
	return nil
}

// outside reports whether a principal a resource policy names is outside
// the snapshot: not one of its users or roles, nor of an account whose
// principals it holds (those are asked themselves).
func (w *whoCan) outside(kind, value string) bool {
	if kind != "AWS" {
		return true
	}
	if r := w.s.src.(*memSource).byID[value]; r != nil && (r.Type == model.TypeIAMUser || r.Type == model.TypeIAMRole) {
		return false
	}
	acct := value
	if !model.IsAccountID(acct) {
		acct = accountOfARN(value)
	}
	_, in := w.s.byAcct[acct]
	return !in
}

// outsideCase decides the question for a principal outside the snapshot
// that an asset's policy rp names.
func (w *whoCan) outsideCase(ctx context.Context, asset *model.Resource, rp *policy.Named, notes []string, kind, value string) (Case, error) {
	w.n++
	s := w.s
	req := policy.Request{Principal: value, Action: w.q.Action, Resource: w.q.Resource, ResourceAccount: asset.AccountID, Unknown: true,
		ResourcePolicy: rp, Context: map[string][]string{"aws:resourceaccount": {asset.AccountID}}}
	switch kind {
	case "CanonicalUser":
		// An account the snapshot does not know, named by a bucket ACL.
		req.Identity = []policy.Named{{Name: "(its own account's policies, not in the snapshot: taken to allow)", Via: "outside", Doc: w.allowAll}}
		req.Context["aws:principalisawsservice"] = []string{"false"}
	case "AWS":
		if model.IsAccountID(value) {
			req.Principal = "arn:aws:iam::" + value + ":root"
		}
		req.Identity = []policy.Named{{Name: "(its own account's policies, not in the snapshot: taken to allow)", Via: "outside", Doc: w.allowAll}}
		req.Context["aws:principalaccount"] = []string{accountOfARN(req.Principal)}
		req.Context["aws:principalisawsservice"] = []string{"false"}
		if strings.HasPrefix(strings.ToLower(w.q.Action), "kms:") {
			req.Context["kms:calleraccount"] = req.Context["aws:principalaccount"]
		}
	case "Service":
		req.Context["aws:principalisawsservice"] = []string{"true"}
		req.Context["aws:principalservicename"] = []string{value}
	}
	for k, v := range w.extra {
		req.Context[k] = v
	}
	rcps, _, err := s.rcpsFor(ctx, w.q.Action, asset.AccountID, false)
	if err != nil {
		return Case{}, err
	}
	req.RCPs = rcps
	bpa, err := s.publicAccessBlockOf(ctx, asset)
	if err != nil {
		return Case{}, err
	}
	return s.evaluateOn(&req, nil, asset, bpa, notes, ""), nil
}

// WhoCanEach answers several who-can questions over snapshot snap of st,
// loading the snapshot once (as WhoCan loads it for one): the answers are
// in the order of qs.
func WhoCanEach(ctx context.Context, st store.Store, snap int64, qs []WhoCanQuestion) ([]*WhoCanAnswer, error) {
	for _, q := range qs {
		if err := q.Check(); err != nil {
			return nil, err
		}
	}
	s, err := Load(ctx, st, snap)
	if err != nil {
		return nil, err
	}
	out := make([]*WhoCanAnswer, len(qs))
	for i, q := range qs {
		if err := s.readBeside(ctx, st, q.Resource); err != nil {
			return nil, err
		}
		if out[i], err = s.WhoCan(ctx, q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// assetNames are the principals an asset's resource policy names in an
// Allow statement for the question's action: a principal of another
// account is allowed only through one (cross-account, both sides must
// allow), so who-can decides only those. nil (no asset) lets everyone in.
type assetNames struct {
	account string          // the asset's account
	anyone  bool            // Principal "*", or a NotPrincipal
	names   map[string]bool // account IDs, principal ARNs and unique IDs
}

// namedBy collects the assetNames of an asset's policy (none named when it
// has no policy: no principal of another account is let in).
func (w *whoCan) namedBy(ctx context.Context, asset *model.Resource) (*assetNames, error) {
	if asset == nil {
		return nil, nil
	}
	n := &assetNames{account: asset.AccountID, names: map[string]bool{}}
	var notes []string
	rp, err := w.s.resourcePolicyFor(ctx, asset, w.q.Resource, &notes)
	if err != nil || rp == nil || rp.Doc == nil {
		return n, err
	}
	for _, st := range rp.Doc.Statement {
		if st.Effect != "Allow" || !allowsAction(&policy.Document{Statement: []policy.Statement{{Effect: "Allow", Action: st.Action, NotAction: st.NotAction}}}, w.q.Action, "") {
			continue
		}
		if len(st.NotPrincipal) > 0 {
			n.anyone = true
		}
		for kind, vs := range st.Principal {
			for _, v := range vs {
				switch {
				case kind == "*" || kind == "AWS" && v == "*":
					n.anyone = true
				case kind != "AWS":
				case model.IsAccountID(v):
					n.names[v] = true
				case strings.HasSuffix(v, ":root"):
					n.names[accountOfARN(v)] = true
				default:
					n.names[v] = true
				}
			}
		}
	}
	return n, nil
}

// mayLetIn reports whether the asset's policy may let sub in: always in
// the asset's own account (identity policies may allow there), else only
// when the policy names anyone, sub's account, or sub itself.
func (n *assetNames) mayLetIn(sub *subject) bool {
	if n == nil || n.anyone || sub.r.AccountID == n.account {
		return true
	}
	r := sub.r
	if n.names[r.AccountID] || n.names[r.ARN] || n.names[sub.caller] {
		return true
	}
	switch {
	case r.User != nil:
		return n.names[r.User.UserID]
	case r.Role != nil:
		return n.names[r.Role.RoleID]
	}
	return false
}
