package findings

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// EscalationStep is one thing a principal can do on the way to
// administrator, with the statements that allow it.
type EscalationStep struct {
	// Principal acts: it makes the requests of Actions on Target.
	Principal effective.Ref `json:"principal"`
	Actions   []string      `json:"actions"`
	Target    effective.Ref `json:"target"`
	// Gains says what the step gives, e.g. "acts as user ann (new access
	// key)" or "attaches any policy to itself".
	Gains       string               `json:"gains"`
	Decision    policy.Decision      `json:"decision"`
	AllowedIf   []policy.Alternative `json:"allowed_if"`
	Explanation []policy.Step        `json:"explanation"`
}

// EscalationPath is a way a principal that is not an administrator
// becomes one: Steps in order, the last ending as Admin (the principal
// itself when it gives itself the access).
type EscalationPath struct {
	Principal effective.Ref `json:"principal"`
	Admin     effective.Ref `json:"admin"`
	// Decision is allowed when every step is, else allowed_if with the
	// conditions of all steps (AllowedIf).
	Decision  policy.Decision      `json:"decision"`
	AllowedIf []policy.Alternative `json:"allowed_if"`
	Steps     []EscalationStep     `json:"steps"`
}

// MaxEscalationSteps is the longest path EscalationPaths looks for.
const MaxEscalationSteps = 5

// computeServices are the services a passed role can run code as, with
// the requests that create (and start) it there.
var computeServices = map[string][]string{
	"lambda.amazonaws.com":         {"lambda:CreateFunction", "lambda:InvokeFunction"},
	"ec2.amazonaws.com":            {"ec2:RunInstances"},
	"cloudformation.amazonaws.com": {"cloudformation:CreateStack"},
	"glue.amazonaws.com":           {"glue:CreateJob", "glue:StartJobRun"},
	"codebuild.amazonaws.com":      {"codebuild:CreateProject", "codebuild:StartBuild"},
	"ecs-tasks.amazonaws.com":      {"ecs:RegisterTaskDefinition", "ecs:RunTask"},
	"sagemaker.amazonaws.com":      {"sagemaker:CreateNotebookInstance"},
}

// escalation is the state of one EscalationPaths.
type escalation struct {
	ctx          context.Context
	s            *effective.Snapshot
	x            *index
	holds        map[string]bool
	admin        map[string]bool
	whoCan       map[string]map[string]EscalationStep    // action+resource → principal ID → step
	allow        map[string][]*model.Resource            // action → principals an identity policy may allow it
	allowIn      map[string]map[string][]*model.Resource // action → account → those of allow in it
	allowed      map[string]map[string]bool              // action → IDs of allow
	roleAccounts map[string]map[string]bool              // role ID → the accounts whose principals its trust policy may let assume it (nil: any)
	docs         map[string]*policy.Document             // policy ID → parsed document (nil: unreadable)
	trusted      map[string][]string                     // role ID → users and roles its trust policy names
	all          []*model.Resource
	pdocs        [][]*policy.Document                 // all[i]'s identity policies, parsed
	block        map[string]map[string]bool           // principal → what stops it from the probes
	creates      map[string]map[string]EscalationStep // service → principal → step
	best         map[string]*EscalationPath
}

// EscalationPaths finds, for every IAM user and role of snapshot s
// (opened with effective.Load; g its graph) that is not an effective
// administrator, the shortest way to become one, each step decided by the
// evaluator and explained by the statements that allow it:
//
//   - create an access key or a login profile for another user, or update
//     its login profile (iam:CreateAccessKey, iam:CreateLoginProfile,
//     iam:UpdateLoginProfile): act as that user;
//   - attach or put a policy on itself or on one of its groups
//     (iam:AttachUserPolicy, iam:PutUserPolicy, iam:AttachGroupPolicy,
//     iam:PutGroupPolicy, iam:AttachRolePolicy, iam:PutRolePolicy), when
//     nothing but a missing allow (no SCP, boundary or deny) stops it from
//     the AdminProbes;
//   - attach or put a policy on a role it can assume, likewise;
//   - remove or replace its permissions boundary
//     (iam:DeleteUserPermissionsBoundary, iam:PutUserPermissionsBoundary and
//     the role ones) when the boundary is all that stops an administrator
//     policy it holds;
//   - rewrite a role's trust policy (iam:UpdateAssumeRolePolicy): assume it;
//   - pass a role (iam:PassRole) to a compute service the role trusts and
//     in which it can create and start code (Lambda, EC2,
//     CloudFormation, Glue, CodeBuild, ECS, SageMaker): act as the role;
//   - assume a role (sts:AssumeRole, its trust policy allowing).
//
// Paths are at most MaxEscalationSteps long; the list is shortest first,
// allowed before allowed_if, then by type, account and name.
func EscalationPaths(ctx context.Context, s *effective.Snapshot, g *model.Graph, admins []EffectiveAdmin) ([]EscalationPath, error) {
	e := &escalation{ctx: ctx, s: s, x: newIndex(g), holds: map[string]bool{}, admin: map[string]bool{},
		whoCan: map[string]map[string]EscalationStep{}, block: map[string]map[string]bool{},
		allow: map[string][]*model.Resource{}, allowIn: map[string]map[string][]*model.Resource{}, allowed: map[string]map[string]bool{},
		roleAccounts: map[string]map[string]bool{}, docs: map[string]*policy.Document{}, trusted: map[string][]string{},
		creates: map[string]map[string]EscalationStep{}, best: map[string]*EscalationPath{}}
	for _, a := range Admins(g) {
		e.holds[a.ID] = true
	}
	for _, a := range admins {
		if a.Path == "direct" {
			e.admin[a.Principal.ID] = true
		}
	}
	var principals []*model.Resource
	for i := range g.Resources {
		r := &g.Resources[i]
		if isPrincipal(r) && !strings.HasPrefix(r.Path, "/aws-service-role/") {
			principals = append(principals, r)
		}
	}
	sort.Slice(principals, func(i, j int) bool { return principals[i].ID < principals[j].ID })
	e.all = principals
	for _, gr := range g.Grants {
		if res, ent, ok := strings.Cut(gr.EntitlementID, "#"); ok && ent == model.EntAssume && gr.Provenance == model.ViaTrust {
			e.trusted[res] = append(e.trusted[res], gr.PrincipalID)
		}
	}
	// Paths a principal takes on its own, and through a role it can
	// assume and give a policy to.
	for _, p := range principals {
		if e.admin[p.ID] {
			continue
		}
		if err := e.selfPaths(p); err != nil {
			return nil, err
		}
	}
	for _, r := range principals {
		if r.Type != model.TypeIAMRole || e.admin[r.ID] {
			continue
		}
		if err := e.attachAssumable(r); err != nil {
			return nil, err
		}
	}
	// Then, shortest first, whoever can become a principal that is (or
	// has a way to become) an administrator.
	for round := 0; round < MaxEscalationSteps; round++ {
		changed := false
		targets := make([]*model.Resource, 0, len(principals))
		for _, t := range principals {
			if e.admin[t.ID] || e.best[t.ID] != nil {
				targets = append(targets, t)
			}
		}
		for _, t := range targets {
			steps, err := e.becomers(t)
			if err != nil {
				return nil, err
			}
			for _, st := range steps {
				pid := st.Principal.ID
				if pid == t.ID || e.admin[pid] {
					continue
				}
				rest := e.best[t.ID]
				n := 1
				if rest != nil {
					n += len(rest.Steps)
				}
				if n > MaxEscalationSteps {
					continue
				}
				if cur := e.best[pid]; cur != nil && (len(cur.Steps) < n || len(cur.Steps) == n && (cur.Decision == policy.Allowed || st.Decision != policy.Allowed)) {
					continue
				}
				path := &EscalationPath{Principal: st.Principal, Admin: refOfResource(t), Steps: []EscalationStep{st}}
				if rest != nil {
					path.Admin = rest.Admin
					path.Steps = append(path.Steps, rest.Steps...)
				}
				e.best[pid] = finish(path)
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	out := make([]EscalationPath, 0, len(e.best))
	for _, p := range e.best {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if len(a.Steps) != len(b.Steps) {
			return len(a.Steps) < len(b.Steps)
		}
		if (a.Decision == policy.Allowed) != (b.Decision == policy.Allowed) {
			return a.Decision == policy.Allowed
		}
		if a.Principal.Type != b.Principal.Type {
			return a.Principal.Type < b.Principal.Type
		}
		if a.Principal.AccountID != b.Principal.AccountID {
			return a.Principal.AccountID < b.Principal.AccountID
		}
		return a.Principal.Name < b.Principal.Name
	})
	return out, nil
}

// finish sets a path's decision from its steps'.
func finish(p *EscalationPath) *EscalationPath {
	p.Decision, p.AllowedIf = policy.Allowed, []policy.Alternative{}
	for _, st := range p.Steps {
		if st.Decision == policy.Conditional {
			p.Decision = policy.Conditional
			p.AllowedIf = andAlts(p.AllowedIf, st.AllowedIf)
		}
	}
	return p
}

func refOfResource(r *model.Resource) effective.Ref {
	return effective.Ref{ID: r.ID, Type: r.Type, Name: r.Name, ARN: r.ARN, AccountID: r.AccountID}
}

// can decides one request of p; ok when allowed or allowed_if.
func (e *escalation) can(p *model.Resource, action, resource string) (EscalationStep, bool, error) {
	ans, err := e.s.Can(e.ctx, p, effective.Question{Principal: p.ARN, Action: action, Resource: resource})
	if err != nil {
		return EscalationStep{}, false, fmt.Errorf("privilege escalation: can %s %s %s: %w", p.ID, action, resource, err)
	}
	st := EscalationStep{Principal: refOfResource(p), Actions: []string{action}, Decision: ans.Decision, AllowedIf: []policy.Alternative{}, Explanation: []policy.Step{}}
	if ans.Decision == policy.Conditional {
		st.AllowedIf = caseAlts(ans)
	}
	for _, c := range ans.Cases {
		if c.Decision == ans.Decision {
			st.Explanation = c.Explanation
			break
		}
	}
	return st, ans.Decision == policy.Allowed || ans.Decision == policy.Conditional, nil
}

// blockers says what stops p from each of the AdminProbes on "*":
// "identity" (no identity-based allow), "boundary", "scp", "rcp",
// "deny" (an explicit deny); nothing for a probe it is allowed.
func (e *escalation) blockers(p *model.Resource) (map[string]bool, error) {
	if b, ok := e.block[p.ID]; ok {
		return b, nil
	}
	b := map[string]bool{}
	for _, action := range AdminProbes {
		ans, err := e.s.Can(e.ctx, p, effective.Question{Principal: p.ARN, Action: action, Resource: "*"})
		if err != nil {
			return nil, fmt.Errorf("privilege escalation: can %s %s: %w", p.ID, action, err)
		}
		switch ans.Decision {
		case policy.Allowed, policy.Conditional:
		case policy.ExplicitDeny:
			b["deny"] = true
		default:
			for _, c := range ans.Cases {
				for _, st := range c.Explanation {
					if st.Effect == "none" {
						b[st.Kind] = true
					}
				}
			}
			if len(ans.Cases) == 0 {
				b["identity"] = true
			}
		}
	}
	e.block[p.ID] = b
	return b, nil
}

// only reports whether every blocker of b is one of allowed.
func only(b map[string]bool, allowed ...string) bool {
	for k := range b {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return false
		}
	}
	return true
}

// firstAllowed is the first of actions p can do on resource.
func (e *escalation) firstAllowed(p *model.Resource, resource string, actions ...string) (EscalationStep, bool, error) {
	var cond *EscalationStep
	for _, a := range actions {
		st, ok, err := e.can(p, a, resource)
		if err != nil {
			return st, false, err
		}
		if ok && st.Decision == policy.Allowed {
			return st, true, nil
		}
		if ok && cond == nil {
			c := st
			cond = &c
		}
	}
	if cond != nil {
		return *cond, true, nil
	}
	return EscalationStep{}, false, nil
}

func (e *escalation) offer(p *model.Resource, steps ...EscalationStep) {
	path := finish(&EscalationPath{Principal: refOfResource(p), Admin: refOfResource(p), Steps: steps})
	if cur := e.best[p.ID]; cur != nil && (len(cur.Steps) < len(steps) || len(cur.Steps) == len(steps) && (cur.Decision == policy.Allowed || path.Decision != policy.Allowed)) {
		return
	}
	e.best[p.ID] = path
}

// selfPaths are the ways p gives itself an administrator's access.
func (e *escalation) selfPaths(p *model.Resource) error {
	attach := []string{"iam:AttachUserPolicy", "iam:PutUserPolicy"}
	unbound := []string{"iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"}
	boundary := p.User != nil && p.User.PermissionsBoundary != ""
	if p.Type == model.TypeIAMRole {
		attach = []string{"iam:AttachRolePolicy", "iam:PutRolePolicy"}
		unbound = []string{"iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"}
		boundary = p.Role != nil && p.Role.PermissionsBoundary != ""
	}
	self := refOfResource(p)
	var att, unb *EscalationStep
	if st, ok, err := e.firstAllowed(p, p.ARN, e.mayDo(p, attach)...); err != nil {
		return err
	} else if ok {
		st.Target, st.Gains = self, "attaches any policy to itself (AdministratorAccess)"
		att = &st
	}
	if boundary {
		if st, ok, err := e.firstAllowed(p, p.ARN, e.mayDo(p, unbound)...); err != nil {
			return err
		} else if ok {
			st.Target, st.Gains = self, "removes or replaces its permissions boundary"
			unb = &st
		}
	}
	var b map[string]bool
	if att != nil || unb != nil || len(e.mayDo(p, []string{"iam:AttachGroupPolicy", "iam:PutGroupPolicy"})) > 0 {
		var err error
		if b, err = e.blockers(p); err != nil {
			return err
		}
	}
	switch {
	case att != nil && only(b, "identity"):
		e.offer(p, *att)
	case unb != nil && e.holds[p.ID] && only(b, "boundary"):
		e.offer(p, *unb)
	case att != nil && unb != nil && only(b, "identity", "boundary"):
		e.offer(p, *unb, *att)
	}
	groupActs := e.mayDo(p, []string{"iam:AttachGroupPolicy", "iam:PutGroupPolicy"})
	if p.Type != model.TypeIAMUser || len(groupActs) == 0 || !only(b, "identity") {
		return nil
	}
	// Its groups' policies are its own.
	for _, gr := range e.x.held[p.ID] {
		r, name, ok := e.x.target(gr)
		if !ok || name != model.EntMember || r.Type != model.TypeIAMGroup {
			continue
		}
		st, ok, err := e.firstAllowed(p, r.ARN, groupActs...)
		if err != nil {
			return err
		}
		if ok {
			st.Target, st.Gains = refOfResource(r), "attaches any policy to its group "+r.Name
			e.offer(p, st)
		}
	}
	return nil
}

// direct are the principals allowed (or allowed if) action on resource,
// each by its own policies (and, for sts:AssumeRole, the role's trust
// policy): every principal an identity policy may allow the action, and
// those a role's trust policy names, decided one by one.
func (e *escalation) direct(action, resource string) (map[string]EscalationStep, error) {
	key := action + "\x00" + resource
	if m, ok := e.whoCan[key]; ok {
		return m, nil
	}
	m := map[string]EscalationStep{}
	cands := e.candidates(action, resource)
	if action == "sts:AssumeRole" {
		seen := map[string]bool{}
		for _, p := range cands {
			seen[p.ID] = true
		}
		named := append([]string{}, e.trusted[resource]...)
		if r := e.x.byID[resource]; r != nil && r.Role != nil {
			if trusted, err := policy.TrustedPrincipals(r.Role.TrustPolicy); err == nil {
				for _, tp := range trusted {
					if tp.Kind == "AWS" {
						named = append(named, tp.Value)
					}
				}
			}
		}
		for _, id := range named {
			if p := e.x.byID[id]; p != nil && isPrincipal(p) && !seen[id] {
				seen[id] = true
				cands = append(cands, p)
			}
		}
	}
	for _, p := range cands {
		if e.admin[p.ID] {
			continue // an administrator needs no way up
		}
		st, ok, err := e.can(p, action, resource)
		if err != nil {
			return nil, err
		}
		if ok {
			m[p.ID] = st
		}
	}
	e.whoCan[key] = m
	return m, nil
}

// candidates are the principals whose own policies may allow action on
// resource, skipping those that cannot apply: an IAM request (iam:…) acts
// only on its caller's own account (IAM has no cross-account access), so
// only the resource's account's allowers are asked; for sts:AssumeRole,
// which the role's trust policy must allow in every case, only the
// allowers of the accounts the trust policy names as a whole (an account
// ID or its root), or every allower when it names "*" or cannot be read
// (direct adds the principals it names one by one). A resource of no
// account ("*") asks every allower.
func (e *escalation) candidates(action, resource string) []*model.Resource {
	account := arnAccount(resource)
	if account == "" {
		return e.allowers(action)
	}
	e.allowers(action)
	by := e.allowIn[action]
	if action != "sts:AssumeRole" {
		if strings.HasPrefix(action, "iam:") {
			return by[account]
		}
		return e.allowers(action)
	}
	accounts, ok := e.trustAccounts(resource)
	if !ok {
		return e.allowers(action)
	}
	var out []*model.Resource
	for _, a := range sortedKeys(accounts) {
		out = append(out, by[a]...)
	}
	return out
}

// trustAccounts are the accounts whose every principal the trust policy
// of the role whose ARN is roleARN may let assume it (given an identity
// allow): those it names by account ID or root ARN. Not ok when it names
// "*", uses NotPrincipal, or cannot be read: then any account may.
func (e *escalation) trustAccounts(roleARN string) (map[string]bool, bool) {
	if m, ok := e.roleAccounts[roleARN]; ok {
		return m, m != nil
	}
	var m map[string]bool
	if r := e.x.byID[roleARN]; r != nil && r.Role != nil && !strings.Contains(r.Role.TrustPolicy, "NotPrincipal") {
		if trusted, err := policy.TrustedPrincipals(r.Role.TrustPolicy); err == nil {
			m = map[string]bool{}
			for _, tp := range trusted {
				if tp.Kind == "*" {
					m = nil
					break
				}
				if tp.Kind != "AWS" {
					continue
				}
				switch a := arnAccount(tp.Value); {
				case len(tp.Value) == 12:
					m[tp.Value] = true
				case a != "" && strings.HasSuffix(tp.Value, ":root"):
					m[a] = true
				case a != "":
					// A principal named by ARN: direct asks it (trusted, named).
				default:
					m = nil
				}
				if m == nil {
					break
				}
			}
		}
	}
	e.roleAccounts[roleARN] = m
	return m, m != nil
}

// arnAccount is the account of an ARN ("" for "*" or no account).
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return ""
	}
	return parts[4]
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mayDo is those of actions an identity policy of p may allow.
func (e *escalation) mayDo(p *model.Resource, actions []string) []string {
	var out []string
	for _, a := range actions {
		e.allowers(a)
		if e.allowed[a][p.ID] {
			out = append(out, a)
		}
	}
	return out
}

// allowers are the principals one of whose identity policies (its own or
// its groups') has an Allow statement whose Action or NotAction takes in
// action: without one, no identity-based request for it is allowed.
func (e *escalation) allowers(action string) []*model.Resource {
	if l, ok := e.allow[action]; ok {
		return l
	}
	l := []*model.Resource{}
	a := strings.ToLower(action)
	if e.pdocs == nil {
		// Each principal's identity policies (its own and its groups'),
		// found once for every action.
		e.pdocs = make([][]*policy.Document, len(e.all))
		for i, p := range e.all {
			for _, path := range e.x.policyPaths(p) {
				if d := e.doc(path.PolicyID); d != nil {
					e.pdocs[i] = append(e.pdocs[i], d)
				}
			}
		}
	}
	for i, p := range e.all {
		for _, d := range e.pdocs[i] {
			if mayAllow(d, a) {
				l = append(l, p)
				break
			}
		}
	}
	e.allow[action] = l
	in, ids := map[string][]*model.Resource{}, make(map[string]bool, len(l))
	for _, p := range l {
		in[p.AccountID] = append(in[p.AccountID], p)
		ids[p.ID] = true
	}
	e.allowIn[action], e.allowed[action] = in, ids
	return l
}

func (e *escalation) doc(id string) *policy.Document {
	if d, ok := e.docs[id]; ok {
		return d
	}
	var d *policy.Document
	if r := e.x.byID[id]; r != nil {
		if text, err := policy.Decode(Document(r)); err == nil {
			d, _ = policy.Parse(text)
		}
	}
	e.docs[id] = d
	return d
}

// mayAllow reports whether d has an Allow statement whose Action or
// NotAction takes in action (lower case).
func mayAllow(d *policy.Document, action string) bool {
	if d == nil {
		return false
	}
	for _, st := range d.Statement {
		if st.Effect != "Allow" {
			continue
		}
		if len(st.Action) > 0 {
			for _, p := range st.Action {
				if policy.Glob(strings.ToLower(p), action) {
					return true
				}
			}
			continue
		}
		if len(st.NotAction) > 0 {
			out := false
			for _, p := range st.NotAction {
				out = out || policy.Glob(strings.ToLower(p), action)
			}
			if !out {
				return true
			}
		}
	}
	return false
}

func stepOf(st EscalationStep, target effective.Ref, gains string) EscalationStep {
	st.Target, st.Gains = target, gains
	return st
}

// attachAssumable offers, to whoever can both give role r a policy and
// assume it, that path, when nothing but a missing allow stops r. Giving
// a role a policy is an IAM request, made only in the role's account, so
// only the principals there whose policies may allow it are asked, first
// whether they can assume r.
func (e *escalation) attachAssumable(r *model.Resource) error {
	ref := refOfResource(r)
	var cands []*model.Resource
	seen := map[string]bool{}
	for _, action := range []string{"iam:AttachRolePolicy", "iam:PutRolePolicy"} {
		for _, p := range e.candidates(action, r.ARN) {
			if !seen[p.ID] && p.ID != r.ID && !e.admin[p.ID] {
				seen[p.ID] = true
				cands = append(cands, p)
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	b, err := e.blockers(r)
	if err != nil {
		return err
	}
	if !only(b, "identity") {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].ID < cands[j].ID })
	assume := map[string]EscalationStep{}
	for _, p := range cands {
		if st, ok, err := e.can(p, "sts:AssumeRole", r.ARN); err != nil {
			return err
		} else if ok {
			assume[p.ID] = st
		}
	}
	for _, action := range []string{"iam:AttachRolePolicy", "iam:PutRolePolicy"} {
		for _, p := range cands {
			as, ok := assume[p.ID]
			if !ok || len(e.mayDo(p, []string{action})) == 0 {
				continue
			}
			en, ok, err := e.can(p, action, r.ARN)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			path := finish(&EscalationPath{Principal: en.Principal, Admin: ref, Steps: []EscalationStep{
				stepOf(en, ref, "attaches any policy to role "+r.Name),
				stepOf(as, ref, "acts as role "+r.Name)}})
			if cur := e.best[p.ID]; cur == nil || len(cur.Steps) > 2 || len(cur.Steps) == 2 && cur.Decision != policy.Allowed && path.Decision == policy.Allowed {
				e.best[p.ID] = path
			}
		}
	}
	return nil
}

// becomers are the steps by which a principal comes to act as t.
func (e *escalation) becomers(t *model.Resource) ([]EscalationStep, error) {
	ref := refOfResource(t)
	var out []EscalationStep
	add := func(action, gains string) error {
		m, err := e.direct(action, t.ARN)
		if err != nil {
			return err
		}
		for _, id := range sortedIDs(m) {
			out = append(out, stepOf(m[id], ref, gains))
		}
		return nil
	}
	if t.Type == model.TypeIAMUser {
		for _, a := range []struct{ action, gains string }{
			{"iam:CreateAccessKey", "acts as user " + t.Name + " (a new access key)"},
			{"iam:CreateLoginProfile", "acts as user " + t.Name + " (a console password)"},
			{"iam:UpdateLoginProfile", "acts as user " + t.Name + " (a new console password)"},
		} {
			if err := add(a.action, a.gains); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if err := add("sts:AssumeRole", "acts as role "+t.Name); err != nil {
		return nil, err
	}
	if err := add("iam:UpdateAssumeRolePolicy", "rewrites the trust policy of role "+t.Name+" to trust itself, then assumes it"); err != nil {
		return nil, err
	}
	// iam:PassRole to a compute service the role trusts.
	if t.Role == nil {
		return out, nil
	}
	trusted, err := policy.TrustedPrincipals(t.Role.TrustPolicy)
	if err != nil {
		return out, nil
	}
	pass, err := e.direct("iam:PassRole", t.ARN)
	if err != nil {
		return nil, err
	}
	for _, tp := range trusted {
		creates, ok := computeServices[tp.Value]
		if tp.Kind != "Service" || !ok || len(pass) == 0 {
			continue
		}
		makers, err := e.creators(tp.Value, creates)
		if err != nil {
			return nil, err
		}
		for _, id := range sortedIDs(pass) {
			mk, ok := makers[id]
			if !ok {
				continue
			}
			st := stepOf(pass[id], ref, "passes role "+t.Name+" to "+tp.Value+" and runs code as it")
			st.Actions = append(st.Actions, mk.Actions...)
			st.Explanation = joinSteps(st.Explanation, mk.Explanation)
			if mk.Decision == policy.Conditional {
				st.Decision = policy.Conditional
				st.AllowedIf = andAlts(st.AllowedIf, mk.AllowedIf)
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// creators are the principals allowed every one of actions on "*" (create
// and start code in a service), with those actions' statements.
func (e *escalation) creators(service string, actions []string) (map[string]EscalationStep, error) {
	if m, ok := e.creates[service]; ok {
		return m, nil
	}
	var m map[string]EscalationStep
	for i, a := range actions {
		d, err := e.direct(a, "*")
		if err != nil {
			return nil, err
		}
		next := map[string]EscalationStep{}
		for id, en := range d {
			st := en
			if i > 0 {
				prev, ok := m[id]
				if !ok {
					continue
				}
				st.Actions = append(prev.Actions, a)
				st.Explanation = joinSteps(prev.Explanation, en.Explanation)
				if prev.Decision == policy.Conditional {
					st.Decision = policy.Conditional
					st.AllowedIf = andAlts(prev.AllowedIf, st.AllowedIf)
				}
			}
			next[id] = st
		}
		m = next
	}
	e.creates[service] = m
	return m, nil
}

func sortedIDs(m map[string]EscalationStep) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// joinSteps is a then b, without repeating a statement.
func joinSteps(a, b []policy.Step) []policy.Step {
	out := append([]policy.Step{}, a...)
	for _, st := range b {
		dup := false
		for _, o := range out {
			dup = dup || o == st
		}
		if !dup {
			out = append(out, st)
		}
	}
	return out
}
