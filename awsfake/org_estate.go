package awsfake

import (
	"fmt"
	"math/rand"
	"slices"
	"time"
)

// OrgEstate describes a generated AWS Organization: a management account,
// member accounts in a tree of OUs, service control policies, and in every
// member the role warden assumes. Build is deterministic for a Seed.
type OrgEstate struct {
	// ManagementAccountID defaults to "111111111111".
	ManagementAccountID string
	// Accounts is the number of member accounts, besides the management
	// account. Member i has the ID 200000000000+i.
	Accounts int
	// OUs is the number of OUs; default Accounts/8, at least 3.
	OUs int
	// OUDepth bounds the tree's depth below the root; default 3.
	OUDepth int
	// SCPs is the number of customer service control policies, besides the
	// AWS managed FullAWSAccess attached everywhere.
	SCPs int
	// PerAccount is the IAM estate of each account (AccountID and Seed are
	// set per account, so accounts differ); the management account gets
	// the same shape.
	PerAccount Estate
	// MemberRoleName is the role in each member; default
	// OrganizationAccountAccessRole.
	MemberRoleName string
	// ExternalID, when set, is required by every member role's trust policy
	// (a StringEquals condition on sts:ExternalId).
	ExternalID string
	// TrustedAccountID is the account member roles trust; default the
	// management account.
	TrustedAccountID string
	// MissingRole lists member indexes (0-based) with no member role, and
	// WrongExternalID those whose role requires another ExternalId.
	MissingRole     []int
	WrongExternalID []int
	// Suspended lists member indexes whose account is SUSPENDED.
	Suspended []int
	// IdentityCenter, when set, adds an Identity Center instance in the
	// management account, with assignments across the active members.
	IdentityCenter *IdentityCenterEstate
	// Assets, when set, places assets (buckets, keys, functions, secrets,
	// instances, security groups) in every account (asset_estate.go).
	Assets *AssetEstate
	Seed   int64
}

// OrgTruth is what an OrgEstate generated: the organization and every
// account's state, the ground truth of a sync.
type OrgTruth struct {
	Organization   *Organization
	Management     *Account
	Members        []*Account // in index order
	IdentityCenter *IdentityCenter
	// Assets are the assets placed when OrgEstate.Assets was set.
	Assets *AssetTruth
}

// DefaultMemberRoleName is the role AWS Organizations creates in the
// accounts it creates.
const DefaultMemberRoleName = "OrganizationAccountAccessRole"

var ouNames = []string{"Prod", "Staging", "Dev", "Security", "Sandbox", "Shared", "Infrastructure", "Workloads", "Suspended", "Data"}

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func randLower(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = lowerAlnum[rng.Intn(len(lowerAlnum))]
	}
	return string(b)
}

// Build generates the organization.
func (e OrgEstate) Build() *OrgTruth {
	if e.ManagementAccountID == "" {
		e.ManagementAccountID = "111111111111"
	}
	if e.OUs <= 0 {
		e.OUs = max(3, e.Accounts/8)
	}
	if e.OUDepth <= 0 {
		e.OUDepth = 3
	}
	if e.MemberRoleName == "" {
		e.MemberRoleName = DefaultMemberRoleName
	}
	if e.TrustedAccountID == "" {
		e.TrustedAccountID = e.ManagementAccountID
	}
	now := e.PerAccount.Now
	if now.IsZero() {
		now = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	rng := rand.New(rand.NewSource(e.Seed))
	mgmt := e.ManagementAccountID
	orgID := "o-" + randLower(rng, 10)
	rootID := "r-" + randLower(rng, 4)
	o := &Organization{
		ID: orgID, ARN: "arn:aws:organizations::" + mgmt + ":organization/" + orgID, FeatureSet: "ALL",
		ManagementAccountID: mgmt, ManagementAccountEmail: "aws-management@example.com",
		Root: &OrgRoot{ID: rootID, ARN: "arn:aws:organizations::" + mgmt + ":root/" + orgID + "/" + rootID, Name: "Root",
			PolicyTypes: []string{"SERVICE_CONTROL_POLICY"}},
		OUs: map[string]*OrgUnit{}, Accounts: map[string]*OrgAccount{}, Policies: map[string]*OrgPolicy{},
	}

	// The OU tree: each OU goes under the root or an OU above the depth
	// limit, so the tree is both wide and deep.
	depth := map[string]int{rootID: 0}
	parents := []string{rootID}
	var ous []string
	for i := 0; i < e.OUs; i++ {
		parent := parents[rng.Intn(len(parents))]
		if i < 3 {
			parent = rootID
		}
		id := "ou-" + rootID[2:] + "-" + randLower(rng, 8)
		name := ouNames[i%len(ouNames)]
		if i >= len(ouNames) {
			name = fmt.Sprintf("%s-%d", name, i/len(ouNames))
		}
		o.OUs[id] = &OrgUnit{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":ou/" + orgID + "/" + id, Name: name, ParentID: parent}
		depth[id] = depth[parent] + 1
		ous = append(ous, id)
		if depth[id] < e.OUDepth {
			parents = append(parents, id)
		}
	}

	accountARN := func(id string) string { return "arn:aws:organizations::" + mgmt + ":account/" + orgID + "/" + id }
	o.Accounts[mgmt] = &OrgAccount{ID: mgmt, ARN: accountARN(mgmt), Name: "management", Email: o.ManagementAccountEmail,
		Status: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: now.AddDate(-6, 0, 0), ParentID: rootID}
	est := e.PerAccount
	est.AccountID, est.Seed, est.Alias = mgmt, e.Seed*7919+1, "management"
	t := &OrgTruth{Organization: o, Management: est.Build()}

	for i := 0; i < e.Accounts; i++ {
		id := fmt.Sprintf("%012d", 200000000000+i)
		parent := rootID
		if len(ous) > 0 && rng.Intn(10) != 0 {
			parent = ous[rng.Intn(len(ous))]
		}
		a := &OrgAccount{ID: id, ARN: accountARN(id), Name: fmt.Sprintf("%s-%03d", teams[i%len(teams)], i),
			Email: fmt.Sprintf("aws+%s@example.com", id), Status: "ACTIVE", JoinedMethod: "CREATED",
			JoinedAt: ago(now, rng, 1500), ParentID: parent,
			Tags: []Tag{{Key: "team", Value: teams[i%len(teams)]}, {Key: "env", Value: []string{"prod", "staging", "dev"}[i%3]}}}
		if rng.Intn(5) == 0 {
			a.JoinedMethod = "INVITED"
		}
		if slices.Contains(e.Suspended, i) {
			a.Status = "SUSPENDED"
		}
		o.Accounts[id] = a

		est := e.PerAccount
		est.AccountID, est.Seed, est.Alias = id, e.Seed*7919+int64(i)+2, a.Name
		member := est.Build()
		if !slices.Contains(e.MissingRole, i) {
			want := e.ExternalID
			if slices.Contains(e.WrongExternalID, i) {
				want = "not-the-external-id-warden-uses-" + id
			}
			member.IAM.Roles[e.MemberRoleName] = memberRole(member.ID, e.MemberRoleName, e.TrustedAccountID, want, rng, now)
		}
		t.Members = append(t.Members, member)
	}

	// FullAWSAccess is attached to the root and, as AWS does for every new
	// OU and account, to each of them.
	full := &OrgPolicy{ID: FullAWSAccessID, ARN: "arn:aws:organizations::aws:policy/service_control_policy/" + FullAWSAccessID,
		Name: "FullAWSAccess", Description: "Allows access to every operation", Type: "SERVICE_CONTROL_POLICY", AWSManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}
	full.Targets = append(full.Targets, rootID)
	full.Targets = append(full.Targets, sortedKeys(o.OUs)...)
	full.Targets = append(full.Targets, sortedKeys(o.Accounts)...)
	o.Policies[full.ID] = full
	targets := append([]string{rootID}, ous...)
	for i := 0; i < e.SCPs; i++ {
		id := "p-" + randLower(rng, 8)
		p := &OrgPolicy{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":policy/" + orgID + "/service_control_policy/" + id,
			Name: fmt.Sprintf("deny-%s-%d", services[i%len(services)], i), Description: "Guardrail " + fmt.Sprint(i),
			Type: "SERVICE_CONTROL_POLICY",
			Content: fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Guardrail%d","Effect":"Deny","Action":"%s:Delete*","Resource":"*"}]}`,
				i, services[i%len(services)])}
		if i%2 == 0 {
			p.Tags = []Tag{{Key: "owner", Value: "security"}}
		}
		for n := 1 + rng.Intn(3); n > 0; n-- {
			tgt := targets[rng.Intn(len(targets))]
			if e.Accounts > 0 && rng.Intn(3) == 0 {
				tgt = fmt.Sprintf("%012d", 200000000000+rng.Intn(e.Accounts))
			}
			if !slices.Contains(p.Targets, tgt) {
				p.Targets = append(p.Targets, tgt)
			}
		}
		o.Policies[id] = p
	}
	if e.IdentityCenter != nil {
		var active []*Account
		for _, m := range t.Members {
			if o.Accounts[m.ID].Status == "ACTIVE" {
				active = append(active, m)
			}
		}
		icRNG := rand.New(rand.NewSource(e.Seed*31 + 7))
		t.IdentityCenter = e.IdentityCenter.build(icRNG, mgmt, active, now)
	}
	if e.Assets != nil {
		a := *e.Assets
		a.Seed += e.Seed
		t.Assets = a.Build(t.Accounts())
	}
	return t
}

// memberRole is the role warden assumes in a member account: trusting the
// account trusted, with the ExternalId condition when want is not empty,
// and AdministratorAccess attached as Organizations attaches it.
func memberRole(account, name, trusted, want string, rng *rand.Rand, now time.Time) *Role {
	cond := ""
	if want != "" {
		cond = fmt.Sprintf(`,"Condition":{"StringEquals":{"sts:ExternalId":%q}}`, want)
	}
	return &Role{Name: name, ID: randID(rng, "AROA", 17), Path: "/", ARN: "arn:aws:iam::" + account + ":role/" + name,
		CreatedAt: now.AddDate(-2, 0, 0), Description: "Role assumed by warden", MaxSessionDuration: 3600,
		AssumeRolePolicy: fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"%s}]}`, trusted, cond),
		AttachedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, InlinePolicies: map[string]string{}}
}

// Accounts returns every account of the truth, management first.
func (t *OrgTruth) Accounts() []*Account {
	return append([]*Account{t.Management}, t.Members...)
}

// Install adds every account and the organization to s and returns
// credentials of an administrator of the management account.
func (t *OrgTruth) Install(s *Server) Credentials {
	creds := s.AddAccount(t.Management)
	for _, m := range t.Members {
		s.AddAccount(m)
	}
	s.SetOrganization(t.Organization)
	if t.IdentityCenter != nil {
		s.SetIdentityCenter(t.IdentityCenter)
	}
	if t.Assets != nil {
		s.SetAssets(t.Assets.Assets)
	}
	return creds
}
