package inventory

import (
	"slices"
	"sort"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// AssetsPart lists the resource types the asset listings read (the
// accounts' asset settings too: an account's Block Public Access decides
// whether its buckets are public).
var AssetsPart = []model.ResourceType{model.TypeEC2Instance, model.TypeSecurityGroup, model.TypeS3Bucket, model.TypeKMSKey, model.TypeLambdaFunction, model.TypeSecret,
	model.TypeAccountAssets}

// Exposure is how a listing row says an asset is exposed: through its
// resource policy (or a bucket's ACL) to anyone (Public), to other
// accounts (CrossAccount: through the policy, a key's grants or a bucket's
// ACL), or, for a KMS key, to management by any principal of its account.
type Exposure struct {
	Public        bool     `json:"public"`
	CrossAccount  []string `json:"cross_account"`
	AccountManage bool     `json:"account_manage"`
}

// exposures indexes findings.Exposures by asset ID.
func exposures(g *model.Graph) map[string]*Exposure {
	out := map[string]*Exposure{}
	for _, e := range findings.Exposures(g) {
		x := out[e.AssetID]
		if x == nil {
			x = &Exposure{CrossAccount: []string{}}
			out[e.AssetID] = x
		}
		switch e.Kind {
		case findings.ExposurePublic, findings.ExposurePublicACL:
			x.Public = true
		case findings.ExposureCrossAccount, findings.ExposureCrossAccountGrant, findings.ExposureCrossAccountACL:
			x.CrossAccount = append(x.CrossAccount, e.Accounts...)
		case findings.ExposureAccountManage:
			x.AccountManage = true
		}
	}
	return out
}

func exposureOf(m map[string]*Exposure, id string) Exposure {
	if x := m[id]; x != nil {
		return *x
	}
	return Exposure{CrossAccount: []string{}}
}

// assetsOf returns the resources of a type, in account then name order,
// of one account when account is set.
func assetsOf(g *model.Graph, t model.ResourceType, account string) []*model.Resource {
	var out []*model.Resource
	for i := range g.Resources {
		r := &g.Resources[i]
		if r.Type == t && (account == "" || r.AccountID == account) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// InstanceRow is one EC2 instance of `warden show instances`.
type InstanceRow struct {
	AccountID       string   `json:"account_id"`
	Region          string   `json:"region"`
	ID              string   `json:"id"` // the instance's ARN
	InstanceID      string   `json:"instance_id"`
	Name            string   `json:"name"`
	State           string   `json:"state"`
	Type            string   `json:"type"`
	PublicIP        string   `json:"public_ip"`
	PrivateIP       string   `json:"private_ip"`
	InstanceProfile string   `json:"instance_profile"`
	Role            string   `json:"role"`
	SecurityGroups  []string `json:"security_groups"`
	// OpenAdminPorts are the admin ports its security groups open to the
	// internet.
	OpenAdminPorts []int `json:"open_admin_ports"`
}

// Instances lists the EC2 instances.
func Instances(g *model.Graph, account string) []InstanceRow {
	open := map[string][]int{} // security group ID → open admin ports
	for _, e := range findings.Exposures(g) {
		if e.Kind == findings.ExposureOpenAdminPort {
			for i := range g.Resources {
				if r := &g.Resources[i]; r.ID == e.AssetID && r.SecurityGroup != nil {
					open[r.SecurityGroup.GroupID] = e.Ports
				}
			}
		}
	}
	rows := []InstanceRow{}
	for _, r := range assetsOf(g, model.TypeEC2Instance, account) {
		i := r.Instance
		row := InstanceRow{AccountID: r.AccountID, Region: i.Region, ID: r.ID, InstanceID: i.InstanceID, Name: r.Name, State: i.State, Type: i.InstanceType,
			PublicIP: i.PublicIP, PrivateIP: i.PrivateIP, InstanceProfile: i.InstanceProfile, Role: i.Role, SecurityGroups: slices.Clone(i.SecurityGroups), OpenAdminPorts: []int{}}
		if row.SecurityGroups == nil {
			row.SecurityGroups = []string{}
		}
		for _, sg := range i.SecurityGroups {
			row.OpenAdminPorts = append(row.OpenAdminPorts, open[sg]...)
		}
		slices.Sort(row.OpenAdminPorts)
		row.OpenAdminPorts = slices.Compact(row.OpenAdminPorts)
		rows = append(rows, row)
	}
	return rows
}

// BucketRow is one S3 bucket of `warden show buckets`.
type BucketRow struct {
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	Name      string `json:"name"`
	HasPolicy bool   `json:"has_policy"`
	// BlockPublicAccess is the bucket's Block Public Access configuration,
	// null when none is set.
	BlockPublicAccess *model.PublicAccessBlock `json:"block_public_access"`
	// ACLGrants counts the grants of its ACL to others than its owner,
	// null when the ACL was not read.
	ACLGrants *int     `json:"acl_grants"`
	Exposure  Exposure `json:"exposure"`
}

// Buckets lists the S3 buckets.
func Buckets(g *model.Graph, account string) []BucketRow {
	ex := exposures(g)
	rows := []BucketRow{}
	for _, r := range assetsOf(g, model.TypeS3Bucket, account) {
		row := BucketRow{AccountID: r.AccountID, Region: r.Bucket.Region, Name: r.Name, HasPolicy: r.Bucket.Policy != "",
			BlockPublicAccess: r.Bucket.PublicAccessBlock, Exposure: exposureOf(ex, r.ID)}
		if acl := r.Bucket.ACL; acl != nil {
			n := 0
			for _, g := range acl.Grants {
				if g.GranteeType != model.ACLCanonicalUser || g.Grantee != acl.OwnerID {
					n++
				}
			}
			row.ACLGrants = &n
		}
		rows = append(rows, row)
	}
	return rows
}

// KMSKeyRow is one customer managed KMS key of `warden show keys-kms`.
type KMSKeyRow struct {
	AccountID   string   `json:"account_id"`
	Region      string   `json:"region"`
	ARN         string   `json:"arn"`
	KeyID       string   `json:"key_id"`
	State       string   `json:"state"`
	Description string   `json:"description"`
	Grants      int      `json:"grants"`
	Exposure    Exposure `json:"exposure"`
}

// KMSKeys lists the customer managed KMS keys.
func KMSKeys(g *model.Graph, account string) []KMSKeyRow {
	ex := exposures(g)
	rows := []KMSKeyRow{}
	for _, r := range assetsOf(g, model.TypeKMSKey, account) {
		rows = append(rows, KMSKeyRow{AccountID: r.AccountID, Region: r.KMSKey.Region, ARN: r.ARN, KeyID: r.KMSKey.KeyID, State: r.KMSKey.State,
			Description: r.KMSKey.Description, Grants: len(r.KMSKey.Grants), Exposure: exposureOf(ex, r.ID)})
	}
	return rows
}

// FunctionRow is one Lambda function of `warden show functions`.
type FunctionRow struct {
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	Name      string `json:"name"`
	ARN       string `json:"arn"`
	Runtime   string `json:"runtime"`
	Role      string `json:"role"`
	HasPolicy bool   `json:"has_policy"`
	// Aliases are the names of its aliases; AliasPolicies counts those
	// with a policy of their own.
	Aliases       []string `json:"aliases"`
	AliasPolicies int      `json:"alias_policies"`
	Exposure      Exposure `json:"exposure"`
}

// Functions lists the Lambda functions.
func Functions(g *model.Graph, account string) []FunctionRow {
	ex := exposures(g)
	rows := []FunctionRow{}
	for _, r := range assetsOf(g, model.TypeLambdaFunction, account) {
		row := FunctionRow{AccountID: r.AccountID, Region: r.Function.Region, Name: r.Name, ARN: r.ARN, Runtime: r.Function.Runtime,
			Role: r.Function.Role, HasPolicy: r.Function.Policy != "", Aliases: []string{}, Exposure: exposureOf(ex, r.ID)}
		for _, a := range r.Function.Aliases {
			row.Aliases = append(row.Aliases, a.Name)
			if a.Policy != "" {
				row.AliasPolicies++
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// SecretRow is one Secrets Manager secret of `warden show secrets`: never
// its value, which warden does not read.
type SecretRow struct {
	AccountID string   `json:"account_id"`
	Region    string   `json:"region"`
	Name      string   `json:"name"`
	ARN       string   `json:"arn"`
	KMSKeyID  string   `json:"kms_key_id"`
	HasPolicy bool     `json:"has_policy"`
	Exposure  Exposure `json:"exposure"`
}

// Secrets lists the secrets.
func Secrets(g *model.Graph, account string) []SecretRow {
	ex := exposures(g)
	rows := []SecretRow{}
	for _, r := range assetsOf(g, model.TypeSecret, account) {
		rows = append(rows, SecretRow{AccountID: r.AccountID, Region: r.Secret.Region, Name: r.Name, ARN: r.ARN, KMSKeyID: r.Secret.KMSKeyID,
			HasPolicy: r.Secret.Policy != "", Exposure: exposureOf(ex, r.ID)})
	}
	return rows
}

// SecurityGroupRule is one inbound rule of a security group row, with
// whether it admits the internet (0.0.0.0/0 or ::/0).
type SecurityGroupRule struct {
	Protocol       string   `json:"protocol"`
	FromPort       int      `json:"from_port"`
	ToPort         int      `json:"to_port"`
	CIDRs          []string `json:"cidrs"`
	IPv6CIDRs      []string `json:"ipv6_cidrs"`
	Groups         []string `json:"groups"`
	OpenToInternet bool     `json:"open_to_internet"`
}

// SecurityGroupRow is one EC2 security group of `warden show
// security-groups`.
type SecurityGroupRow struct {
	AccountID   string              `json:"account_id"`
	Region      string              `json:"region"`
	ID          string              `json:"id"` // the group's ARN
	GroupID     string              `json:"group_id"`
	Name        string              `json:"name"`
	VPC         string              `json:"vpc"`
	Description string              `json:"description"`
	Ingress     []SecurityGroupRule `json:"ingress"`
	// OpenAdminPorts are the admin ports (SSH, RDP) it opens to the
	// internet.
	OpenAdminPorts []int `json:"open_admin_ports"`
}

// SecurityGroupRules lays out a group's inbound rules.
func SecurityGroupRules(rules []model.IPRule) []SecurityGroupRule {
	out := []SecurityGroupRule{}
	for _, r := range rules {
		out = append(out, SecurityGroupRule{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort, CIDRs: nonNil(r.CIDRs), IPv6CIDRs: nonNil(r.IPv6CIDRs),
			Groups: nonNil(r.Groups), OpenToInternet: r.OpenToInternet()})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// SecurityGroups lists the EC2 security groups.
func SecurityGroups(g *model.Graph, account string) []SecurityGroupRow {
	open := map[string][]int{}
	for _, e := range findings.Exposures(g) {
		if e.Kind == findings.ExposureOpenAdminPort {
			open[e.AssetID] = e.Ports
		}
	}
	rows := []SecurityGroupRow{}
	for _, r := range assetsOf(g, model.TypeSecurityGroup, account) {
		sg := r.SecurityGroup
		ports := open[r.ID]
		if ports == nil {
			ports = []int{}
		}
		rows = append(rows, SecurityGroupRow{AccountID: r.AccountID, Region: sg.Region, ID: r.ID, GroupID: sg.GroupID, Name: r.Name, VPC: sg.VPC,
			Description: sg.Description, Ingress: SecurityGroupRules(sg.Ingress), OpenAdminPorts: ports})
	}
	return rows
}

// InRegion is g with only the assets of region (every resource that is
// not an asset kept); g itself when region is "".
func InRegion(g *model.Graph, region string) *model.Graph {
	if region == "" {
		return g
	}
	out := &model.Graph{Entitlements: g.Entitlements, Grants: g.Grants}
	for i := range g.Resources {
		r := &g.Resources[i]
		if a := model.AssetRegion(r); a == "" || a == region {
			out.Resources = append(out.Resources, *r)
		}
	}
	return out
}
