package effective

import (
	"context"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// subject is an IAM user or role (or the role an Identity Center
// permission set gives in an account) as the evaluator sees it: the ARN
// its requests are made as, the policies that apply, and the condition
// keys the snapshot knows of it.
type subject struct {
	r        *model.Resource
	caller   string // the user's ARN, or a session of the role
	role     string // the role's ARN, with its path, when caller is a session
	isUser   bool
	identity []policy.Named
	boundary []policy.Named // nil: no boundary
	scps     levelsOf
	ctx      map[string][]string // condition keys, lower case
	notes    []string            // what the snapshot could not say
}

// serviceLinked reports whether a role is a service-linked role, which
// SCPs do not restrict.
func serviceLinked(r *model.Resource) bool {
	return r.Type == model.TypeIAMRole && strings.HasPrefix(r.Path, "/aws-service-role/")
}

// partition is the partition of an ARN ("aws" when it has none).
func partition(arn string) string {
	p := strings.SplitN(arn, ":", 3)
	if len(p) == 3 && p[0] == "arn" && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// subjectOf builds (once) the subject of an IAM user or role.
func (s *Snapshot) subjectOf(ctx context.Context, r *model.Resource) (*subject, error) {
	s.mu.Lock()
	sub, ok := s.subjects[r.ID]
	s.mu.Unlock()
	if ok {
		return sub, nil
	}
	held, err := s.src.held(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	sub = &subject{r: r, caller: r.ARN, isUser: r.Type == model.TypeIAMUser}
	if sub.caller == "" {
		sub.caller = r.ID
	}
	for _, h := range held {
		if h.r == nil || !strings.HasSuffix(h.g.EntitlementID, "#"+model.EntAttached) ||
			h.r.Type != model.TypeIAMPolicy && h.r.Type != model.TypeInlinePolicy {
			continue
		}
		via := "direct"
		switch h.g.Provenance {
		case model.ViaInline:
			via = "inline"
		case model.ViaGroup:
			via = "group " + s.groupName(ctx, h.g.ViaID)
		}
		sub.identity = append(sub.identity, s.named(h.r, via, &sub.notes))
	}
	var boundary string
	switch {
	case r.User != nil:
		boundary = r.User.PermissionsBoundary
	case r.Role != nil:
		boundary = r.Role.PermissionsBoundary
		sub.caller = "arn:" + partition(r.ARN) + ":sts::" + r.AccountID + ":assumed-role/" + r.Name + "/warden"
		sub.role = r.ARN
	}
	if boundary != "" {
		b, err := s.src.resource(ctx, boundary)
		if err != nil {
			return nil, err
		}
		if b == nil {
			b = &model.Resource{ID: boundary, Name: lastPart(boundary)}
		}
		sub.boundary = []policy.Named{s.named(b, "permissions boundary", &sub.notes)}
	}
	if serviceLinked(r) {
		sub.scps = levelsOf{note: "SCPs do not apply to service-linked role " + r.Name}
	} else if sub.scps, err = s.scpLevels(ctx, r.AccountID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if q, ok := s.subjects[r.ID]; ok {
		sub = q
	} else {
		s.subjects[r.ID] = sub
	}
	s.mu.Unlock()
	return sub, nil
}

// contextOf returns the condition keys the snapshot knows of sub, made on
// first use (most principals of a who-can are never asked).
func (s *Snapshot) contextOf(ctx context.Context, sub *subject) (map[string][]string, error) {
	s.mu.Lock()
	c := sub.ctx
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	r := sub.r
	switch {
	case r.User != nil:
		c = map[string][]string{"aws:username": {r.Name}, "aws:userid": {r.User.UserID}, "aws:principaltype": {"User"}}
	case r.Role != nil:
		// A role session has no aws:username: known absent (an empty
		// value), not unknown.
		c = map[string][]string{"aws:userid": {r.Role.RoleID + ":warden"}, "aws:principaltype": {"AssumedRole"}, "aws:username": {}}
	default:
		c = map[string][]string{}
	}
	if err := s.fill(ctx, c, r.ARN, r.AccountID, r.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if sub.ctx == nil {
		sub.ctx = c
	}
	c = sub.ctx
	s.mu.Unlock()
	return c, nil
}

// groupName is the name of an IAM group, read once.
func (s *Snapshot) groupName(ctx context.Context, id string) string {
	s.mu.Lock()
	name, ok := s.groups[id]
	s.mu.Unlock()
	if ok {
		return name
	}
	name = lastPart(id)
	if g, err := s.src.resource(ctx, id); err == nil && g != nil && g.Name != "" {
		name = g.Name
	}
	s.mu.Lock()
	s.groups[id] = name
	s.mu.Unlock()
	return name
}

// fill adds the condition keys every principal of the snapshot has: its
// ARN, account, organization and tags.
func (s *Snapshot) fill(ctx context.Context, c map[string][]string, arn, account string, tags map[string]string) error {
	c["aws:principalarn"] = []string{arn}
	c["aws:principalaccount"] = []string{account}
	c["aws:principalisawsservice"] = []string{"false"}
	for k, v := range tags {
		c["aws:principaltag/"+strings.ToLower(k)] = []string{v}
	}
	o, err := s.orgOf(ctx)
	if err != nil {
		return err
	}
	acct, err := s.src.resource(ctx, model.AccountResourceID(account))
	if err != nil {
		return err
	}
	if o.id == "" || acct == nil || acct.Account == nil || acct.Account.Org == nil {
		// Outside an organization the key is known absent.
		c["aws:principalorgid"] = []string{}
		return nil
	}
	c["aws:principalorgid"] = []string{o.id}
	return nil
}

// named is a policy resource as the evaluator takes it, its document
// parsed once; a document the snapshot lacks or that does not parse is
// kept (with no statements) and noted.
func (s *Snapshot) named(r *model.Resource, via string, notes *[]string) policy.Named {
	p := s.doc(r.ID, documentOf(r))
	if p.err != nil {
		*notes = append(*notes, "policy "+r.ID+" ("+via+") could not be read: "+p.err.Error()+"; it allows nothing here")
	}
	name := r.Name
	if name == "" {
		name = lastPart(r.ID)
	}
	return policy.Named{Name: name, Via: via, Doc: p.doc}
}

// lastPart is the last part of an ARN or ID, to stand for a name.
func lastPart(id string) string {
	if i := strings.LastIndexAny(id, "/:"); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}

// accountOfARN is the account field of an ARN, "" when it has none (an S3
// bucket, "*").
func accountOfARN(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) == 6 && model.IsAccountID(p[4]) {
		return p[4]
	}
	return ""
}
