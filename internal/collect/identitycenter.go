package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/warden-iam/warden/internal/model"
)

// SourceIdentityCenter names IAM Identity Center in Snapshot.Errors.
const SourceIdentityCenter = "identity_center"

// icPageSize is the largest page every Identity Center listing serves.
const icPageSize = 100

// SSOAdminAPI is the part of the SSO Admin client the collector calls.
type SSOAdminAPI interface {
	ListInstances(context.Context, *ssoadmin.ListInstancesInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
	ListPermissionSets(context.Context, *ssoadmin.ListPermissionSetsInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error)
	DescribePermissionSet(context.Context, *ssoadmin.DescribePermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error)
	ListManagedPoliciesInPermissionSet(context.Context, *ssoadmin.ListManagedPoliciesInPermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListManagedPoliciesInPermissionSetOutput, error)
	ListCustomerManagedPolicyReferencesInPermissionSet(context.Context, *ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetOutput, error)
	GetInlinePolicyForPermissionSet(context.Context, *ssoadmin.GetInlinePolicyForPermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.GetInlinePolicyForPermissionSetOutput, error)
	GetPermissionsBoundaryForPermissionSet(context.Context, *ssoadmin.GetPermissionsBoundaryForPermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.GetPermissionsBoundaryForPermissionSetOutput, error)
	ListTagsForResource(context.Context, *ssoadmin.ListTagsForResourceInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListTagsForResourceOutput, error)
	ListAccountsForProvisionedPermissionSet(context.Context, *ssoadmin.ListAccountsForProvisionedPermissionSetInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountsForProvisionedPermissionSetOutput, error)
	ListAccountAssignments(context.Context, *ssoadmin.ListAccountAssignmentsInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error)
	ListAccountAssignmentsForPrincipal(context.Context, *ssoadmin.ListAccountAssignmentsForPrincipalInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsForPrincipalOutput, error)
}

// IdentityStoreAPI is the part of the Identity Store client the collector
// calls.
type IdentityStoreAPI interface {
	ListUsers(context.Context, *identitystore.ListUsersInput, ...func(*identitystore.Options)) (*identitystore.ListUsersOutput, error)
	ListGroups(context.Context, *identitystore.ListGroupsInput, ...func(*identitystore.Options)) (*identitystore.ListGroupsOutput, error)
	ListGroupMemberships(context.Context, *identitystore.ListGroupMembershipsInput, ...func(*identitystore.Options)) (*identitystore.ListGroupMembershipsOutput, error)
}

// AssignmentStrategy says how account assignments are read.
type AssignmentStrategy string

// Assignment strategies.
const (
	// AssignmentsAuto picks whichever of the two below costs fewer calls
	// for the estate at hand.
	AssignmentsAuto AssignmentStrategy = ""
	// AssignmentsByPair lists the accounts each permission set is
	// provisioned to, then the assignments of each provisioned (permission
	// set, account) pair: one call per pair.
	AssignmentsByPair AssignmentStrategy = "pair"
	// AssignmentsByPrincipal lists the assignments of each user and group:
	// one call per principal.
	AssignmentsByPrincipal AssignmentStrategy = "principal"
)

// IdentityCenterOptions tune the Identity Center collector.
type IdentityCenterOptions struct {
	// InstanceARN and IdentityStoreID name the instance; both empty finds
	// it with sso:ListInstances.
	InstanceARN     string
	IdentityStoreID string
	// Strategy forces an assignment strategy; tests use it.
	Strategy AssignmentStrategy
	// Concurrency is how many calls are in flight at once; 0 means 8. The
	// session's Identity Center limiter (20 calls a second for the
	// instance) sets the pace.
	Concurrency int
}

// IdentityCenterResult is what the collector read.
type IdentityCenterResult struct {
	InstanceARN     string
	IdentityStoreID string
	// Strategy is the assignment strategy used, and why.
	Strategy       AssignmentStrategy
	StrategyReason string
	Graph          model.Graph
	// Errors are the parts that could not be read (one permission set's
	// boundary, one group's members); the graph holds the rest, and the
	// resources concerned name the part in Unread.
	Errors []model.SourceError
}

// CollectIdentityCenter reads an IAM Identity Center instance: the identity
// store's users, groups and memberships, every permission set with its
// policies, boundary and tags, and every account assignment. Group
// assignments are expanded to each member, with the group as provenance.
// It must run with the credentials of the instance's account (the
// management account or a delegated administrator). It fails only when the
// instance cannot be found; a failed call is recorded in Errors and costs
// only what it touches: one group, permission set, account or principal,
// or for a listing of users, groups or permission sets those and what
// refers to them.
func CollectIdentityCenter(ctx context.Context, sso SSOAdminAPI, ids IdentityStoreAPI, o IdentityCenterOptions) (*IdentityCenterResult, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	res := &IdentityCenterResult{InstanceARN: o.InstanceARN, IdentityStoreID: o.IdentityStoreID}
	if res.InstanceARN == "" {
		if err := findInstance(ctx, sso, res); err != nil {
			return nil, err
		}
	}
	c := &icCollector{sso: sso, ids: ids, res: res, sem: make(chan struct{}, o.Concurrency), b: newGraphBuilder("")}
	if err := c.readIdentityStore(ctx); err != nil {
		return nil, err
	}
	if err := c.readPermissionSets(ctx); err != nil {
		return nil, err
	}
	if err := c.readAssignments(ctx, o.Strategy); err != nil {
		return nil, err
	}
	c.transform()
	res.Graph = c.b.g
	c.failed.mark(&res.Graph)
	res.Graph.Sort()
	res.Errors = c.failed.list()
	return res, nil
}

// ErrNoInstance is returned (wrapped) when sso:ListInstances finds no
// Identity Center instance for the credentials in the region asked.
var ErrNoInstance = errors.New("no IAM Identity Center instance in this account and region")

// NoInstanceFix is what to do about ErrNoInstance.
const NoInstanceFix = "set identity_center.region (--identity-center-region) to Identity Center's home region, or sync with the credentials of the management account or its delegated administrator"

// findInstance finds the one Identity Center instance of the account.
func findInstance(ctx context.Context, sso SSOAdminAPI, res *IdentityCenterResult) error {
	var found []ssotypes.InstanceMetadata
	p := ssoadmin.NewListInstancesPaginator(sso, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(icPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("find the Identity Center instance: %w", err)
		}
		found = append(found, page.Instances...)
	}
	if len(found) == 0 {
		return ErrNoInstance
	}
	res.InstanceARN, res.IdentityStoreID = aws.ToString(found[0].InstanceArn), aws.ToString(found[0].IdentityStoreId)
	return nil
}

// icCollector is the state of one CollectIdentityCenter.
type icCollector struct {
	sso SSOAdminAPI
	ids IdentityStoreAPI
	res *IdentityCenterResult
	sem chan struct{}
	b   *graphBuilder
	// failed are the parts that could not be read.
	failed failures

	// usersUnread, groupsUnread and setsUnread say a whole listing
	// failed: what refers to its entities is left out.
	usersUnread, groupsUnread, setsUnread bool

	users       []istypes.User
	groups      []istypes.Group
	members     [][]string // user ids, by group index
	sets        []permissionSet
	assignments []ssotypes.AccountAssignment
}

// permissionSet is what the collector read of one permission set.
type permissionSet struct {
	arn      string
	desc     *ssotypes.PermissionSet
	managed  []string
	customer []string
	inline   string
	boundary string
	tags     map[string]string
	accounts []string
}

// parallel runs f for every index below n, at most cap(c.sem) at once.
func (c *icCollector) parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return bounded(ctx, c.sem, n, f)
}

// readIdentityStore lists users and groups, then each group's members. One
// listing per group (ListGroupMemberships) costs far fewer calls than one
// per user (ListGroupMembershipsForMember): organizations have ten to a
// hundred times more users than groups.
func (c *icCollector) readIdentityStore(ctx context.Context) error {
	store := aws.String(c.res.IdentityStoreID)
	err := c.parallel(ctx, 2, func(ctx context.Context, i int) error {
		if i == 0 {
			p := identitystore.NewListUsersPaginator(c.ids, &identitystore.ListUsersInput{IdentityStoreId: store, MaxResults: aws.Int32(icPageSize)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return err
					}
					c.users, c.usersUnread = nil, true
					c.failed.add("", "", partFailure("", SourceIdentityCenter, "the Identity Center users not read", err,
						"no user, and so no user's membership or assignment, is in this snapshot; groups, permission sets and group assignments are"))
					return nil
				}
				c.users = append(c.users, page.Users...)
			}
			return nil
		}
		p := identitystore.NewListGroupsPaginator(c.ids, &identitystore.ListGroupsInput{IdentityStoreId: store, MaxResults: aws.Int32(icPageSize)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				c.groups, c.groupsUnread = nil, true
				c.failed.add("", "", partFailure("", SourceIdentityCenter, "the Identity Center groups not read", err,
					"no group, membership or group assignment is in this snapshot; users, permission sets and users' own assignments are"))
				return nil
			}
			c.groups = append(c.groups, page.Groups...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.members = make([][]string, len(c.groups))
	return c.parallel(ctx, len(c.groups), func(ctx context.Context, i int) error {
		p := identitystore.NewListGroupMembershipsPaginator(c.ids, &identitystore.ListGroupMembershipsInput{
			IdentityStoreId: store, GroupId: c.groups[i].GroupId, MaxResults: aws.Int32(icPageSize)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				name := aws.ToString(c.groups[i].DisplayName)
				c.members[i] = nil
				c.failed.add(SSOGroupID(aws.ToString(c.groups[i].GroupId)), "members", partFailure("", SourceIdentityCenter,
					"the members of Identity Center group "+name+" ("+aws.ToString(c.groups[i].GroupId)+") not read", err,
					"the group and its assignments are stored, but none of its members hold them through it in this snapshot"))
				return nil
			}
			for _, m := range page.GroupMemberships {
				if u, ok := m.MemberId.(*istypes.MemberIdMemberUserId); ok {
					c.members[i] = append(c.members[i], u.Value)
				}
			}
		}
		return nil
	})
}

// readPermissionSets lists the permission sets and reads each one's
// description, policies, boundary, tags and provisioned accounts: seven
// calls a permission set, which no other API answers in fewer.
func (c *icCollector) readPermissionSets(ctx context.Context) error {
	inst := aws.String(c.res.InstanceARN)
	p := ssoadmin.NewListPermissionSetsPaginator(c.sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, MaxResults: aws.Int32(icPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			c.sets, c.setsUnread = nil, true
			c.failed.add("", "", partFailure("", SourceIdentityCenter, "the permission sets not read", err,
				"no permission set or assignment is in this snapshot; users, groups and memberships are"))
			return nil
		}
		for _, arn := range page.PermissionSets {
			c.sets = append(c.sets, permissionSet{arn: arn})
		}
	}
	const calls = 7
	return c.parallel(ctx, calls*len(c.sets), func(ctx context.Context, i int) error {
		ps := &c.sets[i/calls]
		arn := aws.String(ps.arn)
		var err error
		switch i % calls {
		case 0:
			var out *ssoadmin.DescribePermissionSetOutput
			if out, err = c.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: inst, PermissionSetArn: arn}); err == nil {
				ps.desc = out.PermissionSet
			}
		case 1:
			mp := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(c.sso, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, MaxResults: aws.Int32(icPageSize)})
			for mp.HasMorePages() && err == nil {
				var page *ssoadmin.ListManagedPoliciesInPermissionSetOutput
				if page, err = mp.NextPage(ctx); err == nil {
					for _, m := range page.AttachedManagedPolicies {
						ps.managed = append(ps.managed, aws.ToString(m.Arn))
					}
				}
			}
		case 2:
			cp := ssoadmin.NewListCustomerManagedPolicyReferencesInPermissionSetPaginator(c.sso, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, MaxResults: aws.Int32(icPageSize)})
			for cp.HasMorePages() && err == nil {
				var page *ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetOutput
				if page, err = cp.NextPage(ctx); err == nil {
					for _, r := range page.CustomerManagedPolicyReferences {
						ps.customer = append(ps.customer, policyRef(r))
					}
				}
			}
		case 3:
			var out *ssoadmin.GetInlinePolicyForPermissionSetOutput
			if out, err = c.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn}); err == nil {
				ps.inline = aws.ToString(out.InlinePolicy)
			}
		case 4:
			var out *ssoadmin.GetPermissionsBoundaryForPermissionSetOutput
			out, err = c.sso.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn})
			var nf *ssotypes.ResourceNotFoundException
			switch {
			case errors.As(err, &nf):
				err = nil // AWS's answer for a permission set without a boundary
			case err == nil && out.PermissionsBoundary != nil:
				if b := out.PermissionsBoundary; b.ManagedPolicyArn != nil {
					ps.boundary = aws.ToString(b.ManagedPolicyArn)
				} else if b.CustomerManagedPolicyReference != nil {
					ps.boundary = policyRef(*b.CustomerManagedPolicyReference)
				}
			}
		case 5:
			ps.tags = map[string]string{}
			tp := ssoadmin.NewListTagsForResourcePaginator(c.sso, &ssoadmin.ListTagsForResourceInput{InstanceArn: inst, ResourceArn: arn})
			for tp.HasMorePages() && err == nil {
				var page *ssoadmin.ListTagsForResourceOutput
				if page, err = tp.NextPage(ctx); err == nil {
					for _, t := range page.Tags {
						ps.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
				}
			}
		case 6:
			ap := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(c.sso, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, MaxResults: aws.Int32(icPageSize)})
			for ap.HasMorePages() && err == nil {
				var page *ssoadmin.ListAccountsForProvisionedPermissionSetOutput
				if page, err = ap.NextPage(ctx); err == nil {
					ps.accounts = append(ps.accounts, page.AccountIds...)
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			part := permissionSetParts[i%calls]
			// A listing that failed after its first page holds only
			// part of the answer: none of it is kept.
			switch i % calls {
			case 1:
				ps.managed = nil
			case 2:
				ps.customer = nil
			case 5:
				ps.tags = nil
			case 6:
				ps.accounts = nil
			}
			c.failed.add(ps.arn, part, partFailure("", SourceIdentityCenter, "the "+strings.ReplaceAll(part, "_", " ")+" of permission set "+ps.arn+" not read", err,
				"it is unknown in this snapshot; the rest of the permission set and of Identity Center is stored"))
		}
		return nil
	})
}

// permissionSetParts name what each of readPermissionSets' calls reads, as
// a permission set's Unread lists it.
var permissionSetParts = [...]string{"description", "managed_policies", "customer_managed_policies", "inline_policy",
	"permissions_boundary", "tags", "provisioned_accounts"}

// policyRef writes a customer managed policy reference as path + name.
func policyRef(r ssotypes.CustomerManagedPolicyReference) string {
	path := aws.ToString(r.Path)
	if path == "" {
		path = "/"
	}
	return path + aws.ToString(r.Name)
}

// readAssignments reads every account assignment with the strategy that
// costs fewer calls. By pair: one ListAccountAssignments per provisioned
// (permission set, account) pair, known from readPermissionSets. By
// principal: one ListAccountAssignmentsForPrincipal per user and group. An
// organization with few permission sets per account has far fewer pairs
// than principals; one with thousands of accounts and a handful of users
// the reverse. Never one call per (every account x every permission set):
// pairs where a permission set is not provisioned hold no assignment.
func (c *icCollector) readAssignments(ctx context.Context, forced AssignmentStrategy) error {
	if c.setsUnread {
		return nil // an assignment is of a permission set: none can be stored
	}
	pairs, unknown := 0, 0
	for _, ps := range c.sets {
		pairs += len(ps.accounts)
		if c.failed.has(ps.arn, "provisioned_accounts") {
			unknown++
		}
	}
	principals := len(c.users) + len(c.groups)
	strategy := forced
	switch {
	case forced != AssignmentsAuto:
		c.res.StrategyReason = "forced"
	case unknown > 0:
		// Listing by pair would miss the pairs of a permission set whose
		// accounts are unknown; by principal needs no pairs.
		strategy = AssignmentsByPrincipal
		c.res.StrategyReason = fmt.Sprintf("the provisioned accounts of %d permission set(s) could not be read", unknown)
	case pairs <= principals:
		strategy = AssignmentsByPair
		c.res.StrategyReason = fmt.Sprintf("%d provisioned (permission set, account) pairs <= %d users and groups", pairs, principals)
	default:
		strategy = AssignmentsByPrincipal
		c.res.StrategyReason = fmt.Sprintf("%d users and groups < %d provisioned (permission set, account) pairs", principals, pairs)
	}
	c.res.Strategy = strategy
	inst := aws.String(c.res.InstanceARN)
	var mu sync.Mutex
	add := func(list []ssotypes.AccountAssignment) {
		mu.Lock()
		defer mu.Unlock()
		c.assignments = append(c.assignments, list...)
	}
	if strategy == AssignmentsByPair {
		type pair struct{ ps, account string }
		var todo []pair
		for _, ps := range c.sets {
			if c.failed.has(ps.arn, "provisioned_accounts") {
				c.failed.add(ps.arn, "assignments", model.SourceError{Source: SourceIdentityCenter,
					Message: "the assignments of permission set " + ps.arn + " not read: its provisioned accounts are unknown",
					Fix:     "sync again, or leave the assignment strategy to warden: by principal it needs no provisioned accounts"})
			}
			for _, a := range ps.accounts {
				todo = append(todo, pair{ps.arn, a})
			}
		}
		return c.parallel(ctx, len(todo), func(ctx context.Context, i int) error {
			p := ssoadmin.NewListAccountAssignmentsPaginator(c.sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: inst,
				AccountId: aws.String(todo[i].account), PermissionSetArn: aws.String(todo[i].ps), MaxResults: aws.Int32(icPageSize)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return err
					}
					c.failed.add(todo[i].ps, "assignments", partFailure(todo[i].account, SourceIdentityCenter,
						"the assignments of permission set "+todo[i].ps+" in account "+todo[i].account+" not read", err,
						"they are missing from this snapshot; every other assignment is stored"))
					return nil
				}
				add(page.AccountAssignments)
			}
			return nil
		})
	}
	type principal struct {
		id  string
		typ ssotypes.PrincipalType
	}
	var todo []principal
	for _, u := range c.users {
		todo = append(todo, principal{aws.ToString(u.UserId), ssotypes.PrincipalTypeUser})
	}
	for _, g := range c.groups {
		todo = append(todo, principal{aws.ToString(g.GroupId), ssotypes.PrincipalTypeGroup})
	}
	return c.parallel(ctx, len(todo), func(ctx context.Context, i int) error {
		p := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(c.sso, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: inst,
			PrincipalId: aws.String(todo[i].id), PrincipalType: todo[i].typ, MaxResults: aws.Int32(icPageSize)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				id := SSOUserID(todo[i].id)
				if todo[i].typ == ssotypes.PrincipalTypeGroup {
					id = SSOGroupID(todo[i].id)
				}
				c.failed.add(id, "assignments", partFailure("", SourceIdentityCenter,
					"the assignments of Identity Center "+strings.ToLower(string(todo[i].typ))+" "+todo[i].id+" not read", err,
					"they are missing from this snapshot; every other assignment is stored"))
				return nil
			}
			list := make([]ssotypes.AccountAssignment, 0, len(page.AccountAssignments))
			for _, a := range page.AccountAssignments {
				list = append(list, ssotypes.AccountAssignment{AccountId: a.AccountId, PermissionSetArn: a.PermissionSetArn,
					PrincipalId: a.PrincipalId, PrincipalType: a.PrincipalType})
			}
			add(list)
		}
		return nil
	})
}

// SSOUserID returns the resource ID of an Identity Store user.
func SSOUserID(userID string) string { return "arn:aws:identitystore:::user/" + userID }

// SSOGroupID returns the resource ID of an Identity Store group.
func SSOGroupID(groupID string) string { return "arn:aws:identitystore:::group/" + groupID }

// transform builds the graph: users, groups and permission sets; group
// memberships; each assignment granted to its principal, and a group's to
// every member with the group as provenance.
func (c *icCollector) transform() {
	b := c.b
	store := c.res.IdentityStoreID
	for _, u := range c.users {
		attrs := &model.SSOUserAttrs{UserID: aws.ToString(u.UserId), IdentityStoreID: store, DisplayName: aws.ToString(u.DisplayName),
			Status: string(u.UserStatus)}
		if u.Name != nil {
			attrs.GivenName, attrs.FamilyName = aws.ToString(u.Name.GivenName), aws.ToString(u.Name.FamilyName)
		}
		for _, e := range u.Emails {
			if e.Primary {
				attrs.Emails = append([]string{aws.ToString(e.Value)}, attrs.Emails...)
			} else {
				attrs.Emails = append(attrs.Emails, aws.ToString(e.Value))
			}
		}
		for _, x := range u.ExternalIds {
			attrs.ExternalIDs = append(attrs.ExternalIDs, aws.ToString(x.Issuer)+"|"+aws.ToString(x.Id))
		}
		b.resource(model.Resource{ID: SSOUserID(attrs.UserID), Type: model.TypeSSOUser, Name: aws.ToString(u.UserName),
			CreatedAt: timeValue(u.CreatedAt), SSOUser: attrs})
	}
	for i, g := range c.groups {
		id := SSOGroupID(aws.ToString(g.GroupId))
		b.resource(model.Resource{ID: id, Type: model.TypeSSOGroup, Name: aws.ToString(g.DisplayName), CreatedAt: timeValue(g.CreatedAt),
			SSOGroup: &model.SSOGroupAttrs{GroupID: aws.ToString(g.GroupId), IdentityStoreID: store, Description: aws.ToString(g.Description)}})
		ent := b.entitlement(id, model.EntMember)
		if c.usersUnread {
			continue
		}
		for _, uid := range c.members[i] {
			b.grant(SSOUserID(uid), ent, model.ViaDirect, "")
		}
	}
	for _, ps := range c.sets {
		attrs := &model.PermissionSetAttrs{InstanceARN: c.res.InstanceARN, ManagedPolicies: ps.managed, CustomerManagedPolicies: ps.customer,
			PermissionsBoundary: ps.boundary, ProvisionedAccounts: sortedStrings(ps.accounts)}
		if ps.inline != "" {
			attrs.InlinePolicy = b.document("inline policy of permission set "+ps.arn, ps.inline)
		}
		r := model.Resource{ID: ps.arn, Type: model.TypePermissionSet, ARN: ps.arn, Tags: ps.tags, PermissionSet: attrs}
		if d := ps.desc; d != nil {
			r.Name, r.CreatedAt = aws.ToString(d.Name), timeValue(d.CreatedDate)
			attrs.Description, attrs.SessionDuration, attrs.RelayState = aws.ToString(d.Description), aws.ToString(d.SessionDuration), aws.ToString(d.RelayState)
		}
		b.resource(r)
	}
	members := map[string][]string{}
	for i, g := range c.groups {
		if !c.usersUnread {
			members[aws.ToString(g.GroupId)] = c.members[i]
		}
	}
	for _, a := range c.assignments {
		// A listing that failed leaves its principals out, and so their
		// assignments.
		if a.PrincipalType == ssotypes.PrincipalTypeGroup && c.groupsUnread || a.PrincipalType == ssotypes.PrincipalTypeUser && c.usersUnread {
			continue
		}
		ent := b.entitlement(aws.ToString(a.PermissionSetArn), model.AssignmentEntitlement(aws.ToString(a.AccountId)))
		pid := aws.ToString(a.PrincipalId)
		if a.PrincipalType == ssotypes.PrincipalTypeGroup {
			b.grant(SSOGroupID(pid), ent, model.ViaDirect, "")
			for _, uid := range members[pid] {
				b.grant(SSOUserID(uid), ent, model.ViaGroup, SSOGroupID(pid))
			}
			continue
		}
		b.grant(SSOUserID(pid), ent, model.ViaDirect, "")
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
