package collect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/warden-iam/warden/internal/model"
)

// SourceOrganizations names AWS Organizations in Snapshot.Errors.
const SourceOrganizations = "organizations"

// OrganizationsAPI is the part of the AWS Organizations client the
// collector calls.
type OrganizationsAPI interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(context.Context, *organizations.ListAccountsForParentInput, ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	ListPolicies(context.Context, *organizations.ListPoliciesInput, ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	ListTargetsForPolicy(context.Context, *organizations.ListTargetsForPolicyInput, ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error)
	ListTagsForResource(context.Context, *organizations.ListTagsForResourceInput, ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error)
}

// OrganizationsOptions tune the Organizations collector.
type OrganizationsOptions struct {
	// AccountTags reads every account's tags (one ListTagsForResource per
	// account); account filters on tags need them.
	AccountTags bool
	// Concurrency is how many calls are in flight at once; 0 means 4. The
	// session's Organizations rate limit paces them in any case.
	Concurrency int
}

// orgPageSize is the most accounts, OUs, policies or targets Organizations
// returns in one page.
const orgPageSize = 20

// OrgAccount is a member account as the organization describes it, with its
// place in the OU tree.
type OrgAccount struct {
	ID     string
	Name   string
	Email  string
	ARN    string
	Status string // ACTIVE, SUSPENDED, PENDING_CLOSURE (or the newer State values)
	// ParentID is the root or OU holding the account.
	ParentID string
	// OUPath is the names from the root down to the parent, root included;
	// OUIDs the matching ids.
	OUPath []string
	OUIDs  []string
	Tags   map[string]string
}

// Active reports whether the account can be read: suspended and closing
// accounts refuse every call.
func (a OrgAccount) Active() bool { return a.Status == "ACTIVE" }

// Organization is what the collector read: the organization's accounts, for
// the syncer to plan member reads, and the graph of its tree and SCPs.
type Organization struct {
	ID                  string
	ManagementAccountID string
	Accounts            []OrgAccount // sorted by ID
	Graph               model.Graph
	// Errors are the parts that could not be read (one SCP's document or
	// targets, one account's tags); the graph holds the rest, and the
	// resources concerned name the part in Unread.
	Errors []model.SourceError
}

// orgNode is a root or OU: its ARN and its place in the tree.
type orgNode struct {
	id, arn, name string
	path, ids     []string // from the root down, the node included
}

// CollectOrganization reads the organization of the client's credentials,
// which must be its management account or a delegated administrator: the
// organization, its root, the OU tree (top-down, one listing of OUs and one
// of accounts per parent), every account, and the service control policies
// with their documents and targets. It fails when the organization or its
// tree cannot be read (the accounts to sync depend on it); a failing call
// about one SCP or one account's tags is recorded in Errors and costs only
// that part.
func CollectOrganization(ctx context.Context, client OrganizationsAPI, o OrganizationsOptions) (*Organization, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	desc, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, fmt.Errorf("describe the organization: %w", err)
	}
	org := desc.Organization
	out := &Organization{ID: aws.ToString(org.Id), ManagementAccountID: aws.ToString(org.MasterAccountId)}
	b := newGraphBuilder(out.ManagementAccountID)
	orgARN := aws.ToString(org.Arn)
	b.resource(model.Resource{ID: orgARN, Type: model.TypeOrganization, AccountID: out.ManagementAccountID,
		Name: out.ID, ARN: orgARN, Organization: &model.OrganizationAttrs{
			ManagementAccountID:    out.ManagementAccountID,
			ManagementAccountEmail: aws.ToString(org.MasterAccountEmail),
			FeatureSet:             string(org.FeatureSet),
		}})

	roots, err := listRoots(ctx, client)
	if err != nil {
		return nil, err
	}
	c := &orgCollector{client: client, b: b, out: out, orgARN: orgARN, nodes: map[string]*orgNode{},
		sem: make(chan struct{}, o.Concurrency)}
	scpEnabled, rcpEnabled := false, false
	var level []*orgNode
	for _, r := range roots {
		n := &orgNode{id: aws.ToString(r.Id), arn: aws.ToString(r.Arn), name: aws.ToString(r.Name)}
		n.path, n.ids = []string{n.name}, []string{n.id}
		var enabled []string
		for _, pt := range r.PolicyTypes {
			if pt.Status == types.PolicyTypeStatusEnabled {
				enabled = append(enabled, string(pt.Type))
				scpEnabled = scpEnabled || pt.Type == types.PolicyTypeServiceControlPolicy
				rcpEnabled = rcpEnabled || pt.Type == types.PolicyTypeResourceControlPolicy
			}
		}
		sort.Strings(enabled)
		c.nodes[n.id] = n
		b.resource(model.Resource{ID: n.arn, Type: model.TypeOrgRoot, AccountID: out.ManagementAccountID,
			Name: n.name, ARN: n.arn, ParentID: orgARN, OrgUnit: &model.OrgUnitAttrs{Path: n.name, PolicyTypes: enabled}})
		b.entitlement(n.arn, model.EntContains)
		level = append(level, n)
	}
	for len(level) > 0 {
		if level, err = c.readLevel(ctx, level); err != nil {
			return nil, err
		}
	}
	if o.AccountTags {
		if err := c.readAccountTags(ctx); err != nil {
			return nil, err
		}
	}
	if scpEnabled {
		if err := c.readPolicies(ctx, scpKind); err != nil {
			return nil, err
		}
	}
	// Resource control policies are read as SCPs are, only where the root
	// has them enabled: no call otherwise.
	if rcpEnabled {
		if err := c.readPolicies(ctx, rcpKind); err != nil {
			return nil, err
		}
	}
	sort.Slice(out.Accounts, func(i, j int) bool { return out.Accounts[i].ID < out.Accounts[j].ID })
	for _, a := range out.Accounts {
		c.addAccount(a)
	}
	out.Graph = b.g
	c.failed.mark(&out.Graph)
	out.Graph.Sort()
	out.Errors = c.failed.list()
	return out, nil
}

// orgCollector is the state of one CollectOrganization.
type orgCollector struct {
	client OrganizationsAPI
	b      *graphBuilder
	out    *Organization
	orgARN string
	sem    chan struct{}
	// failed are the parts that could not be read.
	failed failures

	mu      sync.Mutex
	nodes   map[string]*orgNode // roots and OUs by id
	joined  map[string]*time.Time
	methods map[string]string
}

// parallel runs f for every index below n, at most cap(c.sem) at once.
func (c *orgCollector) parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return bounded(ctx, c.sem, n, f)
}

// readLevel reads the children (OUs and accounts) of every node of one
// level of the tree and returns the next level's OUs.
func (c *orgCollector) readLevel(ctx context.Context, level []*orgNode) ([]*orgNode, error) {
	children := make([][]*orgNode, len(level))
	err := c.parallel(ctx, 2*len(level), func(ctx context.Context, i int) error {
		parent := level[i/2]
		if i%2 == 0 {
			ous, err := c.listOUs(ctx, parent)
			children[i/2] = ous
			return err
		}
		return c.listAccounts(ctx, parent)
	})
	if err != nil {
		return nil, err
	}
	var next []*orgNode
	for _, ous := range children {
		next = append(next, ous...)
	}
	return next, nil
}

// listOUs lists the OUs directly under parent and adds them to the graph.
func (c *orgCollector) listOUs(ctx context.Context, parent *orgNode) ([]*orgNode, error) {
	var out []*orgNode
	p := organizations.NewListOrganizationalUnitsForParentPaginator(c.client, &organizations.ListOrganizationalUnitsForParentInput{
		ParentId: aws.String(parent.id), MaxResults: aws.Int32(orgPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the OUs in %s: %w", parent.id, err)
		}
		for _, ou := range page.OrganizationalUnits {
			n := &orgNode{id: aws.ToString(ou.Id), arn: aws.ToString(ou.Arn), name: aws.ToString(ou.Name)}
			n.path = append(append([]string{}, parent.path...), n.name)
			n.ids = append(append([]string{}, parent.ids...), n.id)
			out = append(out, n)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range out {
		c.nodes[n.id] = n
		c.b.resource(model.Resource{ID: n.arn, Type: model.TypeOrgUnit, AccountID: c.out.ManagementAccountID,
			Name: n.name, ARN: n.arn, ParentID: parent.arn, OrgUnit: &model.OrgUnitAttrs{Path: strings.Join(n.path, "/")}})
		c.b.entitlement(n.arn, model.EntContains)
		c.b.grant(n.arn, model.EntitlementID(parent.arn, model.EntContains), model.ViaDirect, "")
	}
	return out, nil
}

// listAccounts lists the accounts directly under parent.
func (c *orgCollector) listAccounts(ctx context.Context, parent *orgNode) error {
	var found []types.Account
	p := organizations.NewListAccountsForParentPaginator(c.client, &organizations.ListAccountsForParentInput{
		ParentId: aws.String(parent.id), MaxResults: aws.Int32(orgPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the accounts in %s: %w", parent.id, err)
		}
		found = append(found, page.Accounts...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.joined == nil {
		c.joined, c.methods = map[string]*time.Time{}, map[string]string{}
	}
	for _, a := range found {
		status := string(a.State)
		if status == "" {
			status = string(a.Status)
		}
		id := aws.ToString(a.Id)
		c.out.Accounts = append(c.out.Accounts, OrgAccount{ID: id, Name: aws.ToString(a.Name),
			Email: aws.ToString(a.Email), ARN: aws.ToString(a.Arn), Status: status, ParentID: parent.id,
			OUPath: parent.path, OUIDs: parent.ids})
		c.joined[id] = timePtr(a.JoinedTimestamp)
		c.methods[id] = string(a.JoinedMethod)
	}
	return nil
}

// readAccountTags reads the tags of every account.
func (c *orgCollector) readAccountTags(ctx context.Context) error {
	accounts := c.out.Accounts
	return c.parallel(ctx, len(accounts), func(ctx context.Context, i int) error {
		tags := map[string]string{}
		p := organizations.NewListTagsForResourcePaginator(c.client, &organizations.ListTagsForResourceInput{ResourceId: aws.String(accounts[i].ID)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				c.failed.add(model.AccountResourceID(accounts[i].ID), "tags", partFailure(accounts[i].ID, SourceOrganizations,
					"the tags of account "+accounts[i].ID+" not read", err,
					"they are unknown in this snapshot, and filters on tags take the account as untagged"))
				return nil
			}
			for _, t := range page.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		accounts[i].Tags = tags
		return nil
	})
}

// orgPolicyKind is a kind of authorization policy of Organizations the
// collector reads: its ListPolicies filter, its resource type and its name.
type orgPolicyKind struct {
	filter types.PolicyType
	typ    model.ResourceType
	name   string
	plural string
}

var (
	scpKind = orgPolicyKind{types.PolicyTypeServiceControlPolicy, model.TypeSCP, "service control policy", "service control policies"}
	rcpKind = orgPolicyKind{types.PolicyTypeResourceControlPolicy, model.TypeRCP, "resource control policy", "resource control policies"}
)

// readPolicies reads every policy of a kind (service or resource control
// policies), its document and its targets, and adds them to the graph:
// one ListPolicies listing, then per policy DescribePolicy and
// ListTargetsForPolicy, in parallel. An RCP is stored as an SCP is
// (SCPAttrs, the attached entitlement held by its targets).
func (c *orgCollector) readPolicies(ctx context.Context, k orgPolicyKind) error {
	var list []types.PolicySummary
	p := organizations.NewListPoliciesPaginator(c.client, &organizations.ListPoliciesInput{
		Filter: k.filter, MaxResults: aws.Int32(orgPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the %s: %w", k.plural, err)
		}
		list = append(list, page.Policies...)
	}
	docs := make([]string, len(list))
	targets := make([][]types.PolicyTargetSummary, len(list))
	err := c.parallel(ctx, 2*len(list), func(ctx context.Context, i int) error {
		id := aws.ToString(list[i/2].Id)
		if i%2 == 0 {
			d, err := c.client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				c.failed.add(aws.ToString(list[i/2].Arn), "document", partFailure("", SourceOrganizations,
					"the document of "+k.name+" "+id+" not read", err,
					"the policy and its targets are stored, its document is unknown"))
				return nil
			}
			if d.Policy != nil {
				docs[i/2] = aws.ToString(d.Policy.Content)
			}
			return nil
		}
		tp := organizations.NewListTargetsForPolicyPaginator(c.client, &organizations.ListTargetsForPolicyInput{
			PolicyId: aws.String(id), MaxResults: aws.Int32(orgPageSize)})
		for tp.HasMorePages() {
			page, err := tp.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				targets[i/2] = nil
				c.failed.add(aws.ToString(list[i/2].Arn), "targets", partFailure("", SourceOrganizations,
					"the targets of "+k.name+" "+id+" not read", err,
					"the policy is stored, but where it is attached is unknown in this snapshot"))
				return nil
			}
			targets[i/2] = append(targets[i/2], page.Targets...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, s := range list {
		arn := aws.ToString(s.Arn)
		doc := ""
		if !c.failed.has(arn, "document") {
			doc = c.b.document(k.name+" "+aws.ToString(s.Name), docs[i])
		}
		c.b.resource(model.Resource{ID: arn, Type: k.typ, AccountID: c.out.ManagementAccountID,
			Name: aws.ToString(s.Name), ARN: arn, SCP: &model.SCPAttrs{PolicyID: aws.ToString(s.Id),
				AWSManaged: s.AwsManaged, Description: aws.ToString(s.Description), Document: doc}})
		ent := c.b.entitlement(arn, model.EntAttached)
		for _, t := range targets[i] {
			c.b.grant(c.targetID(t), ent, model.ViaDirect, "")
		}
	}
	return nil
}

// targetID is the resource ID of a policy target: a root or OU by its ARN,
// an account by its account resource ID.
func (c *orgCollector) targetID(t types.PolicyTargetSummary) string {
	if t.Type == types.TargetTypeAccount {
		return model.AccountResourceID(aws.ToString(t.TargetId))
	}
	return aws.ToString(t.Arn)
}

// addAccount adds an account resource, placed in its parent.
func (c *orgCollector) addAccount(a OrgAccount) {
	parent := c.nodes[a.ParentID]
	id := model.AccountResourceID(a.ID)
	c.b.resource(model.Resource{ID: id, Type: model.TypeAccount, AccountID: a.ID, Name: a.Name, ARN: a.ARN,
		ParentID: parent.arn, Tags: a.Tags, Account: &model.AccountAttrs{Org: &model.OrgAccountAttrs{
			OrganizationID: c.out.ID, Email: a.Email, Status: a.Status, JoinedMethod: c.methods[a.ID],
			JoinedAt: c.joined[a.ID], Management: a.ID == c.out.ManagementAccountID, OUPath: strings.Join(a.OUPath, "/"),
		}}})
	c.b.grant(id, model.EntitlementID(parent.arn, model.EntContains), model.ViaDirect, "")
}

// listRoots lists the organization's roots (AWS has exactly one).
func listRoots(ctx context.Context, client OrganizationsAPI) ([]types.Root, error) {
	var roots []types.Root
	p := organizations.NewListRootsPaginator(client, &organizations.ListRootsInput{MaxResults: aws.Int32(orgPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the organization's roots: %w", err)
		}
		roots = append(roots, page.Roots...)
	}
	return roots, nil
}
