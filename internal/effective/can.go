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

// Ref names a principal or role in an answer.
type Ref struct {
	ID        string             `json:"id"`
	Type      model.ResourceType `json:"type"`
	Name      string             `json:"name"`
	ARN       string             `json:"arn"`
	AccountID string             `json:"account_id"`
}

func refOf(r *model.Resource) Ref {
	return Ref{ID: r.ID, Type: r.Type, Name: r.Name, ARN: r.ARN, AccountID: r.AccountID}
}

// Question is one `can` question: may Principal (anything `warden access`
// accepts that makes requests: an IAM user or role by name or ARN, an
// Identity Center user by user name or e-mail) do Action on Resource ("*"
// or "" for every resource) with the condition keys of Context? Keys
// Context does not give, and the snapshot does not know, are unknown: an
// allow that depends on one is answered "allowed if …".
type Question struct {
	Principal string
	Action    string
	Resource  string
	Context   map[string][]string
	// SessionPolicy, when not "", is the JSON policy document passed as
	// the session policy (AssumeRole's Policy parameter): the request is
	// then allowed only if it allows too, and its explicit deny wins.
	SessionPolicy string
}

// CanAnswer is the answer to a Question, as `warden can -o json` prints
// it: one Case for an IAM principal, one per account and permission set
// for an Identity Center user. Decision sums them up: allowed when any
// case is allowed, else allowed_if when any is conditional, else the
// first case's deny (implicit_deny when there is no case).
type CanAnswer struct {
	Snapshot  int64               `json:"snapshot"`
	Principal Ref                 `json:"principal"`
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Context   map[string][]string `json:"context"`
	// SessionPolicy says whether the question gave a session policy
	// (explanations name it "session policy").
	SessionPolicy bool            `json:"session_policy"`
	Decision      policy.Decision `json:"decision"`
	Cases         []Case          `json:"cases"`
}

// Case is one way the principal makes the request and its decision.
type Case struct {
	AccountID string `json:"account_id"`
	// PermissionSet and Via say, for an Identity Center user, which
	// permission set's role the case is and how the user holds the
	// assignment ("direct" or "group G"); "" for an IAM principal.
	PermissionSet string `json:"permission_set"`
	Via           string `json:"via"`
	// Role is the role evaluated for an Identity Center user (nil when the
	// account's IAM is not in the snapshot: the permission set's own
	// policies are evaluated then).
	Role        *Ref                 `json:"role"`
	Decision    policy.Decision      `json:"decision"`
	Explanation []policy.Step        `json:"explanation"`
	AllowedIf   []policy.Alternative `json:"allowed_if"`
	// Notes say what else shaped the answer: SCPs that do not apply (the
	// management account, a service-linked role), policies the snapshot
	// could not read.
	Notes []string `json:"notes"`
}

// NotFoundError says no principal of the snapshot matches a query.
type NotFoundError struct {
	Query    string
	Snapshot int64
}

// Error names the query and the snapshot.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no IAM user, role or Identity Center user matches %q in snapshot %d", e.Query, e.Snapshot)
}

// AmbiguousError says a query matches several principals.
type AmbiguousError struct {
	Query   string
	Matches []model.Resource
}

// Error names the query and how many principals it matches.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q matches %d principals", e.Query, len(e.Matches))
}

// InputError is a question warden cannot ask: Problem says what is wrong
// and Fix what to give instead.
type InputError struct {
	Problem string
	Fix     string
}

// Error is the problem.
func (e *InputError) Error() string { return e.Problem }

// CheckAction returns an *InputError unless action has the form
// service:Action (wildcards allowed).
func CheckAction(action string) error {
	svc, name, ok := strings.Cut(action, ":")
	if !ok || svc == "" || name == "" || strings.ContainsAny(action, " \t") {
		return &InputError{Problem: fmt.Sprintf("action %q is not service:Action", action),
			Fix: "give an IAM action such as s3:GetObject or iam:CreateUser"}
	}
	return nil
}

// Can answers q over snapshot snap of st, reading only what the principal
// needs.
func Can(ctx context.Context, st store.Store, snap int64, q Question) (*CanAnswer, error) {
	if err := CheckAction(q.Action); err != nil {
		return nil, err
	}
	found, err := st.FindPrincipal(ctx, snap, q.Principal)
	if err != nil {
		return nil, fmt.Errorf("look up %q in snapshot %d: %w", q.Principal, snap, err)
	}
	var actors []model.Resource
	var others []string
	for _, r := range found {
		switch r.Type {
		case model.TypeIAMUser, model.TypeIAMRole, model.TypeSSOUser:
			actors = append(actors, r)
		default:
			others = append(others, string(r.Type)+" "+r.ID)
		}
	}
	// An e-mail address naming an Identity Center user and IAM users tagged
	// with it means that person: the Identity Center user.
	if len(actors) > 1 {
		var sso []model.Resource
		for _, r := range actors {
			if r.Type == model.TypeSSOUser {
				sso = append(sso, r)
			}
		}
		if len(sso) == 1 {
			actors = sso
		}
	}
	switch {
	case len(actors) == 0 && len(others) > 0:
		return nil, &InputError{Problem: fmt.Sprintf("%q is not a principal that makes requests (%s)", q.Principal, strings.Join(others, ", ")),
			Fix: "ask about an IAM user or role, or an Identity Center user; for a group, ask about one of its members"}
	case len(actors) == 0:
		return nil, &NotFoundError{Query: q.Principal, Snapshot: snap}
	case len(actors) > 1:
		return nil, &AmbiguousError{Query: q.Principal, Matches: actors}
	}
	return Open(st, snap).Can(ctx, &actors[0], q)
}

// Can answers q for principal p, an IAM user or role or an Identity
// Center user of the snapshot.
func (s *Snapshot) Can(ctx context.Context, p *model.Resource, q Question) (*CanAnswer, error) {
	if err := CheckAction(q.Action); err != nil {
		return nil, err
	}
	resource := q.Resource
	if resource == "" {
		resource = "*"
	}
	session, err := ParseSessionPolicy(q.SessionPolicy)
	if err != nil {
		return nil, err
	}
	extra := lowerKeys(q.Context)
	a := &CanAnswer{Snapshot: s.ID, Principal: refOf(p), Action: q.Action, Resource: resource, Context: q.Context, SessionPolicy: session != nil, Cases: []Case{}}
	if a.Context == nil {
		a.Context = map[string][]string{}
	}
	switch p.Type {
	case model.TypeIAMUser, model.TypeIAMRole:
		sub, err := s.subjectOf(ctx, p)
		if err != nil {
			return nil, err
		}
		c, err := s.decideWith(ctx, sub, q.Action, resource, extra, session)
		if err != nil {
			return nil, err
		}
		c.AccountID = p.AccountID
		if session != nil && sub.isUser {
			c.Notes = append(c.Notes, "an IAM user's requests carry a session policy only as a federated user (sts:GetFederationToken): evaluated so")
		}
		a.Cases = append(a.Cases, c)
	case model.TypeSSOUser:
		cases, err := s.ssoCases(ctx, p, q.Action, resource, extra, session)
		if err != nil {
			return nil, err
		}
		a.Cases = cases
	default:
		return nil, &InputError{Problem: fmt.Sprintf("%s %s makes no requests", p.Type, p.ID), Fix: "ask about an IAM user or role, or an Identity Center user"}
	}
	a.Decision = sum(a.Cases)
	return a, nil
}

// sum is the decision of several cases: allowed when any is.
func sum(cases []Case) policy.Decision {
	d := policy.ImplicitDeny
	if len(cases) > 0 {
		d = cases[0].Decision
	}
	for _, c := range cases {
		switch {
		case c.Decision == policy.Allowed:
			return policy.Allowed
		case c.Decision == policy.Conditional:
			d = policy.Conditional
		}
	}
	return d
}

func lowerKeys(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// trustAction reports whether an action is one a role's trust policy
// decides.
func trustAction(action string) bool {
	l := strings.ToLower(action)
	return strings.HasPrefix(l, "sts:assumerole") || l == "sts:tagsession" || l == "sts:setsourceidentity" || l == "sts:setcontext"
}

// decide evaluates one request of sub. The resource's own policy is the
// request's resource policy: a role's trust policy for sts:AssumeRole, an
// asset's (bucket, key, function, secret) policy when the resource is or
// is inside an asset the snapshot holds; the RCPs of the resource's
// account apply when it is a member account of the organization.
func (s *Snapshot) decide(ctx context.Context, sub *subject, action, resource string, extra map[string][]string) (Case, error) {
	return s.decideWith(ctx, sub, action, resource, extra, nil)
}

// decideWith is decide with a session policy (nil: none).
func (s *Snapshot) decideWith(ctx context.Context, sub *subject, action, resource string, extra map[string][]string, session *policy.Named) (Case, error) {
	req := policy.Request{Principal: sub.caller, PrincipalIsUser: sub.isUser, PrincipalRole: sub.role, Action: action, Resource: resource,
		ResourceAccount: accountOfARN(resource), Identity: sub.identity, Boundary: sub.boundary, SCPs: sub.scps.levels, SessionPolicy: session, Unknown: true}
	var role, asset *model.Resource
	notes := sub.notes
	var err error
	if trustAction(action) && strings.Contains(resource, ":role/") {
		if role, err = s.src.resource(ctx, resource); err != nil {
			return Case{}, err
		}
		if role != nil && role.Role != nil {
			p := s.doc(role.ID+"#trust", role.Role.TrustPolicy)
			req.ResourcePolicy = &policy.Named{Name: "trust policy of " + role.Name, Via: "trust policy", Doc: p.doc}
			req.ResourceAccount = role.AccountID
		}
	} else if asset, err = s.assetOf(ctx, resource); err != nil {
		return Case{}, err
	} else if asset != nil {
		notes = append([]string(nil), notes...)
		if req.ResourcePolicy, err = s.resourcePolicyFor(ctx, asset, resource, &notes); err != nil {
			return Case{}, err
		}
		req.ResourceAccount = asset.AccountID
	}
	rcps, rcpNote, err := s.rcpsFor(ctx, action, req.ResourceAccount, serviceLinked(sub.r))
	if err != nil {
		return Case{}, err
	}
	req.RCPs = rcps
	if rcpNote != "" {
		notes = append(append([]string(nil), notes...), rcpNote)
	}
	base, err := s.contextOf(ctx, sub)
	if err != nil {
		return Case{}, err
	}
	req.Context = base
	// KMS gives kms:CallerAccount, the caller's account, to every request.
	kms := strings.HasPrefix(strings.ToLower(action), "kms:")
	if len(extra) > 0 || req.ResourceAccount != "" || kms {
		req.Context = make(map[string][]string, len(base)+len(extra)+2)
		for k, v := range base {
			req.Context[k] = v
		}
		if req.ResourceAccount != "" {
			req.Context["aws:resourceaccount"] = []string{req.ResourceAccount}
		}
		if kms {
			req.Context["kms:calleraccount"] = base["aws:principalaccount"]
		}
		for k, v := range extra {
			req.Context[k] = v
		}
	}
	bpa, err := s.publicAccessBlockOf(ctx, asset)
	if err != nil {
		return Case{}, err
	}
	return s.evaluateOn(&req, role, asset, bpa, notes, sub.scps.note), nil
}

// evaluate decides req; a request to assume a role also needs the role's
// trust policy to allow it (naming the principal or its account), which
// AWS requires even within one account.
func (s *Snapshot) evaluate(req *policy.Request, role *model.Resource, notes []string, scpNote string) Case {
	return s.evaluateOn(req, role, nil, model.PublicAccessBlock{}, notes, scpNote)
}

// evaluateOn is evaluate for a request on role (sts:AssumeRole) or on an
// asset, whose own rules (assetRules, with bpa the Block Public Access of
// a bucket) apply after the evaluation.
func (s *Snapshot) evaluateOn(req *policy.Request, role, asset *model.Resource, bpa model.PublicAccessBlock, notes []string, scpNote string) Case {
	res := policy.Evaluate(req)
	if asset != nil && asset.KMSKey != nil && (res.Decision == policy.Allowed || res.Decision == policy.Conditional) && !hasKind(res.Explanation, "resource") {
		// Allowed by identity policies alone, which count on a key only
		// where its key policy delegates to the account: decide again with
		// their denies only, for what the key policy or a grant allows
		// (nothing: assetRules says why).
		alone := *req
		alone.Identity = s.denyOnly(req.Identity)
		if r := policy.Evaluate(&alone); r.Decision != policy.ImplicitDeny {
			res = r
		}
	}
	if role != nil && res.Decision == policy.Allowed && !hasKind(res.Explanation, "resource") {
		res = policy.Result{Decision: policy.ImplicitDeny, Explanation: []policy.Step{{Kind: "resource", Policy: "trust policy of " + role.Name,
			Via: "trust policy", Effect: "none", Note: "the trust policy of " + role.Name + " does not allow the principal: a role is assumed only when its trust policy allows it"}}}
	}
	res = assetRules(asset, bpa, req, res)
	c := Case{Decision: res.Decision, Explanation: res.Explanation, AllowedIf: res.AllowedIf, Notes: []string{}}
	if c.Explanation == nil {
		c.Explanation = []policy.Step{}
	}
	if c.AllowedIf == nil {
		c.AllowedIf = []policy.Alternative{}
	}
	if scpNote != "" {
		c.Notes = append(c.Notes, scpNote)
	}
	c.Notes = append(c.Notes, notes...)
	return c
}

func hasKind(steps []policy.Step, kind string) bool {
	for _, s := range steps {
		if s.Kind == kind && s.Effect == "Allow" {
			return true
		}
	}
	return false
}

// ssoCases are the cases of an Identity Center user: one per account and
// permission set it holds, through the role Identity Center made for it
// there (or, when that account's IAM is not in the snapshot, the
// permission set's own policies).
func (s *Snapshot) ssoCases(ctx context.Context, p *model.Resource, action, resource string, extra map[string][]string, session *policy.Named) ([]Case, error) {
	held, err := s.src.held(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, h := range held {
		if h.r != nil {
			names[h.r.ID] = h.r.Name
		}
	}
	type key struct{ account, ps, via string }
	seen := map[key]bool{}
	var cases []Case
	// Through the reserved roles the sync linked to the user.
	for _, h := range held {
		if h.r == nil || h.r.Type != model.TypeIAMRole || !strings.HasSuffix(h.g.EntitlementID, "#"+model.EntAssume) {
			continue
		}
		ps, ok := model.ReservedRolePermissionSet(h.r.Name)
		if !ok || h.g.Provenance != model.ViaSSO && h.g.Provenance != model.ViaGroup {
			continue
		}
		via := "direct"
		if h.g.Provenance == model.ViaGroup {
			via = "group " + names[h.g.ViaID]
		}
		k := key{h.r.AccountID, ps, via}
		if seen[k] {
			continue
		}
		seen[k] = true
		sub, err := s.subjectOf(ctx, h.r)
		if err != nil {
			return nil, err
		}
		c, err := s.decideWith(ctx, sub.through("permission set "+ps), action, resource, extra, session)
		if err != nil {
			return nil, err
		}
		role := refOf(h.r)
		c.AccountID, c.PermissionSet, c.Via, c.Role = h.r.AccountID, ps, via, &role
		cases = append(cases, c)
	}
	// Assignments whose role the snapshot does not hold.
	for _, h := range held {
		if h.r == nil || h.r.Type != model.TypePermissionSet {
			continue
		}
		_, ent, _ := strings.Cut(h.g.EntitlementID, "#")
		acct, ok := strings.CutPrefix(ent, model.AssignmentEntitlement(""))
		if !ok {
			continue
		}
		via := "direct"
		if h.g.Provenance == model.ViaGroup {
			via = "group " + names[h.g.ViaID]
		}
		k := key{acct, h.r.Name, via}
		if seen[k] {
			continue
		}
		seen[k] = true
		sub, err := s.permissionSetSubject(ctx, h.r, acct)
		if err != nil {
			return nil, err
		}
		c, err := s.decideWith(ctx, sub, action, resource, extra, session)
		if err != nil {
			return nil, err
		}
		c.AccountID, c.PermissionSet, c.Via = acct, h.r.Name, via
		c.Notes = append(c.Notes, "the role of permission set "+h.r.Name+" in account "+acct+" is not in the snapshot (its IAM was not synced): the permission set's own policies were evaluated")
		cases = append(cases, c)
	}
	sort.SliceStable(cases, func(i, j int) bool {
		if cases[i].AccountID != cases[j].AccountID {
			return cases[i].AccountID < cases[j].AccountID
		}
		if cases[i].PermissionSet != cases[j].PermissionSet {
			return cases[i].PermissionSet < cases[j].PermissionSet
		}
		return cases[i].Via < cases[j].Via
	})
	if cases == nil {
		cases = []Case{}
	}
	return cases, nil
}

// through is sub with its identity policies named as reaching it through
// via (an Identity Center permission set).
func (sub *subject) through(via string) *subject {
	c := *sub
	c.identity = make([]policy.Named, len(sub.identity))
	for i, n := range sub.identity {
		n.Via = via
		if sub.identity[i].Via == "inline" {
			n.Via = via + " (inline)"
		}
		c.identity[i] = n
	}
	return &c
}

// permissionSetSubject is the subject a permission set gives in an account
// whose role the snapshot does not hold: its AWS managed, customer managed
// (resolved in the account) and inline policies, and its boundary.
func (s *Snapshot) permissionSetSubject(ctx context.Context, ps *model.Resource, account string) (*subject, error) {
	name := "AWSReservedSSO_" + ps.Name
	sub := &subject{r: ps, caller: "arn:aws:sts::" + account + ":assumed-role/" + name + "/warden", role: "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/" + name,
		ctx: map[string][]string{"aws:principaltype": {"AssumedRole"}}}
	via := "permission set " + ps.Name
	a := ps.PermissionSet
	if a == nil {
		a = &model.PermissionSetAttrs{}
	}
	resolve := func(ref string) string {
		if strings.HasPrefix(ref, "arn:") {
			return ref
		}
		return "arn:aws:iam::" + account + ":policy" + ref
	}
	for _, ref := range append(append([]string{}, a.ManagedPolicies...), a.CustomerManagedPolicies...) {
		r, err := s.src.resource(ctx, resolve(ref))
		if err != nil {
			return nil, err
		}
		if r == nil {
			r = &model.Resource{ID: resolve(ref), Name: lastPart(ref)}
		}
		sub.identity = append(sub.identity, s.named(r, via, &sub.notes))
	}
	if a.InlinePolicy != "" {
		p := s.doc(ps.ID+"#inline", a.InlinePolicy)
		sub.identity = append(sub.identity, policy.Named{Name: "inline policy", Via: via + " (inline)", Doc: p.doc})
	}
	if a.PermissionsBoundary != "" {
		r, err := s.src.resource(ctx, resolve(a.PermissionsBoundary))
		if err != nil {
			return nil, err
		}
		if r == nil {
			r = &model.Resource{ID: resolve(a.PermissionsBoundary), Name: lastPart(a.PermissionsBoundary)}
		}
		sub.boundary = []policy.Named{s.named(r, "permissions boundary", &sub.notes)}
	}
	if err := s.fill(ctx, sub.ctx, "arn:aws:iam::"+account+":role/aws-reserved/sso.amazonaws.com/"+name, account, nil); err != nil {
		return nil, err
	}
	var err error
	if sub.scps, err = s.scpLevels(ctx, account); err != nil {
		return nil, err
	}
	return sub, nil
}

// IsInput reports whether err is a problem with the question (not found,
// ambiguous, malformed) rather than with the store.
func IsInput(err error) bool {
	var nf *NotFoundError
	var am *AmbiguousError
	var in *InputError
	return errors.As(err, &nf) || errors.As(err, &am) || errors.As(err, &in)
}

// MaxSessionPolicy is the most characters AWS takes in an inline session
// policy (AssumeRole's Policy parameter).
const MaxSessionPolicy = 2048

// ParseSessionPolicy parses a session policy document for Question: nil
// for "", an *InputError naming the problem when it is not a policy
// document AWS would take.
func ParseSessionPolicy(text string) (*policy.Named, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, nil
	}
	fix := `give a JSON policy document, {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	if len(t) > MaxSessionPolicy {
		return nil, &InputError{Problem: fmt.Sprintf("the session policy has %d characters; AWS takes at most %d", len(t), MaxSessionPolicy), Fix: "shorten it: " + fix}
	}
	d, err := policy.Parse(t)
	if err != nil {
		return nil, &InputError{Problem: "the session policy is not a policy document: " + err.Error(), Fix: fix}
	}
	for i, st := range d.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, &InputError{Problem: fmt.Sprintf("the session policy's statement %d has Effect %q", i+1, st.Effect), Fix: `use "Allow" or "Deny"`}
		}
		if len(st.Principal) > 0 || len(st.NotPrincipal) > 0 {
			return nil, &InputError{Problem: fmt.Sprintf("the session policy's statement %d names a Principal", i+1), Fix: "a session policy is an identity policy: remove Principal"}
		}
	}
	return &policy.Named{Name: "session policy", Via: "session policy", Doc: d}, nil
}
