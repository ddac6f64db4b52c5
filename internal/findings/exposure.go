package findings

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// ExposureKind says how an asset is exposed.
type ExposureKind string

// The exposure kinds.
const (
	// ExposurePublic: the asset's resource policy (for a Lambda function,
	// its own or an alias's) allows anyone ("*")
	// without a condition that narrows the callers to named accounts or an
	// organization; for a bucket, unless the RestrictPublicBuckets setting
	// of its Block Public Access, or of its account's, confines it to the
	// account.
	ExposurePublic ExposureKind = "public"
	// ExposureCrossAccount: the policy allows principals of other accounts,
	// named or through a condition on the caller's account.
	ExposureCrossAccount ExposureKind = "cross-account"
	// ExposureAccountManage: a KMS key policy lets any principal of the
	// key's account (Principal "*" limited by kms:CallerAccount or
	// aws:PrincipalAccount) manage the key, whatever their IAM policies say.
	ExposureAccountManage ExposureKind = "account-manage"
	// ExposureOpenAdminPort: a security group admits 0.0.0.0/0 or ::/0 on
	// an administration port (SSH 22, RDP 3389).
	ExposureOpenAdminPort ExposureKind = "open-admin-port"
	// ExposureCrossAccountGrant: a grant on a KMS key lets a principal of
	// another account (or a whole account) use the key.
	ExposureCrossAccountGrant ExposureKind = "cross-account-grant"
	// ExposurePublicACL: a bucket's ACL grants to AllUsers (anyone) or
	// AuthenticatedUsers (any AWS account), unless the IgnorePublicAcls
	// setting of its Block Public Access, or of its account's, makes S3
	// ignore those grants.
	ExposurePublicACL ExposureKind = "public-acl"
	// ExposureCrossAccountACL: a bucket's ACL grants to the canonical user
	// of another account. Accounts names those the snapshot knows (the
	// owners of its buckets), else the canonical user ID.
	ExposureCrossAccountACL ExposureKind = "cross-account-acl"
)

// AdminPorts are the ports ExposureOpenAdminPort looks at.
var AdminPorts = []int{22, 3389}

// Exposure is one exposed asset.
type Exposure struct {
	Kind      ExposureKind       `json:"kind"`
	AssetID   string             `json:"asset_id"`
	AssetType model.ResourceType `json:"asset_type"`
	Name      string             `json:"name"`
	AccountID string             `json:"account_id"`
	Region    string             `json:"region"`
	// Accounts are the other accounts, for ExposureCrossAccount.
	Accounts []string `json:"accounts"`
	// Actions are the actions the exposing statements allow (the ports'
	// rules for a security group: empty).
	Actions []string `json:"actions"`
	// Ports are the admin ports open, for ExposureOpenAdminPort.
	Ports []int `json:"ports"`
	// Severity is high (anyone on the internet: public, an open admin
	// port) or medium (named other accounts, every principal of the
	// account managing a key); Fix says how to close it.
	Severity string `json:"severity"`
	Fix      string `json:"fix"`
}

// accountConditionKeys are the condition keys that narrow a statement's
// callers to named accounts (or an organization, for aws:PrincipalOrgID).
var accountConditionKeys = []string{"aws:sourceaccount", "aws:principalaccount", "kms:calleraccount", "aws:sourceowner", "aws:principalorgid", "aws:principalarn", "aws:sourcearn"}

// kmsManageActions are the KMS actions that manage a key rather than use it.
var kmsManageActions = []string{"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:TagResource"}

// Exposures returns every exposure of the graph's assets, ordered by asset
// ID then kind. A policy that does not parse exposes nothing here (the
// sync recorded it as a problem).
func Exposures(g *model.Graph) []Exposure {
	var out []Exposure
	accountBPA := model.AccountPublicAccessBlocks(g)
	var owners map[string]string
	for i := range g.Resources {
		r := &g.Resources[i]
		switch {
		case r.Bucket != nil:
			// The account's Block Public Access applies on top of the
			// bucket's: either one's RestrictPublicBuckets confines it.
			bpa := model.EffectivePublicAccessBlock(r.Bucket.PublicAccessBlock, accountBPA[r.AccountID])
			out = append(out, policyExposures(r, r.Bucket.Region, r.Bucket.Policy, bpa.RestrictPublicBuckets)...)
			if r.Bucket.ACL != nil {
				if owners == nil {
					owners = model.CanonicalOwners(g)
				}
				out = append(out, aclExposures(r, owners, bpa.IgnorePublicAcls)...)
			}
		case r.KMSKey != nil:
			out = append(out, policyExposures(r, r.KMSKey.Region, r.KMSKey.Policy, false)...)
			if e := grantExposure(r); e != nil {
				out = append(out, *e)
			}
		case r.Function != nil:
			// The function's policy and its aliases' own: one exposure of
			// each kind for the function.
			es := policyExposures(r, r.Function.Region, r.Function.Policy, false)
			for _, a := range r.Function.Aliases {
				es = append(es, policyExposures(r, r.Function.Region, a.Policy, false)...)
			}
			out = append(out, mergeExposures(es)...)
		case r.Secret != nil:
			out = append(out, policyExposures(r, r.Secret.Region, r.Secret.Policy, false)...)
		case r.SecurityGroup != nil:
			if ports := openAdminPorts(r.SecurityGroup.Ingress); len(ports) > 0 {
				out = append(out, Exposure{Kind: ExposureOpenAdminPort, AssetID: r.ID, AssetType: r.Type, Name: r.Name, AccountID: r.AccountID,
					Region: r.SecurityGroup.Region, Accounts: []string{}, Actions: []string{}, Ports: ports})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AssetID != out[j].AssetID {
			return out[i].AssetID < out[j].AssetID
		}
		return out[i].Kind < out[j].Kind
	})
	for i := range out {
		out[i].Severity, out[i].Fix = severityOf(out[i].Kind), exposureFix(&out[i])
	}
	return out
}

// openAdminPorts returns the admin ports the rules open to the internet.
func openAdminPorts(rules []model.IPRule) []int {
	var out []int
	for _, p := range AdminPorts {
		for _, r := range rules {
			if r.OpenToInternet() && r.CoversPort(p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// policyExposures classifies the Allow statements of a resource policy:
// the kinds found, each with the accounts and actions of its statements.
func policyExposures(r *model.Resource, region, doc string, publicRestricted bool) []Exposure {
	if doc == "" {
		return nil
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil
	}
	own := r.AccountID
	found := map[ExposureKind]*Exposure{}
	note := func(kind ExposureKind, actions []string, accounts ...string) {
		e := found[kind]
		if e == nil {
			e = &Exposure{Kind: kind, AssetID: r.ID, AssetType: r.Type, Name: r.Name, AccountID: own, Region: region, Accounts: []string{}, Actions: []string{}, Ports: []int{}}
			found[kind] = e
		}
		e.Actions = append(e.Actions, actions...)
		e.Accounts = append(e.Accounts, accounts...)
	}
	for _, s := range d.Statement {
		if s.Effect != "Allow" {
			continue
		}
		condAccounts, narrowed := conditionAccounts(s.Condition)
		for kind, vals := range s.Principal {
			for _, v := range vals {
				switch {
				case kind == "*" || kind == "AWS" && v == "*":
					var others []string
					for _, a := range condAccounts {
						if a != own {
							others = append(others, a)
						}
					}
					switch {
					case !narrowed:
						if !publicRestricted {
							note(ExposurePublic, s.Action)
						}
					case len(others) > 0:
						note(ExposureCrossAccount, s.Action, others...)
					case r.Type == model.TypeKMSKey && slices.Contains(condAccounts, own) && managesKey(s.Action):
						note(ExposureAccountManage, s.Action)
					}
				case kind == "AWS":
					if a := accountOf(v); a != "" && a != own {
						note(ExposureCrossAccount, s.Action, a)
					}
				}
			}
		}
	}
	var out []Exposure
	for _, kind := range []ExposureKind{ExposureAccountManage, ExposureCrossAccount, ExposurePublic} {
		if e := found[kind]; e != nil {
			e.tidy()
			out = append(out, *e)
		}
	}
	return out
}

// grantExposure is the cross-account-grant exposure of a KMS key: the
// other accounts its grants' grantee principals belong to, with the
// operations granted to them; nil when every grantee is of the key's own
// account or an AWS service.
func grantExposure(r *model.Resource) *Exposure {
	var e *Exposure
	for _, g := range r.KMSKey.Grants {
		a := accountOf(g.GranteePrincipal)
		if a == "" || a == r.AccountID {
			continue
		}
		if e == nil {
			e = &Exposure{Kind: ExposureCrossAccountGrant, AssetID: r.ID, AssetType: r.Type, Name: r.Name, AccountID: r.AccountID,
				Region: r.KMSKey.Region, Accounts: []string{}, Actions: []string{}, Ports: []int{}}
		}
		e.Accounts = append(e.Accounts, a)
		for _, op := range g.Operations {
			e.Actions = append(e.Actions, "kms:"+op)
		}
	}
	if e != nil {
		e.tidy()
	}
	return e
}

// mergeExposures merges exposures of one asset by kind, in the order the
// kinds first appear: their actions and accounts together.
func mergeExposures(es []Exposure) []Exposure {
	var out []Exposure
	at := map[ExposureKind]int{}
	for _, e := range es {
		i, ok := at[e.Kind]
		if !ok {
			at[e.Kind] = len(out)
			out = append(out, e)
			continue
		}
		out[i].Actions = append(out[i].Actions, e.Actions...)
		out[i].Accounts = append(out[i].Accounts, e.Accounts...)
		out[i].tidy()
	}
	return out
}

// tidy sorts an exposure's actions and accounts and drops repeats.
func (e *Exposure) tidy() {
	sort.Strings(e.Actions)
	e.Actions = slices.Compact(e.Actions)
	sort.Strings(e.Accounts)
	e.Accounts = slices.Compact(e.Accounts)
}

// aclExposures are a bucket's ACL exposures: public-acl for its grants to
// AllUsers and AuthenticatedUsers (unless ignorePublic), cross-account-acl
// for its grants to other accounts' canonical users (named by account
// where owners knows it, else by canonical user ID). Grants to the owner
// and to S3's log delivery group expose nothing.
func aclExposures(r *model.Resource, owners map[string]string, ignorePublic bool) []Exposure {
	acl := r.Bucket.ACL
	found := map[ExposureKind]*Exposure{}
	note := func(kind ExposureKind, g model.BucketACLGrant, account string) {
		e := found[kind]
		if e == nil {
			e = &Exposure{Kind: kind, AssetID: r.ID, AssetType: r.Type, Name: r.Name, AccountID: r.AccountID, Region: r.Bucket.Region,
				Accounts: []string{}, Actions: []string{}, Ports: []int{}}
			found[kind] = e
		}
		e.Actions = append(e.Actions, g.Actions()...)
		if account != "" {
			e.Accounts = append(e.Accounts, account)
		}
	}
	for _, g := range acl.Grants {
		switch {
		case g.PublicGrant():
			if !ignorePublic {
				note(ExposurePublicACL, g, "")
			}
		case g.GranteeType == model.ACLCanonicalUser && g.Grantee != acl.OwnerID:
			acct, known := owners[g.Grantee]
			if acct == r.AccountID {
				continue
			}
			if !known {
				acct = g.Grantee
			}
			note(ExposureCrossAccountACL, g, acct)
		}
	}
	var out []Exposure
	for _, kind := range []ExposureKind{ExposureCrossAccountACL, ExposurePublicACL} {
		if e := found[kind]; e != nil {
			e.tidy()
			out = append(out, *e)
		}
	}
	return out
}

// conditionAccounts returns the accounts the statement's conditions narrow
// its callers to, and whether any condition narrows them at all (an
// organization ID or an ARN pattern narrows without naming an account
// here).
func conditionAccounts(cond map[string]map[string][]string) (accounts []string, narrowed bool) {
	for op, keys := range cond {
		if strings.HasPrefix(strings.ToLower(op), "stringnot") || strings.HasPrefix(strings.ToLower(op), "arnnot") {
			continue
		}
		for k, vals := range keys {
			if !slices.Contains(accountConditionKeys, strings.ToLower(k)) {
				continue
			}
			narrowed = true
			for _, v := range vals {
				if a := accountOf(v); a != "" {
					accounts = append(accounts, a)
				}
			}
		}
	}
	return accounts, narrowed
}

// managesKey reports whether actions include one that manages a KMS key.
func managesKey(actions []string) bool {
	for _, a := range actions {
		for _, m := range kmsManageActions {
			if policy.Glob(strings.ToLower(a), strings.ToLower(m)) {
				return true
			}
		}
	}
	return false
}

// PublicAdminInstance is an EC2 instance with a public IP that runs as a
// role that is an administrator: the blast radius of one compromised host
// is the whole account.
type PublicAdminInstance struct {
	InstanceID string `json:"instance_id"` // the instance's resource ID (ARN)
	Name       string `json:"name"`
	AccountID  string `json:"account_id"`
	Region     string `json:"region"`
	PublicIP   string `json:"public_ip"`
	Role       string `json:"role"`
	// DecidedBy says how the role is known to be an administrator:
	// "effective_admins" (the policy evaluator allows it every action
	// once SCPs, boundaries and denies apply; Decision is allowed or
	// allowed_if) or "admin_policies" (it holds an administrator policy;
	// Decision is "").
	DecidedBy string `json:"decided_by"`
	Decision  string `json:"decision"`
	// Through are the administrator policies the role holds (empty for an
	// effective administrator that holds none).
	Through  []PolicyPath `json:"through"`
	Severity string       `json:"severity"` // always high
	Fix      string       `json:"fix"`
}

// Where PublicAdminInstance.DecidedBy comes from.
const (
	DecidedByEffective = "effective_admins"
	DecidedByPolicies  = "admin_policies"
)

// PublicAdminInstances returns the instances with a public IP whose role
// is an administrator (Admins: an administrator policy held directly or
// inline; service control policies and permissions boundaries are not
// applied here), ordered by instance ID.
func PublicAdminInstances(g *model.Graph) []PublicAdminInstance {
	admins := map[string]string{}
	for _, a := range Admins(g) {
		admins[a.ID] = ""
	}
	return publicAdminInstances(g, admins, DecidedByPolicies)
}

// PublicAdminInstancesEffective returns the instances with a public IP
// whose role is one of admins, the effective administrators
// (EffectiveAdmins: after SCPs, permissions boundaries and denies),
// ordered by instance ID.
func PublicAdminInstancesEffective(g *model.Graph, admins []EffectiveAdmin) []PublicAdminInstance {
	roles := map[string]string{}
	for _, a := range admins {
		if a.Principal.Type == model.TypeIAMRole {
			roles[a.Principal.ID] = string(a.Decision)
		}
	}
	return publicAdminInstances(g, roles, DecidedByEffective)
}

// publicAdminInstances lists the public instances whose role is a key of
// admins (the role's decision).
func publicAdminInstances(g *model.Graph, admins map[string]string, by string) []PublicAdminInstance {
	held := map[string][]PolicyPath{}
	for _, a := range Admins(g) {
		held[a.ID] = a.Through
	}
	var out []PublicAdminInstance
	for i := range g.Resources {
		r := &g.Resources[i]
		in := r.Instance
		if in == nil || in.PublicIP == "" || in.Role == "" {
			continue
		}
		decision, ok := admins[in.Role]
		if !ok {
			continue
		}
		through := held[in.Role]
		if through == nil {
			through = []PolicyPath{}
		}
		role := in.Role[strings.LastIndexByte(in.Role, '/')+1:]
		out = append(out, PublicAdminInstance{InstanceID: r.ID, Name: r.Name, AccountID: r.AccountID, Region: in.Region, PublicIP: in.PublicIP,
			Role: in.Role, DecidedBy: by, Decision: decision, Through: through, Severity: "high",
			Fix: fmt.Sprintf("give instance %s a role with only what it needs instead of %s (aws ec2 replace-iam-instance-profile-association), "+
				"or take away its public IP and reach it through SSM Session Manager", in.InstanceID, role)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InstanceID < out[j].InstanceID })
	return out
}

// assetListings are the calls that list each asset service: a snapshot
// that made one read assets.
var assetListings = []string{"s3:ListBuckets", "kms:ListKeys", "lambda:ListFunctions", "secretsmanager:ListSecrets", "ec2:DescribeInstances", "ec2:DescribeSecurityGroups"}

// AssetsRead reports whether the sync that made snap (graph g) read
// assets: it listed some asset service, or g holds an asset or an
// account's asset settings (a refresh keeps those of the sync before it).
func AssetsRead(snap *model.Snapshot, g *model.Graph) bool {
	if snap != nil {
		for _, k := range assetListings {
			if snap.APICalls[k] > 0 {
				return true
			}
		}
	}
	for i := range g.Resources {
		switch g.Resources[i].Type {
		case model.TypeEC2Instance, model.TypeSecurityGroup, model.TypeS3Bucket, model.TypeKMSKey, model.TypeLambdaFunction, model.TypeSecret, model.TypeAccountAssets:
			return true
		}
	}
	return false
}
