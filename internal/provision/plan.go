package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// DenyAllPolicyARN is the AWS managed policy denying every action.
const DenyAllPolicyARN = "arn:aws:iam::aws:policy/AWSDenyAll"

// Step is one AWS call of a plan.
type Step struct {
	Call   string            `json:"call"`   // "iam:DeleteLoginProfile"
	Params map[string]string `json:"params"` // the call's inputs; never a secret
	run    func(ctx context.Context, p *Provisioner, res *Result) (any, error)
	// document is the policy document a Put*Policy call writes, which
	// Params only summarises.
	document string
}

// String shows the call and its inputs, for a plan's listing.
func (s Step) String() string {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+s.Params[k])
	}
	return s.Call + " " + strings.Join(parts, " ")
}

// Plan is what applying an action will do, computed from AWS's live state.
type Plan struct {
	Action Action `json:"action"`
	Target string `json:"target"`
	Steps  []Step `json:"steps"`
	// NoOp says why nothing needs doing, when Steps is empty.
	NoOp string `json:"no_op"`
	// Changes lists what a put-inline-policy changes in the document:
	// "- <statement>" removed, "+ <statement>" added.
	Changes []string `json:"changes"`
	// Confirm says why applying the plan asks for confirmation (it is
	// destructive, or grants administrator access); "" when it does not.
	Confirm string `json:"confirm"`
	// deactivated is the deactivation record to keep once applied: what a
	// deactivation removes, or, marked Reactivated, what a reactivation
	// restored.
	deactivated *Deactivation
}

// Deactivation is what deactivating a user removed, kept in the store so
// reactivation restores exactly that.
type Deactivation struct {
	LoginProfile          bool     `json:"login_profile"`
	PasswordResetRequired bool     `json:"password_reset_required"`
	AccessKeys            []string `json:"access_keys"` // ids set Inactive
	// The ids of the other credentials set Inactive.
	SSHPublicKeys              []string `json:"ssh_public_keys"`
	ServiceSpecificCredentials []string `json:"service_specific_credentials"`
	SigningCertificates        []string `json:"signing_certificates"`
	DenyAll                    bool     `json:"deny_all"` // AWSDenyAll attached by the deactivation
	// Reactivated is set once a reactivation restored all this, so running
	// it again is a no-op and the next deactivation starts a new record.
	Reactivated bool `json:"reactivated"`
}

// Plan reads the live state the action depends on and returns the ordered
// calls that would carry it out (PlanAll of one action).
func (p *Provisioner) Plan(ctx context.Context, a Action) (*Plan, error) {
	plans, err := p.PlanAll(ctx, []Action{a})
	if err != nil {
		return nil, err
	}
	return plans[0], nil
}

// plan plans one action of a planning run.
func (p *Provisioner) plan(ctx context.Context, a Action) (*Plan, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	pl := &Plan{Action: a, Target: a.Target() + " in account " + p.AccountID, Steps: []Step{}, Changes: []string{}}
	if a.Kind.IdentityCenter() {
		pl.Target = a.Target()
	}
	err := p.checkReferences(ctx, a)
	switch {
	case err != nil:
	case a.Kind.IdentityCenter():
		err = p.planIdentityCenter(ctx, pl)
	case a.Kind == CreateUser:
		err = p.planCreateUser(ctx, pl)
	case a.Kind == DeleteUser:
		err = p.planDeleteUser(ctx, pl)
	case a.Kind == DeactivateUser:
		err = p.planDeactivate(ctx, pl)
	case a.Kind == ReactivateUser:
		err = p.planReactivate(ctx, pl)
	case a.Kind == AddToGroup || a.Kind == RemoveFromGroup:
		err = p.planMembership(ctx, pl)
	case a.Kind == AttachPolicy || a.Kind == DetachPolicy:
		err = p.planAttachment(ctx, pl)
	case a.Kind == PutInlinePolicy || a.Kind == DeleteInlinePolicy:
		err = p.planInline(ctx, pl)
	}
	if err == nil && len(pl.Steps) > 0 {
		if a.Kind.Destructive() {
			pl.Confirm = "it is destructive: it removes access or data"
		} else {
			pl.Confirm, err = p.adminGrant(ctx, pl)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("plan %s of %s: %w", a.Kind, a.Target(), err)
	}
	return pl, nil
}

// MarshalJSON writes the plan's document with every key present: steps,
// changes as [] when none, no_op and confirm as null when they do not
// apply.
func (pl Plan) MarshalJSON() ([]byte, error) {
	nullable := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	steps, changes := pl.Steps, pl.Changes
	if steps == nil {
		steps = []Step{}
	}
	if changes == nil {
		changes = []string{}
	}
	return json.Marshal(struct {
		Action  Action   `json:"action"`
		Target  string   `json:"target"`
		Steps   []Step   `json:"steps"`
		NoOp    *string  `json:"no_op"`
		Changes []string `json:"changes"`
		Confirm *string  `json:"confirm"`
	}{pl.Action, pl.Target, steps, nullable(pl.NoOp), changes, nullable(pl.Confirm)})
}

// add appends a step.
func (pl *Plan) add(call string, params map[string]string, run func(ctx context.Context, p *Provisioner, res *Result) (any, error)) {
	pl.Steps = append(pl.Steps, Step{Call: call, Params: params, run: run})
}

// errorCode returns the AWS error code err carries, or "" when it is not
// an answer of AWS.
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// notFound reports whether err is IAM's NoSuchEntity.
func notFound(err error) bool { return errorCode(err) == "NoSuchEntity" }

// userExists reads whether the user exists.
func (p *Provisioner) userExists(ctx context.Context, user string) (bool, error) {
	u, err := p.user(ctx, user)
	return u != nil, err
}

// user reads a user (its path and boundary), nil when it does not exist;
// a user an earlier action of the run creates or changes is as planned.
func (p *Provisioner) user(ctx context.Context, user string) (*types.User, error) {
	st := p.pend.lookup("user", user)
	var u *types.User
	switch {
	case st != nil && st.exists != nil && !*st.exists:
		return nil, nil
	case st != nil && st.created:
		u = &types.User{UserName: aws.String(user), Path: aws.String("/")}
	default:
		out, err := p.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
		switch {
		case notFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("read user %s: %w", user, err)
		}
		u = out.User
	}
	if st != nil {
		if st.path != "" {
			u.Path = aws.String(st.path)
		}
		if st.boundary != nil {
			u.PermissionsBoundary = &types.AttachedPermissionsBoundary{PermissionsBoundaryArn: st.boundary}
		}
	}
	return u, nil
}

// groupsOf lists the groups a user is in.
func (p *Provisioner) groupsOf(ctx context.Context, user string) ([]string, error) {
	st := p.pend.lookup("user", user)
	if st != nil && st.created {
		return merge(nil, st.groups), nil
	}
	var out []string
	err := drain(ctx, iam.NewListGroupsForUserPaginator(p.IAM, &iam.ListGroupsForUserInput{UserName: aws.String(user)}),
		func(o *iam.ListGroupsForUserOutput) {
			for _, g := range o.Groups {
				out = append(out, aws.ToString(g.GroupName))
			}
		})
	if err != nil {
		return nil, fmt.Errorf("list the groups of %s: %w", user, noSuchPrincipal(err, "user", user, p.AccountID))
	}
	if st != nil {
		out = merge(out, st.groups)
	}
	return out, nil
}

// pager is an SDK paginator of IAM listings.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*iam.Options)) (O, error)
}

// drain reads every page of a paginator, handing each to add.
func drain[O any](ctx context.Context, p pager[O], add func(O)) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		add(page)
	}
	return nil
}

// attachedOf lists the managed policies attached to a user, group or role.
func (p *Provisioner) attachedOf(ctx context.Context, kind, name string) ([]string, error) {
	st := p.pend.lookup(kind, name)
	if st != nil && st.created {
		return merge(nil, st.attached), nil
	}
	var out []string
	add := func(list []types.AttachedPolicy) {
		for _, a := range list {
			out = append(out, aws.ToString(a.PolicyArn))
		}
	}
	n := aws.String(name)
	var err error
	switch kind {
	case "user":
		err = drain(ctx, iam.NewListAttachedUserPoliciesPaginator(p.IAM, &iam.ListAttachedUserPoliciesInput{UserName: n}),
			func(o *iam.ListAttachedUserPoliciesOutput) { add(o.AttachedPolicies) })
	case "group":
		err = drain(ctx, iam.NewListAttachedGroupPoliciesPaginator(p.IAM, &iam.ListAttachedGroupPoliciesInput{GroupName: n}),
			func(o *iam.ListAttachedGroupPoliciesOutput) { add(o.AttachedPolicies) })
	default:
		err = drain(ctx, iam.NewListAttachedRolePoliciesPaginator(p.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: n}),
			func(o *iam.ListAttachedRolePoliciesOutput) { add(o.AttachedPolicies) })
	}
	if err != nil {
		return nil, fmt.Errorf("list the policies attached to %s %s: %w", kind, name, noSuchPrincipal(err, kind, name, p.AccountID))
	}
	if st != nil {
		out = merge(out, st.attached)
	}
	return out, nil
}

// inlineOf lists the inline policy names of a user, group or role.
func (p *Provisioner) inlineOf(ctx context.Context, kind, name string) ([]string, error) {
	st := p.pend.lookup(kind, name)
	var out []string
	if st != nil && st.created {
		return merge(nil, inlineDelta(st.inline)), nil
	}
	n := aws.String(name)
	var err error
	switch kind {
	case "user":
		err = drain(ctx, iam.NewListUserPoliciesPaginator(p.IAM, &iam.ListUserPoliciesInput{UserName: n}),
			func(o *iam.ListUserPoliciesOutput) { out = append(out, o.PolicyNames...) })
	case "group":
		err = drain(ctx, iam.NewListGroupPoliciesPaginator(p.IAM, &iam.ListGroupPoliciesInput{GroupName: n}),
			func(o *iam.ListGroupPoliciesOutput) { out = append(out, o.PolicyNames...) })
	default:
		err = drain(ctx, iam.NewListRolePoliciesPaginator(p.IAM, &iam.ListRolePoliciesInput{RoleName: n}),
			func(o *iam.ListRolePoliciesOutput) { out = append(out, o.PolicyNames...) })
	}
	if err != nil {
		return nil, fmt.Errorf("list the inline policies of %s %s: %w", kind, name, noSuchPrincipal(err, kind, name, p.AccountID))
	}
	if st != nil {
		out = merge(out, inlineDelta(st.inline))
	}
	return out, nil
}

// planCreateUser converges a user to what the action declares: created
// when missing; when it exists (made by hand, or by a run that stopped
// halfway), given the path (UpdateUser), tags (TagUser, other tags left
// alone), permissions boundary, console password, groups and policies it
// lacks. Nothing the action does not name is removed, and the password of
// a user that has one is never touched.
func (p *Provisioner) planCreateUser(ctx context.Context, pl *Plan) error {
	a := pl.Action
	u, err := p.user(ctx, a.User)
	if err != nil {
		return err
	}
	if u == nil {
		p.addCreateUser(pl)
		if a.ConsolePassword {
			addConsolePassword(pl, a.User)
		}
		for _, g := range a.Groups {
			pl.add("iam:AddUserToGroup", map[string]string{"UserName": a.User, "GroupName": g}, addToGroup(a.User, g))
		}
		for _, arn := range a.Policies {
			pl.add("iam:AttachUserPolicy", map[string]string{"UserName": a.User, "PolicyArn": arn}, attach("user", a.User, arn))
		}
		return nil
	}
	name := aws.String(a.User)
	if a.Path != "" && aws.ToString(u.Path) != a.Path {
		pl.add("iam:UpdateUser", map[string]string{"UserName": a.User, "NewPath": a.Path}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.UpdateUser(ctx, &iam.UpdateUserInput{UserName: name, NewPath: aws.String(a.Path)})
		})
	}
	if len(a.Tags) > 0 {
		have, err := p.userTags(ctx, a.User)
		if err != nil {
			return err
		}
		params := map[string]string{"UserName": a.User}
		var tags []types.Tag
		for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
			if v, ok := have[k]; !ok || v != a.Tags[k] {
				tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(a.Tags[k])})
				params["Tag."+k] = a.Tags[k]
			}
		}
		if len(tags) > 0 {
			pl.add("iam:TagUser", params, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
				return p.IAM.TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: tags})
			})
		}
	}
	if b := a.PermissionsBoundary; b != "" && (u.PermissionsBoundary == nil || aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn) != b) {
		pl.add("iam:PutUserPermissionsBoundary", map[string]string{"UserName": a.User, "PermissionsBoundary": b}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: name, PermissionsBoundary: aws.String(b)})
		})
	}
	if a.ConsolePassword {
		if err := p.ensureConsolePassword(ctx, pl, a.User); err != nil {
			return err
		}
	}
	if len(a.Groups) > 0 {
		groups, err := p.groupsOf(ctx, a.User)
		if err != nil {
			return err
		}
		for _, g := range a.Groups {
			if !slices.Contains(groups, g) {
				pl.add("iam:AddUserToGroup", map[string]string{"UserName": a.User, "GroupName": g}, addToGroup(a.User, g))
			}
		}
	}
	if len(a.Policies) > 0 {
		attached, err := p.attachedOf(ctx, "user", a.User)
		if err != nil {
			return err
		}
		for _, arn := range a.Policies {
			if !slices.Contains(attached, arn) {
				pl.add("iam:AttachUserPolicy", map[string]string{"UserName": a.User, "PolicyArn": arn}, attach("user", a.User, arn))
			}
		}
	}
	if len(pl.Steps) == 0 {
		pl.NoOp = "user " + a.User + " already exists as declared (path, tags, boundary, console password, groups and policies asked for)"
	}
	return nil
}

// addCreateUser adds the CreateUser call of a new user.
func (p *Provisioner) addCreateUser(pl *Plan) {
	a := pl.Action
	params := map[string]string{"UserName": a.User}
	in := &iam.CreateUserInput{UserName: aws.String(a.User)}
	if a.Path != "" {
		in.Path, params["Path"] = aws.String(a.Path), a.Path
	}
	if a.PermissionsBoundary != "" {
		in.PermissionsBoundary, params["PermissionsBoundary"] = aws.String(a.PermissionsBoundary), a.PermissionsBoundary
	}
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(a.Tags[k])})
		params["Tag."+k] = a.Tags[k]
	}
	pl.add("iam:CreateUser", params, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		return p.IAM.CreateUser(ctx, in)
	})
}

// userTags reads a user's tags, with those planned by earlier actions.
func (p *Provisioner) userTags(ctx context.Context, user string) (map[string]string, error) {
	out := map[string]string{}
	st := p.pend.lookup("user", user)
	if st == nil || !st.created {
		err := drain(ctx, iam.NewListUserTagsPaginator(p.IAM, &iam.ListUserTagsInput{UserName: aws.String(user)}),
			func(o *iam.ListUserTagsOutput) {
				for _, t := range o.Tags {
					out[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			})
		if err != nil {
			return nil, fmt.Errorf("list the tags of %s: %w", user, noSuchPrincipal(err, "user", user, p.AccountID))
		}
	}
	if st != nil {
		for k, v := range st.tags {
			out[k] = v
		}
	}
	return out, nil
}

// addConsolePassword plans a generated console password for user, to be
// changed at first sign-in and shown once in the result.
func addConsolePassword(pl *Plan, user string) {
	pl.add("iam:CreateLoginProfile", map[string]string{"UserName": user, "Password": "(generated, shown once)", "PasswordResetRequired": "true"},
		createLoginProfile(user, true))
}

// ensureConsolePassword plans a console password (addConsolePassword) for
// a user that has none; the password of a user that has one is left alone.
func (p *Provisioner) ensureConsolePassword(ctx context.Context, pl *Plan, user string) error {
	has, _, err := p.loginProfile(ctx, user)
	if err != nil || has {
		return err
	}
	addConsolePassword(pl, user)
	return nil
}

// createLoginProfile creates a console password, generated and returned
// once in the result.
func createLoginProfile(user string, reset bool) func(ctx context.Context, p *Provisioner, res *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, res *Result) (any, error) {
		pw, err := NewPassword()
		if err != nil {
			return nil, err
		}
		out, err := p.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String(pw), PasswordResetRequired: reset})
		if err == nil {
			res.Secrets = append(res.Secrets, Secret{What: "console password of user " + user + " (must be changed at first sign-in)", Value: pw})
		}
		return out, err
	}
}

func addToGroup(user, group string) func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		return p.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String(user), GroupName: aws.String(group)})
	}
}

func attach(kind, name, arn string) func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		switch kind {
		case "user":
			return p.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)})
		case "group":
			return p.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
		}
		return p.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
	}
}

func detach(kind, name, arn string) func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		switch kind {
		case "user":
			return p.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)})
		case "group":
			return p.IAM.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
		}
		return p.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
	}
}

func deleteInline(kind, name, policy string) func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		switch kind {
		case "user":
			return p.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(policy)})
		case "group":
			return p.IAM.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(policy)})
		}
		return p.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(policy)})
	}
}

// requireUser fails the plan when the user does not exist.
func (p *Provisioner) requireUser(ctx context.Context, user string) error {
	ok, err := p.userExists(ctx, user)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("user %s does not exist in account %s: check the name (`warden show users`)", user, p.AccountID)
	}
	return nil
}

func (p *Provisioner) planMembership(ctx context.Context, pl *Plan) error {
	a := pl.Action
	if err := p.requireUser(ctx, a.User); err != nil {
		return err
	}
	groups, err := p.groupsOf(ctx, a.User)
	if err != nil {
		return err
	}
	in := slices.Contains(groups, a.Group)
	params := map[string]string{"UserName": a.User, "GroupName": a.Group}
	switch {
	case a.Kind == AddToGroup && in:
		pl.NoOp = "user " + a.User + " is already in group " + a.Group
	case a.Kind == AddToGroup:
		pl.add("iam:AddUserToGroup", params, addToGroup(a.User, a.Group))
	case !in:
		pl.NoOp = "user " + a.User + " is not in group " + a.Group
	default:
		pl.add("iam:RemoveUserFromGroup", params, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String(a.User), GroupName: aws.String(a.Group)})
		})
	}
	return nil
}

// callPrefix is the IAM action infix of a principal kind: user → User.
func callPrefix(kind string) string { return strings.ToUpper(kind[:1]) + kind[1:] }

func (p *Provisioner) planAttachment(ctx context.Context, pl *Plan) error {
	a := pl.Action
	kind, name := a.principal()
	attached, err := p.attachedOf(ctx, kind, name)
	if err != nil {
		return err
	}
	in := slices.Contains(attached, a.PolicyARN)
	params := map[string]string{callPrefix(kind) + "Name": name, "PolicyArn": a.PolicyARN}
	switch {
	case a.Kind == AttachPolicy && in:
		pl.NoOp = a.PolicyARN + " is already attached to " + kind + " " + name
	case a.Kind == AttachPolicy:
		pl.add("iam:Attach"+callPrefix(kind)+"Policy", params, attach(kind, name, a.PolicyARN))
	case !in:
		pl.NoOp = a.PolicyARN + " is not attached to " + kind + " " + name
	default:
		pl.add("iam:Detach"+callPrefix(kind)+"Policy", params, detach(kind, name, a.PolicyARN))
	}
	return nil
}

func (p *Provisioner) planInline(ctx context.Context, pl *Plan) error {
	a := pl.Action
	kind, name := a.principal()
	names, err := p.inlineOf(ctx, kind, name)
	if err != nil {
		return err
	}
	in := slices.Contains(names, a.PolicyName)
	params := map[string]string{callPrefix(kind) + "Name": name, "PolicyName": a.PolicyName}
	if a.Kind == DeleteInlinePolicy {
		if !in {
			pl.NoOp = kind + " " + name + " has no inline policy " + a.PolicyName
			return nil
		}
		pl.add("iam:Delete"+callPrefix(kind)+"Policy", params, deleteInline(kind, name, a.PolicyName))
		return nil
	}
	current := ""
	if in {
		if current, err = p.inlineDocument(ctx, kind, name, a.PolicyName); err != nil {
			return err
		}
		if sameJSON(current, a.Document) {
			pl.NoOp = kind + " " + name + " already has inline policy " + a.PolicyName + " with this document"
			return nil
		}
	}
	pl.Changes = statementChanges(current, a.Document)
	params["PolicyDocument"] = fmt.Sprintf("(%d characters)", len(a.Document))
	defer func() { pl.Steps[len(pl.Steps)-1].document = a.Document }()
	pl.add("iam:Put"+callPrefix(kind)+"Policy", params, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		doc := aws.String(a.Document)
		switch kind {
		case "user":
			return p.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(a.PolicyName), PolicyDocument: doc})
		case "group":
			return p.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(a.PolicyName), PolicyDocument: doc})
		}
		return p.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(a.PolicyName), PolicyDocument: doc})
	})
	return nil
}

// inlineDocument reads an inline policy's document, decoded.
func (p *Provisioner) inlineDocument(ctx context.Context, kind, name, policy string) (string, error) {
	if st := p.pend.lookup(kind, name); st != nil && st.inline[policy] != "" {
		return st.inline[policy], nil
	}
	var doc *string
	var err error
	switch kind {
	case "user":
		var out *iam.GetUserPolicyOutput
		if out, err = p.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(policy)}); err == nil {
			doc = out.PolicyDocument
		}
	case "group":
		var out *iam.GetGroupPolicyOutput
		if out, err = p.IAM.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(policy)}); err == nil {
			doc = out.PolicyDocument
		}
	default:
		var out *iam.GetRolePolicyOutput
		if out, err = p.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(policy)}); err == nil {
			doc = out.PolicyDocument
		}
	}
	if err != nil {
		return "", fmt.Errorf("read inline policy %s of %s %s: %w", policy, kind, name, err)
	}
	decoded, err := url.PathUnescape(aws.ToString(doc))
	if err != nil {
		return aws.ToString(doc), nil
	}
	return decoded, nil
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
