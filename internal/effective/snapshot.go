// Package effective answers effective-access questions over a stored
// snapshot with internal/policy's evaluator: can principal P do action A on
// resource R ("warden can"), and who can ("warden who-can"), with the
// statements that decide each answer and, where a condition key the
// question leaves open decides it, the keys and values the allow depends on
// ("allowed if …").
//
// It builds each principal's request from the snapshot as AWS would see
// it: the identity policies of the principal and its groups (managed and
// inline, each named with the way it reaches the principal), its
// permissions boundary, the SCPs of every level from the organization's
// root through each OU to the account (none for the management account or
// a service-linked role), and, for sts:AssumeRole on a role, the role's
// trust policy. An Identity Center user is evaluated through the role
// Identity Center created for each permission set assigned to it in each
// account. Every document is parsed once per Snapshot and reused.
//
// Open reads only what a question needs from the store (for `can`); Load
// reads the whole snapshot's principals and policies once (for `who-can`).
package effective

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// heldGrant is a grant a principal holds and the resource offering it (nil
// when that resource is not in the snapshot).
type heldGrant struct {
	g model.Grant
	r *model.Resource
}

// source is where a Snapshot reads the snapshot: straight from the store
// (Open) or from memory (Load).
type source interface {
	resource(ctx context.Context, id string) (*model.Resource, error) // nil when not in the snapshot
	held(ctx context.Context, principalID string) ([]heldGrant, error)
	ofType(ctx context.Context, t model.ResourceType) ([]*model.Resource, error)
}

// Snapshot is one snapshot opened for effective-access questions. It is
// safe for concurrent use.
type Snapshot struct {
	ID  int64
	src source

	mu       sync.Mutex
	docs     map[string]*parsed           // by resource ID (+"#trust" for a trust policy)
	byText   map[string]*parsed           // by document text: equal documents parsed once
	levels   map[string]levelsOf          // SCP chain by account ID
	subjects map[string]*subject          // by principal ID
	org      *orgInfo                     // read once
	groups   map[string]string            // group ID → name
	extra    map[string]*model.Resource   // resources read beside the source (remember)
	relevant map[string]map[*parsed]bool  // action → documents with a statement whose action matches
	assumers map[string][]model.Grant     // role ID → grants of its assume entitlement (memory source)
	byAcct   map[string][]*model.Resource // account ID → users and roles (memory source)
	rcpsRead bool                         // readBeside read the RCPs
	canon    map[string]string            // canonical user ID → account (acl.go), read once
	rpols    map[string]resourcePolicy    // asset ID → its resource policy as taken (resource.go)
}

type levelsOf struct {
	levels []policy.Level
	note   string // why there are none: "management account", "not in an organization"…
}

// parsed is a policy document parsed once, or the reason it could not be.
type parsed struct {
	doc *policy.Document
	err error
}

type orgInfo struct {
	id         string // o-…
	management string // the management account's ID
	scps       bool   // SCPs enabled on the root
	rcps       bool   // RCPs enabled on the root
}

// Open returns snapshot snap of st for questions about one principal at a
// time: it reads from the store only what each question needs.
func Open(st store.Store, snap int64) *Snapshot {
	return newSnapshot(snap, &storeSource{st: st, snap: snap, res: map[string]*model.Resource{}, miss: map[string]bool{}})
}

func newSnapshot(id int64, src source) *Snapshot {
	return &Snapshot{ID: id, src: src, docs: map[string]*parsed{}, byText: map[string]*parsed{}, levels: map[string]levelsOf{}, subjects: map[string]*subject{},
		groups: map[string]string{}, relevant: map[string]map[*parsed]bool{}, rpols: map[string]resourcePolicy{}}
}

// storeSource reads the snapshot from the store, one indexed query at a
// time, and remembers what it read.
type storeSource struct {
	st   store.Store
	snap int64
	mu   sync.Mutex
	res  map[string]*model.Resource
	miss map[string]bool
}

func (s *storeSource) resource(ctx context.Context, id string) (*model.Resource, error) {
	s.mu.Lock()
	r, hit := s.res[id]
	missed := s.miss[id]
	s.mu.Unlock()
	if hit || missed {
		return r, nil
	}
	r, err := s.st.Resource(ctx, s.snap, id)
	if errors.Is(err, store.ErrNotFound) {
		s.mu.Lock()
		s.miss[id] = true
		s.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from snapshot %d: %w", id, s.snap, err)
	}
	s.mu.Lock()
	s.res[id] = r
	s.mu.Unlock()
	return r, nil
}

func (s *storeSource) held(ctx context.Context, principalID string) ([]heldGrant, error) {
	hs, err := s.st.GrantsOf(ctx, s.snap, principalID)
	if err != nil {
		return nil, fmt.Errorf("read what %s holds in snapshot %d: %w", principalID, s.snap, err)
	}
	out := make([]heldGrant, len(hs))
	for i := range hs {
		out[i].g = hs[i].Grant
		if hs[i].Resource.Type != "" {
			out[i].r = &hs[i].Resource
		}
	}
	return out, nil
}

func (s *storeSource) ofType(ctx context.Context, t model.ResourceType) ([]*model.Resource, error) {
	rs, err := s.st.Resources(ctx, s.snap, store.ResourceFilter{Type: t})
	if err != nil {
		return nil, fmt.Errorf("read the %s resources of snapshot %d: %w", t, s.snap, err)
	}
	out := make([]*model.Resource, len(rs))
	for i := range rs {
		out[i] = &rs[i]
	}
	return out, nil
}

// doc returns the parsed document of a policy resource, parsing it on
// first use.
func (s *Snapshot) doc(key, text string) *parsed {
	s.mu.Lock()
	p, ok := s.docs[key]
	if !ok {
		p, ok = s.byText[text]
		if ok {
			s.docs[key] = p
		}
	}
	s.mu.Unlock()
	if ok {
		return p
	}
	p = parse(text)
	s.mu.Lock()
	if q, ok := s.docs[key]; ok {
		p = q
	} else {
		s.docs[key] = p
		s.byText[text] = p
	}
	s.mu.Unlock()
	return p
}

func parse(text string) *parsed {
	p := &parsed{}
	if strings.TrimSpace(text) == "" {
		p.err = fmt.Errorf("the snapshot holds no document for it (not read by the sync)")
	} else if d, err := policy.Parse(text); err != nil {
		p.err = err
	} else {
		p.doc = d
	}
	return p
}

// parseAll parses the distinct documents of texts on every core, ahead of
// their use.
func (s *Snapshot) parseAll(texts []string) {
	seen := make(map[string]bool, len(texts))
	var todo []string
	for _, t := range texts {
		if !seen[t] {
			seen[t] = true
			todo = append(todo, t)
		}
	}
	out := make([]*parsed, len(todo))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < len(todo); i += workers {
				out[i] = parse(todo[i])
			}
		}(k)
	}
	wg.Wait()
	s.mu.Lock()
	for i, t := range todo {
		s.byText[t] = out[i]
	}
	s.mu.Unlock()
}

// documentOf is the policy text of a managed, inline or service control
// policy resource.
func documentOf(r *model.Resource) string {
	switch {
	case r.Policy != nil:
		return r.Policy.Document
	case r.InlinePolicy != nil:
		return r.InlinePolicy.Document
	case r.SCP != nil:
		return r.SCP.Document
	}
	return ""
}

// orgOf reads the organization the snapshot holds, once.
func (s *Snapshot) orgOf(ctx context.Context) (*orgInfo, error) {
	s.mu.Lock()
	o := s.org
	s.mu.Unlock()
	if o != nil {
		return o, nil
	}
	o = &orgInfo{}
	orgs, err := s.src.ofType(ctx, model.TypeOrganization)
	if err != nil {
		return nil, err
	}
	for _, r := range orgs {
		if r.Organization != nil {
			o.management = r.Organization.ManagementAccountID
			o.id = r.Name // the collector names it by its ID, o-…
		}
	}
	roots, err := s.src.ofType(ctx, model.TypeOrgRoot)
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if r.OrgUnit != nil {
			for _, t := range r.OrgUnit.PolicyTypes {
				o.scps = o.scps || t == "SERVICE_CONTROL_POLICY"
				o.rcps = o.rcps || t == "RESOURCE_CONTROL_POLICY"
			}
		}
	}
	s.mu.Lock()
	s.org = o
	s.mu.Unlock()
	return o, nil
}

// scpLevels is the SCP chain that applies to the principals of an
// account: the root, each OU down to the account, and the account, each
// with the SCPs attached there; none (and why) for the management account,
// an account outside an organization, or an organization without SCPs.
func (s *Snapshot) scpLevels(ctx context.Context, accountID string) (levelsOf, error) {
	return s.orgLevels(ctx, accountID, false)
}

// rcpLevels is the RCP chain that applies to the resources of an account,
// as scpLevels is the SCP chain of its principals: none (and why) for the
// management account (RCPs apply only to member accounts), an account
// outside an organization, or an organization without RCPs enabled.
func (s *Snapshot) rcpLevels(ctx context.Context, accountID string) (levelsOf, error) {
	return s.orgLevels(ctx, accountID, true)
}

// orgLevels is scpLevels (rcp false) or rcpLevels (rcp true).
func (s *Snapshot) orgLevels(ctx context.Context, accountID string, rcp bool) (levelsOf, error) {
	key, kind, typ, name := accountID, "SCP", model.TypeSCP, "service control policies"
	if rcp {
		key, kind, typ, name = "rcp "+accountID, "RCP", model.TypeRCP, "resource control policies"
	}
	s.mu.Lock()
	l, ok := s.levels[key]
	s.mu.Unlock()
	if ok {
		return l, nil
	}
	o, err := s.orgOf(ctx)
	if err != nil {
		return l, err
	}
	acct, err := s.lookup(ctx, model.AccountResourceID(accountID))
	if err != nil {
		return l, err
	}
	enabled := o.scps
	if rcp {
		enabled = o.rcps
	}
	switch {
	case acct == nil || acct.Account == nil || acct.Account.Org == nil:
		l.note = "account " + accountID + " is not in an organization the snapshot holds: no " + kind + "s"
	case acct.Account.Org.Management || accountID == o.management:
		if rcp {
			l.note = "RCPs do not apply to the resources of the management account " + accountID
		} else {
			l.note = "SCPs do not apply to the management account " + accountID
		}
	case !enabled:
		l.note = name + " are not enabled in the organization"
	default:
		// The targets from the account up to the root, then reversed.
		var chain []*model.Resource
		for r, n := acct, 0; r != nil && n < 10; n++ {
			chain = append(chain, r)
			if r.Type == model.TypeOrgRoot || r.ParentID == "" {
				break
			}
			if r, err = s.lookup(ctx, r.ParentID); err != nil {
				return l, err
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			t := chain[i]
			held, err := s.src.held(ctx, t.ID)
			if err != nil {
				return l, err
			}
			lv := policy.Level{Target: targetName(t), Policies: []policy.Named{}}
			for _, h := range held {
				if !strings.HasSuffix(h.g.EntitlementID, "#"+model.EntAttached) {
					continue
				}
				r := h.r
				if r == nil {
					// A policy Load did not read (an RCP): WhoCan
					// remembers those it read beside.
					r = s.remembered(entitlementResource(h.g.EntitlementID))
				}
				if r == nil || r.Type != typ {
					continue
				}
				p := s.doc(r.ID, documentOf(r))
				lv.Policies = append(lv.Policies, policy.Named{Name: r.Name, Via: kind + " at " + lv.Target, Doc: p.doc})
			}
			l.levels = append(l.levels, lv)
		}
	}
	s.mu.Lock()
	s.levels[key] = l
	s.mu.Unlock()
	return l, nil
}

// remember keeps resources the snapshot's source does not hold (an asset
// or an RCP WhoCan read from the store beside Load), for lookup.
func (s *Snapshot) remember(rs ...*model.Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.extra == nil {
		s.extra = map[string]*model.Resource{}
	}
	for _, r := range rs {
		s.extra[r.ID] = r
	}
}

// remembered is a resource remember kept, or nil.
func (s *Snapshot) remembered(id string) *model.Resource {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extra[id]
}

// lookup reads a resource by ID: one remember kept, else from the source
// (nil when the snapshot does not hold it).
func (s *Snapshot) lookup(ctx context.Context, id string) (*model.Resource, error) {
	if r := s.remembered(id); r != nil {
		return r, nil
	}
	return s.src.resource(ctx, id)
}

// targetName names an SCP target in explanations: "root r-ab12", "OU Prod
// (ou-ab12-…)", "account 222222222222 (name)".
func targetName(r *model.Resource) string {
	id := r.ID
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	switch r.Type {
	case model.TypeOrgRoot:
		return "root " + id
	case model.TypeOrgUnit:
		return "OU " + r.Name + " (" + id + ")"
	case model.TypeAccount:
		if r.Name != "" {
			return "account " + r.AccountID + " (" + r.Name + ")"
		}
		return "account " + r.AccountID
	}
	return r.ID
}
