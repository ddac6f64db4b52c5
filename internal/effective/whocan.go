package effective

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// MaxChain is the most roles a who-can chain assumes one after the other
// (alice assumes R1, R1 assumes R2, R2 can: two).
const MaxChain = 3

// WhoCanQuestion is one `who-can` question: which principals can do
// Action on Resource ("*": on every resource), with the condition keys of
// Context; Account, when set, lists only the principals of that account
// (an Identity Center user through a role there).
type WhoCanQuestion struct {
	Action   string
	Resource string
	Account  string
	Context  map[string][]string
}

// WhoCanAnswer is the answer, as `warden who-can -o json` prints it.
type WhoCanAnswer struct {
	Snapshot int64  `json:"snapshot"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Account  string `json:"account"`
	// Principals are those that can (allowed) or can if conditions hold
	// (allowed_if): allowed first, then by the length of the chain.
	Principals []Entry `json:"principals"`
	// Evaluated is how many requests were decided to answer.
	Evaluated int `json:"evaluated"`
}

// Entry is one principal that can, and how.
type Entry struct {
	Principal Ref `json:"principal"`
	// AccountID is the account the principal acts from: its own, or for
	// an Identity Center user the account of the role it uses; "" for a
	// principal outside the snapshot.
	AccountID string          `json:"account_id"`
	Decision  policy.Decision `json:"decision"`
	// Path is "direct", "identity center" (through a permission set's
	// role), "assume role" (a chain of roles assumed) or "outside" (a
	// principal outside the snapshot that a role's trust policy names).
	Path string `json:"path"`
	// Chain are the roles assumed on the way, in order, each with the
	// decision of the step that assumes it; [] for "direct".
	Chain []Hop `json:"chain"`
	// Explanation decides the request itself (made by the last role of
	// the chain, or by the principal when direct).
	Explanation []policy.Step `json:"explanation"`
	// AllowedIf, for allowed_if, are the alternatives under which every
	// step of the way is allowed.
	AllowedIf []policy.Alternative `json:"allowed_if"`
}

// Hop is one role assumed on the way.
type Hop struct {
	Role Ref `json:"role"`
	// Via is how the role is reached: "assume" (sts:AssumeRole, decided
	// below), or "permission set P" (an Identity Center assignment, "… through
	// group G" when a group holds it).
	Via         string               `json:"via"`
	Decision    policy.Decision      `json:"decision"`
	Explanation []policy.Step        `json:"explanation"`
	AllowedIf   []policy.Alternative `json:"allowed_if"`
}

// WhoCan answers q over snapshot snap of st: it loads the snapshot's
// principals and policies (Load) and asks every principal.
func WhoCan(ctx context.Context, st store.Store, snap int64, q WhoCanQuestion) (*WhoCanAnswer, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	s, err := Load(ctx, st, snap)
	if err != nil {
		return nil, err
	}
	if err := s.readBeside(ctx, st, q.Resource); err != nil {
		return nil, err
	}
	return s.WhoCan(ctx, q)
}

// Check returns an *InputError when the question is malformed.
func (q WhoCanQuestion) Check() error {
	if err := CheckAction(q.Action); err != nil {
		return err
	}
	if strings.TrimSpace(q.Resource) == "" {
		return &InputError{Problem: "no resource given", Fix: "give the resource's ARN, or * for every resource"}
	}
	if q.Account != "" && !model.IsAccountID(q.Account) {
		return &InputError{Problem: fmt.Sprintf("account %q is not an account id", q.Account), Fix: "give the 12-digit account id"}
	}
	return nil
}

// whoCan is the state of one WhoCan.
type whoCan struct {
	s        *Snapshot
	q        WhoCanQuestion
	extra    map[string][]string
	entries  map[string]*Entry // by principal ID (Identity Center users: ID + role)
	order    []string
	relevant map[string]map[*policy.Document]bool // action and resource → documents with an Allow that may take them in
	n        int
	allowAll *policy.Document
	// pending are, by account, the principals not answered yet whose own
	// policies allow sts:AssumeRole: those a trust policy naming their
	// account (or anyone) may let in.
	pending map[string][]*model.Resource
}

// findPending recomputes pending.
func (w *whoCan) findPending(ctx context.Context) error {
	w.pending = map[string][]*model.Resource{}
	for acct, rs := range w.s.byAcct {
		for _, r := range rs {
			if _, done := w.entries[r.ID]; done {
				continue
			}
			if w.q.Account != "" && r.Type == model.TypeIAMUser && r.AccountID != w.q.Account {
				continue
			}
			sub, err := w.s.subjectOf(ctx, r)
			if err != nil {
				return err
			}
			if w.mayAllow(sub, "sts:AssumeRole", "") {
				w.pending[acct] = append(w.pending[acct], r)
			}
		}
	}
	return nil
}

// WhoCan answers q for every principal of a snapshot Load read.
func (s *Snapshot) WhoCan(ctx context.Context, q WhoCanQuestion) (*WhoCanAnswer, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	mem, ok := s.src.(*memSource)
	if !ok {
		return nil, fmt.Errorf("who-can needs the whole snapshot: open it with effective.Load")
	}
	w := &whoCan{s: s, q: q, extra: lowerKeys(q.Context), entries: map[string]*Entry{}, relevant: map[string]map[*policy.Document]bool{}}
	w.allowAll, _ = policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	resourcePolicy := trustAction(q.Action) && mem.byID[q.Resource] != nil
	// On an asset with a resource policy (or a key's grants, or a bucket's
	// ACL), every principal of its account is asked (the policy may grant
	// on its own); those of other accounts need an identity allow too.
	asset, err := s.assetOf(ctx, q.Resource)
	if err != nil {
		return nil, err
	}
	assetAccount := ""
	if asset != nil {
		// (Its policy, with a key's grants and a bucket's ACL grants.)
		var notes []string
		rp, err := s.resourcePolicyFor(ctx, asset, q.Resource, &notes)
		if err != nil {
			return nil, err
		}
		if rp != nil && rp.Doc != nil {
			assetAccount = asset.AccountID
		}
	}
	// Every user (of the account asked about) and every role, directly:
	// those whose policies may allow the action are decided on every core.
	var principals []*model.Resource
	for _, t := range []model.ResourceType{model.TypeIAMUser, model.TypeIAMRole} {
		for _, r := range mem.byType[t] {
			if t == model.TypeIAMUser && q.Account != "" && r.AccountID != q.Account {
				continue
			}
			principals = append(principals, r)
		}
	}
	subs, err := s.subjectsOf(ctx, principals)
	if err != nil {
		return nil, err
	}
	names, err := w.namedBy(ctx, asset)
	if err != nil {
		return nil, err
	}
	var asked []*subject
	for _, sub := range subs {
		if resourcePolicy || sub.r.AccountID == assetAccount || w.mayAllow(sub, q.Action, q.Resource) && names.mayLetIn(sub) {
			asked = append(asked, sub)
		}
	}
	cases, err := w.decideAll(ctx, asked, q.Action, q.Resource)
	if err != nil {
		return nil, err
	}
	var frontier []*model.Resource
	for i, c := range cases {
		if !can(c.Decision) {
			continue
		}
		r := asked[i].r
		w.add(r.ID, &Entry{Principal: refOf(r), AccountID: r.AccountID, Decision: c.Decision, Path: "direct", Chain: []Hop{},
			Explanation: c.Explanation, AllowedIf: conditions(c)})
		if r.Type == model.TypeIAMRole {
			frontier = append(frontier, r)
		}
	}
	// Principals outside the snapshot the asset's policy names.
	if asset != nil {
		if err := w.outsideOfAsset(ctx, asset); err != nil {
			return nil, err
		}
	}
	// Then who can assume a role that can, and so on.
	roles := append([]*model.Resource{}, frontier...)
	for depth := 1; depth <= MaxChain && len(frontier) > 0; depth++ {
		if err := w.findPending(ctx); err != nil {
			return nil, err
		}
		var next []*model.Resource
		for _, role := range frontier {
			got, err := w.assumers(ctx, role)
			if err != nil {
				return nil, err
			}
			next = append(next, got...)
		}
		roles = append(roles, next...)
		frontier = next
	}
	// Identity Center users, through the roles of their assignments.
	for _, role := range roles {
		w.ssoUsers(role)
	}
	a := &WhoCanAnswer{Snapshot: s.ID, Action: q.Action, Resource: q.Resource, Account: q.Account, Principals: []Entry{}, Evaluated: w.n}
	for _, k := range w.order {
		e := w.entries[k]
		if q.Account == "" || e.AccountID == q.Account {
			a.Principals = append(a.Principals, *e)
		}
	}
	sort.SliceStable(a.Principals, func(i, j int) bool {
		x, y := &a.Principals[i], &a.Principals[j]
		if (x.Decision == policy.Allowed) != (y.Decision == policy.Allowed) {
			return x.Decision == policy.Allowed
		}
		if len(x.Chain) != len(y.Chain) {
			return len(x.Chain) < len(y.Chain)
		}
		if x.Principal.Type != y.Principal.Type {
			return x.Principal.Type < y.Principal.Type
		}
		if x.AccountID != y.AccountID {
			return x.AccountID < y.AccountID
		}
		if x.Principal.Name != y.Principal.Name {
			return x.Principal.Name < y.Principal.Name
		}
		return x.Principal.ID < y.Principal.ID
	})
	return a, nil
}

// subjectsOf builds the subjects of rs (subjectOf) on every core, in the
// order of rs.
func (s *Snapshot) subjectsOf(ctx context.Context, rs []*model.Resource) ([]*subject, error) {
	out := make([]*subject, len(rs))
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < len(rs); i += workers {
				if out[i], errs[k] = s.subjectOf(ctx, rs[i]); errs[k] != nil {
					return
				}
			}
		}(k)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func can(d policy.Decision) bool { return d == policy.Allowed || d == policy.Conditional }

func conditions(c Case) []policy.Alternative {
	if c.Decision == policy.Conditional {
		return c.AllowedIf
	}
	return []policy.Alternative{}
}

func (w *whoCan) add(key string, e *Entry) {
	if _, ok := w.entries[key]; ok {
		return
	}
	w.entries[key] = e
	w.order = append(w.order, key)
}

// decideAll decides the request of each subject, on every core.
func (w *whoCan) decideAll(ctx context.Context, subs []*subject, action, resource string) ([]Case, error) {
	out := make([]Case, len(subs))
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < len(subs); i += workers {
				if out[i], errs[k] = w.s.decide(ctx, subs[i], action, resource, w.extra); errs[k] != nil {
					return
				}
			}
		}(k)
	}
	wg.Wait()
	w.n += len(subs)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *whoCan) decide(ctx context.Context, sub *subject, action, resource string) (Case, error) {
	w.n++
	return w.s.decide(ctx, sub, action, resource, w.extra)
}

// mayAllow reports whether sub's policies may allow action on resource
// ("": on some resource) at all, by the Action and Resource of their Allow
// statements alone (a Resource with a policy variable, or a NotResource,
// is taken to match): an identity policy must have one, and so must the
// boundary (when there is one) and each SCP level. Without them no request for the action is allowed except through
// a resource policy (the callers ask it then anyway).
func (w *whoCan) mayAllow(sub *subject, action, resource string) bool {
	key := action + "\x00" + resource
	rel := w.relevant[key]
	if rel == nil {
		rel = map[*policy.Document]bool{}
		w.relevant[key] = rel
	}
	any := func(ns []policy.Named) bool {
		for _, n := range ns {
			if n.Doc == nil {
				continue
			}
			v, ok := rel[n.Doc]
			if !ok {
				v = allowsAction(n.Doc, action, resource)
				rel[n.Doc] = v
			}
			if v {
				return true
			}
		}
		return false
	}
	if !any(sub.identity) || sub.boundary != nil && !any(sub.boundary) {
		return false
	}
	for _, l := range sub.scps.levels {
		if !any(l.Policies) {
			return false
		}
	}
	return true
}

func allowsAction(d *policy.Document, action, resource string) bool {
	a := strings.ToLower(action)
	for _, st := range d.Statement {
		if st.Effect != "Allow" {
			continue
		}
		if len(st.Action) > 0 {
			in := false
			for _, p := range st.Action {
				in = in || policy.Glob(strings.ToLower(p), a)
			}
			if !in {
				continue
			}
		} else if len(st.NotAction) > 0 {
			out := false
			for _, p := range st.NotAction {
				out = out || policy.Glob(strings.ToLower(p), a)
			}
			if out {
				continue
			}
		} else {
			continue
		}
		if resource == "" || len(st.NotResource) > 0 {
			return true
		}
		for _, p := range st.Resource {
			if strings.Contains(p, "${") || policy.MatchARN(p, resource) {
				return true
			}
		}
	}
	return false
}

// candidate is a principal a role's trust policy may let assume it: a
// principal of the snapshot (named: by its own ARN, which grants within
// the account on its own), or one outside it.
type candidate struct {
	r       *model.Resource
	named   bool
	outside *model.Resource // an external_principal resource
	kind    string
}

// assumers adds the entries of the principals that can assume role (whose
// entry is there) and returns the roles among them.
func (w *whoCan) assumers(ctx context.Context, role *model.Resource) ([]*model.Resource, error) {
	s := w.s
	mem := s.src.(*memSource)
	target := w.entries[role.ID]
	var cands []candidate
	seen := map[string]bool{}
	one := func(r *model.Resource, named bool) {
		if !seen[r.ID] {
			seen[r.ID] = true
			cands = append(cands, candidate{r: r, named: named})
		}
	}
	// A trust policy naming an account (or anyone) lets in those of its
	// principals whose own policies allow sts:AssumeRole: only the ones
	// not answered yet are candidates.
	addAll := func(rs []*model.Resource) {
		for _, r := range rs {
			if _, done := w.entries[r.ID]; !done {
				one(r, false)
			}
		}
	}
	for _, g := range s.assumers[role.ID] {
		if g.Provenance != model.ViaTrust {
			continue
		}
		r := mem.byID[g.PrincipalID]
		switch {
		case r == nil:
		case r.Type == model.TypeIAMUser || r.Type == model.TypeIAMRole:
			one(r, true)
		case r.Type == model.TypeAccount:
			addAll(w.pending[r.AccountID])
		case r.Type == model.TypeExternalPrincipal:
			kind, value := externalKind(r.ID), r.Name
			if kind == "AWS" || kind == "*" {
				if p := mem.byID[value]; p != nil && (p.Type == model.TypeIAMUser || p.Type == model.TypeIAMRole) {
					one(p, true)
					continue
				}
				acct := value
				if !model.IsAccountID(acct) {
					acct = accountOfARN(value)
					if !strings.HasSuffix(value, ":root") {
						acct = ""
					}
				}
				if kind == "*" {
					for _, rs := range w.pending {
						addAll(rs)
					}
				} else if _, ok := s.byAcct[acct]; ok && acct != "" {
					addAll(w.pending[acct])
					continue
				}
			}
			if kind == "Federated" && strings.Contains(value, ":saml-provider/AWSSSO_") {
				continue // Identity Center's own provider: its users are listed through their assignments
			}
			cands = append(cands, candidate{outside: r, kind: kind})
		}
	}
	var roles []*model.Resource
	for _, c := range cands {
		if c.outside != nil {
			if _, ok := w.entries[c.outside.ID]; ok {
				continue
			}
			h, err := w.outsideHop(ctx, c.outside, c.kind, role)
			if err != nil {
				return nil, err
			}
			if can(h.Decision) {
				e := w.chained(refOf(c.outside), "", h, target)
				e.Path = "outside"
				w.add(c.outside.ID, e)
			}
			continue
		}
		if _, ok := w.entries[c.r.ID]; ok || c.r.ID == role.ID {
			continue
		}
		if w.q.Account != "" && c.r.Type == model.TypeIAMUser && c.r.AccountID != w.q.Account {
			continue
		}
		sub, err := s.subjectOf(ctx, c.r)
		if err != nil {
			return nil, err
		}
		cs, err := w.decide(ctx, sub, "sts:AssumeRole", role.ID)
		if err != nil {
			return nil, err
		}
		if !can(cs.Decision) {
			continue
		}
		h := Hop{Role: refOf(role), Via: "assume", Decision: cs.Decision, Explanation: cs.Explanation, AllowedIf: conditions(cs)}
		w.add(c.r.ID, w.chained(refOf(c.r), c.r.AccountID, h, target))
		if c.r.Type == model.TypeIAMRole {
			roles = append(roles, c.r)
		}
	}
	return roles, nil
}

// chained is the entry of a principal whose first step is h, then the
// way of target (the entry of the role h assumes).
func (w *whoCan) chained(p Ref, account string, h Hop, target *Entry) *Entry {
	e := &Entry{Principal: p, AccountID: account, Path: "assume role", Chain: append([]Hop{h}, target.Chain...),
		Explanation: target.Explanation, AllowedIf: and(h.AllowedIf, target.AllowedIf)}
	e.Decision = policy.Allowed
	if len(e.AllowedIf) > 0 {
		e.Decision = policy.Conditional
	}
	return e
}

// and is the alternatives under which both a and b hold (none: always).
func and(a, b []policy.Alternative) []policy.Alternative {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := []policy.Alternative{}
	for _, x := range a {
		for _, y := range b {
			if len(out) == 32 {
				return out
			}
			out = append(out, policy.Alternative{Requires: append(append([]policy.Requirement{}, x.Requires...), y.Requires...)})
		}
	}
	return out
}

// externalKind is the kind of an external principal's ID,
// "principal:KIND:VALUE".
func externalKind(id string) string {
	rest, _ := strings.CutPrefix(id, "principal:")
	kind, _, _ := strings.Cut(rest, ":")
	return kind
}

// outsideHop decides whether a principal outside the snapshot may assume
// role, by the trust policy alone: its own account's policies are not in
// the snapshot, so they are taken to allow (and the step says so).
func (w *whoCan) outsideHop(ctx context.Context, p *model.Resource, kind string, role *model.Resource) (Hop, error) {
	w.n++
	s := w.s
	value := p.Name
	action := "sts:AssumeRole"
	req := policy.Request{Principal: value, Action: action, Resource: role.ID, ResourceAccount: role.AccountID, Unknown: true,
		Context: map[string][]string{"aws:resourceaccount": {role.AccountID}}}
	switch kind {
	case "AWS":
		if model.IsAccountID(value) {
			req.Principal = "arn:aws:iam::" + value + ":root"
		}
		req.Identity = []policy.Named{{Name: "(its own account's policies, not in the snapshot: taken to allow)", Via: "outside", Doc: w.allowAll}}
		req.Context["aws:principalaccount"] = []string{accountOfARN(req.Principal)}
	case "Service":
		req.Context["aws:principalisawsservice"] = []string{"true"}
		req.Context["aws:principalservicename"] = []string{value}
	case "Federated":
		req.Action = "sts:AssumeRoleWithWebIdentity"
		if strings.Contains(value, ":saml-provider/") {
			req.Action = "sts:AssumeRoleWithSAML"
		}
	}
	for k, v := range w.extra {
		req.Context[k] = v
	}
	if role.Role != nil {
		d := s.doc(role.ID+"#trust", role.Role.TrustPolicy)
		req.ResourcePolicy = &policy.Named{Name: "trust policy of " + role.Name, Via: "trust policy", Doc: d.doc}
	}
	rcps, _, err := s.rcpsFor(ctx, req.Action, role.AccountID, false)
	if err != nil {
		return Hop{}, err
	}
	req.RCPs = rcps
	c := s.evaluate(&req, role, nil, "")
	return Hop{Role: refOf(role), Via: "assume", Decision: c.Decision, Explanation: c.Explanation, AllowedIf: conditions(c)}, nil
}

// ssoUsers adds the Identity Center users whose assignments give them
// role (whose entry is there).
func (w *whoCan) ssoUsers(role *model.Resource) {
	ps, ok := model.ReservedRolePermissionSet(role.Name)
	if !ok {
		return
	}
	mem := w.s.src.(*memSource)
	target := w.entries[role.ID]
	for _, g := range w.s.assumers[role.ID] {
		if g.Provenance != model.ViaSSO && g.Provenance != model.ViaGroup {
			continue
		}
		u := mem.byID[g.PrincipalID]
		if u == nil || u.Type != model.TypeSSOUser {
			continue
		}
		via := "permission set " + ps
		if g.Provenance == model.ViaGroup {
			name := g.ViaID
			if gr := mem.byID[g.ViaID]; gr != nil {
				name = gr.Name
			}
			via += " through group " + name
		}
		h := Hop{Role: refOf(role), Via: via, Decision: policy.Allowed, Explanation: []policy.Step{}, AllowedIf: []policy.Alternative{}}
		e := w.chained(refOf(u), role.AccountID, h, target)
		e.Path = "identity center"
		w.add(u.ID+" "+role.ID+" "+g.ViaID, e)
	}
}
