package provision

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// pending is what the calls planned so far in one planning run will have
// changed in AWS, and which references the run has already found. Every
// read a plan makes consults it first, so each action of a batch is planned
// on the state the earlier actions will have produced (a user the first
// action creates has no groups yet, and the second may add it to one), and
// no reference is looked up twice. It is filled from the planned steps
// themselves (see effects): the value that prints and runs a call also
// says what it changes.
type pending struct {
	principals map[string]*principalState // "user/alice", "group/admins", "role/ci"
	// found is what the run knows exists (true) or not (false): "group/x",
	// "policy/<arn>", "permission-set/<arn>", "account/<id>".
	found map[string]bool
	// identities maps an Identity Center "user/<name>" or "group/<name>"
	// that an earlier action creates to its stand-in id (see pendingID).
	identities map[string]string
	// versions maps a managed policy's ARN to its default version id, read
	// when its existence was checked.
	versions map[string]string
}

// principalState is what planned calls change of one user, group or role,
// relative to what AWS holds (or to nothing, when created).
type principalState struct {
	exists  *bool // nil: as AWS says
	created bool  // made in this run: AWS has nothing of it yet
	// groups and attached map a group name or policy ARN to true (added) or
	// false (removed).
	groups, attached map[string]bool
	// inline maps a policy name to its new document, "" when deleted.
	inline       map[string]string
	loginProfile *bool
	keys         map[string]string // credential id (access key and others) → status set, "" deleted
	path         string            // "" unchanged
	boundary     *string           // nil unchanged
	tags         map[string]string // tags set
}

func (o *pending) state(kind, name string) *principalState {
	if o.principals == nil {
		o.principals = map[string]*principalState{}
	}
	k := kind + "/" + name
	st := o.principals[k]
	if st == nil {
		st = newPrincipalState()
		o.principals[k] = st
	}
	return st
}

// newPrincipalState is the state of a principal no planned call has
// touched yet.
func newPrincipalState() *principalState {
	return &principalState{groups: map[string]bool{}, attached: map[string]bool{}, inline: map[string]string{}, keys: map[string]string{}, tags: map[string]string{}}
}

// setTags records the tags a call's parameters set (Tag.<key>: value).
func (st *principalState) setTags(params map[string]string) {
	for k, v := range params {
		if tag, ok := strings.CutPrefix(k, "Tag."); ok {
			st.tags[tag] = v
		}
	}
}

// lookup returns the planned state of a principal, nil when no planned
// call touches it (or outside a planning run).
func (o *pending) lookup(kind, name string) *principalState {
	if o == nil {
		return nil
	}
	return o.principals[kind+"/"+name]
}

// known reports what the run already knows of a reference.
func (o *pending) known(ref string) (exists, ok bool) {
	if o == nil {
		return false, false
	}
	exists, ok = o.found[ref]
	return exists, ok
}

// recall answers a yes-or-no question about a reference (does it exist,
// does it grant administrator access): from what the run already knows,
// else by read, whose answer the run then remembers.
func (p *Provisioner) recall(ref string, read func() (bool, error)) (bool, error) {
	if exists, ok := p.pend.known(ref); ok {
		return exists, nil
	}
	exists, err := read()
	if err != nil {
		return false, err
	}
	p.pend.remember(ref, exists)
	return exists, nil
}

// require fails the plan with missing's error when the reference does not
// exist: read answers whether it does, once a run (see recall).
func (p *Provisioner) require(ref string, read func() (bool, error), missing func() error) error {
	exists, err := p.recall(ref, read)
	if err != nil {
		return err
	}
	if !exists {
		return missing()
	}
	return nil
}

// existence turns the error of a read of one thing into whether the thing
// exists: no error is yes, an error of one of the codes that say it is
// not there is no, any other error is the read's failure, as doing.
func existence(err error, doing string, absent ...string) (bool, error) {
	if err == nil {
		return true, nil
	}
	if slices.Contains(absent, errorCode(err)) {
		return false, nil
	}
	return false, fmt.Errorf("%s: %w", doing, err)
}

// remember records whether a reference exists, for the rest of the run.
func (o *pending) remember(ref string, exists bool) {
	if o == nil {
		return
	}
	if o.found == nil {
		o.found = map[string]bool{}
	}
	o.found[ref] = exists
}

// merge applies planned additions and removals to a list read from AWS
// (nil when the principal is new), keeping its order and adding new names
// in sorted order.
func merge(list []string, delta map[string]bool) []string {
	out := slices.DeleteFunc(slices.Clone(list), func(v string) bool { add, ok := delta[v]; return ok && !add })
	var added []string
	for v, add := range delta {
		if add && !slices.Contains(out, v) {
			added = append(added, v)
		}
	}
	sort.Strings(added)
	return append(out, added...)
}

// principalCall returns the kind and name of the user, group or role an
// IAM call acts on; ok is false for calls on none.
func principalCall(s Step) (kind, name string, ok bool) {
	if !strings.HasPrefix(s.Call, "iam:") {
		return "", "", false
	}
	for _, k := range []string{"User", "Group", "Role"} {
		if n, has := s.Params[k+"Name"]; has {
			return strings.ToLower(k), n, true
		}
	}
	return "", "", false
}

// effect records what a planned step will change.
func (o *pending) effect(s Step) {
	switch s.Call {
	case "identitystore:CreateUser":
		o.created("user", s.Params["UserName"])
	case "identitystore:CreateGroup":
		o.created("group", s.Params["DisplayName"])
	}
	kind, name, ok := principalCall(s)
	if !ok {
		return
	}
	st := o.state(kind, name)
	yes, no := true, false
	call := strings.TrimPrefix(s.Call, "iam:")
	switch call {
	case "CreateUser":
		*st = *newPrincipalState()
		st.exists, st.created, st.path = &yes, true, s.Params["Path"]
		if b, ok := s.Params["PermissionsBoundary"]; ok {
			st.boundary = &b
		}
		st.setTags(s.Params)
	case "DeleteUser":
		st.exists = &no
	case "UpdateUser":
		st.path = s.Params["NewPath"]
	case "TagUser":
		st.setTags(s.Params)
	case "PutUserPermissionsBoundary":
		b := s.Params["PermissionsBoundary"]
		st.boundary = &b
	case "AddUserToGroup", "RemoveUserFromGroup":
		st.groups[s.Params["GroupName"]] = call == "AddUserToGroup"
	case "CreateLoginProfile":
		st.loginProfile = &yes
	case "DeleteLoginProfile":
		st.loginProfile = &no
	case "UpdateAccessKey":
		st.keys[s.Params["AccessKeyId"]] = s.Params["Status"]
	case "DeleteAccessKey":
		st.keys[s.Params["AccessKeyId"]] = ""
	case "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy", "DetachUserPolicy", "DetachGroupPolicy", "DetachRolePolicy":
		st.attached[s.Params["PolicyArn"]] = strings.HasPrefix(call, "Attach")
	case "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy":
		st.inline[s.Params["PolicyName"]] = s.document
	case "DeleteUserPolicy", "DeleteGroupPolicy", "DeleteRolePolicy":
		st.inline[s.Params["PolicyName"]] = ""
	default:
		st.credentialEffect(call, s.Params)
	}
}

// PlanAll plans actions in order, each on the state the earlier ones will
// have produced, before anything is changed: when one fails to plan (a
// group, policy, permission set or account it names does not exist, say)
// the whole batch fails and nothing is written. A Provisioner plans one
// batch at a time.
func (p *Provisioner) PlanAll(ctx context.Context, actions []Action) ([]*Plan, error) {
	p.pend = &pending{}
	if p.IC != nil {
		p.IC.pend = p.pend
	}
	defer func() {
		p.pend = nil
		if p.IC != nil {
			p.IC.pend = nil
		}
	}()
	plans := make([]*Plan, 0, len(actions))
	for i, a := range actions {
		pl, err := p.plan(ctx, a)
		if err != nil {
			if len(actions) > 1 {
				return nil, &BatchError{Index: i, Total: len(actions), Err: err}
			}
			return nil, err
		}
		for _, s := range pl.Steps {
			p.pend.effect(s)
		}
		plans = append(plans, pl)
	}
	return plans, nil
}

// requireGroup fails the plan when an IAM group does not exist (and will
// not be created by an earlier action).
func (p *Provisioner) requireGroup(ctx context.Context, group string) error {
	return p.require("group/"+group, func() (bool, error) {
		_, err := p.IAM.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)})
		return existence(err, "read group "+group, "NoSuchEntity")
	}, func() error {
		return fmt.Errorf("group %s does not exist in account %s: check the name (`warden show groups`), or create the group first", group, p.AccountID)
	})
}

// requirePolicy fails the plan when a managed policy does not exist.
func (p *Provisioner) requirePolicy(ctx context.Context, arn string) error {
	return p.require("policy/"+arn, func() (bool, error) {
		out, err := p.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err == nil && p.pend != nil {
			if p.pend.versions == nil {
				p.pend.versions = map[string]string{}
			}
			p.pend.versions[arn] = aws.ToString(out.Policy.DefaultVersionId)
		}
		return existence(err, "read policy "+arn, "NoSuchEntity")
	}, func() error {
		return fmt.Errorf("policy %s does not exist: check the ARN (`warden show policies`); an AWS managed policy is arn:aws:iam::aws:policy/Name", arn)
	})
}

// OrgAccounts reads the accounts of the organization, to check an
// assignment's account before any write (organizations.Client).
type OrgAccounts interface {
	DescribeAccount(ctx context.Context, in *organizations.DescribeAccountInput, optFns ...func(*organizations.Options)) (*organizations.DescribeAccountOutput, error)
}

// requireAccount fails the plan when an account is not in the organization.
// Without an Organizations client (Provisioner.Org nil) it checks nothing.
func (p *Provisioner) requireAccount(ctx context.Context, account string) error {
	if p.Org == nil {
		return nil
	}
	return p.require("account/"+account, func() (bool, error) {
		_, err := p.Org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(account)})
		return existence(err, "read account "+account, "AccountNotFoundException")
	}, func() error {
		return fmt.Errorf("account %s is not in the organization: check the id (`warden show accounts` or `aws organizations list-accounts`)", account)
	})
}

// requirePermissionSet fails the plan when a permission set given by ARN
// does not exist in the instance (one given by name is resolved, and
// refused when unknown, by the plan itself).
func (p *Provisioner) requirePermissionSet(ctx context.Context, ref string) error {
	if !strings.HasPrefix(ref, "arn:") || p.IC == nil {
		return nil
	}
	return p.require("permission-set/"+ref, func() (bool, error) {
		_, err := p.IC.SSO.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(p.IC.InstanceARN), PermissionSetArn: aws.String(ref)})
		return existence(err, "describe permission set "+ref, "ResourceNotFoundException", "ValidationException")
	}, func() error {
		return fmt.Errorf("no permission set %s in %s: check the ARN, or give the permission set's name", ref, p.IC.InstanceARN)
	})
}

// checkReferences fails the plan of an action naming a group, managed
// policy, permission set or account that does not exist, before any call
// of the run changes anything.
func (p *Provisioner) checkReferences(ctx context.Context, a Action) error {
	switch a.Kind {
	case CreateUser:
		for _, g := range a.Groups {
			if err := p.requireGroup(ctx, g); err != nil {
				return err
			}
		}
		for _, arn := range append(slices.Clone(a.Policies), a.PermissionsBoundary) {
			if arn == "" {
				continue
			}
			if err := p.requirePolicy(ctx, arn); err != nil {
				return err
			}
		}
	case AddToGroup, RemoveFromGroup:
		return p.requireGroup(ctx, a.Group)
	case AttachPolicy:
		return p.requirePolicy(ctx, a.PolicyARN)
	case AssignPermissionSet:
		if err := p.requirePermissionSet(ctx, a.PermissionSet); err != nil {
			return err
		}
		return p.requireAccount(ctx, a.Account)
	case DeleteSSOUser, DeactivateSSOUser, ReactivateSSOUser, DeleteSSOGroup:
		// Planning these reads what AWS holds of the principal, which a
		// principal an earlier action creates does not have yet.
		kind, name := a.ssoPrincipal()
		if _, ok := p.pend.identity(kind, name); ok {
			return fmt.Errorf("Identity Center %s %s is created by an earlier action of this batch, and %s is planned from what AWS holds of it: move this action to a later run", kind, name, a.Kind)
		}
	}
	return nil
}

// inlineDelta turns planned inline policy changes into additions and
// removals of names.
func inlineDelta(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for name, doc := range m {
		out[name] = doc != ""
	}
	return out
}

// noSuchPrincipal turns IAM's NoSuchEntity for a principal's listing into
// an error that names the principal and the fix.
func noSuchPrincipal(err error, kind, name, account string) error {
	if notFound(err) {
		return fmt.Errorf("%s %s does not exist in account %s: check the name (`warden show %ss`)", kind, name, account, kind)
	}
	return err
}

// keysAfter applies planned status changes and deletions to access keys
// read from AWS.
func (st *principalState) keysAfter(keys []types.AccessKeyMetadata) []types.AccessKeyMetadata {
	if st == nil || len(st.keys) == 0 {
		return keys
	}
	var out []types.AccessKeyMetadata
	for _, k := range keys {
		status, changed := st.keys[aws.ToString(k.AccessKeyId)]
		switch {
		case !changed:
		case status == "":
			continue
		default:
			k.Status = types.StatusType(status)
		}
		out = append(out, k)
	}
	return out
}

// pendingPrefix starts the stand-in id of an Identity Center user or group
// an earlier action of the run creates: AWS gives its id only then, so the
// calls naming it look it up when they run.
const pendingPrefix = "(new "

func pendingID(kind, name string) string { return pendingPrefix + kind + " " + name + ")" }

func isPendingID(id string) bool { return strings.HasPrefix(id, pendingPrefix) }

func (o *pending) created(kind, name string) {
	if o.identities == nil {
		o.identities = map[string]string{}
	}
	o.identities[kind+"/"+name] = pendingID(kind, name)
}

// identity returns the stand-in id of an Identity Center user or group an
// earlier action creates.
func (o *pending) identity(kind, name string) (string, bool) {
	if o == nil {
		return "", false
	}
	id, ok := o.identities[kind+"/"+name]
	return id, ok
}

// resolve turns stand-in ids into the ids AWS gave the users and groups
// when an earlier action created them; other ids are returned as they are.
// An empty id stays empty.
func (ic *IdentityCenter) resolve(ctx context.Context, a, b string) (string, string, error) {
	out := [2]string{a, b}
	for i, id := range out {
		if !isPendingID(id) {
			continue
		}
		kind, name, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(id, pendingPrefix), ")"), " ")
		var err error
		if kind == "user" {
			out[i], err = ic.userID(ctx, name)
		} else {
			out[i], err = ic.groupID(ctx, name)
		}
		if err == nil && out[i] == "" {
			err = fmt.Errorf("Identity Center %s %s, which an earlier action was to create, does not exist: run the batch again", kind, name)
		}
		if err != nil {
			return "", "", err
		}
	}
	return out[0], out[1], nil
}
