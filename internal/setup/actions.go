// Package setup generates what a customer deploys so warden can read (or
// provision) their AWS estate: the least-privilege IAM policy, a
// CloudFormation template for the integration role in one account, a
// service-managed StackSet for every account of an organization, and random
// ExternalIds.
//
// Everything is generated from one table, Actions, which lists the AWS
// actions each warden feature calls. A feature that starts calling a new
// action adds it there; the policy-coverage test (every action recorded
// against awsfake must be in the policy, and every action in the policy must
// be called) keeps the table honest.
package setup

import (
	"fmt"
	"sort"
	"strings"
)

// Feature is a part of warden that calls AWS.
type Feature string

// The features.
const (
	FeatureIdentity                Feature = "identity"
	FeatureIAMRead                 Feature = "iam-read"
	FeatureCredentialReport        Feature = "credential-report"
	FeatureAccessKeys              Feature = "access-keys"
	FeatureOrganizationsRead       Feature = "organizations-read"
	FeatureAssumeMemberRole        Feature = "assume-member-role"
	FeatureIdentityCenterRead      Feature = "identity-center-read"
	FeatureCloudTrailRead          Feature = "cloudtrail-read"
	FeatureIAMLastAccessed         Feature = "iam-last-accessed"
	FeatureIAMProvision            Feature = "iam-provision"
	FeatureIdentityCenterProvision Feature = "identity-center-provision"
	// The asset collector (internal/collect/assets.go), one feature per
	// choice of sync.assets: the regions (learned unless configured) and
	// each service.
	FeatureAssetsRegions        Feature = "assets-regions"
	FeatureAssetsEC2            Feature = "assets-ec2"
	FeatureAssetsS3             Feature = "assets-s3"
	FeatureAssetsKMS            Feature = "assets-kms"
	FeatureAssetsLambda         Feature = "assets-lambda"
	FeatureAssetsSecretsManager Feature = "assets-secretsmanager"
	// FeatureAssetsConfig reads an AWS Config aggregator
	// (sync.assets.source auto or config), in the account holding it.
	FeatureAssetsConfig Feature = "assets-config"
)

// Operations names the SDK operation of each action of the table whose IAM
// action name is not the operation's (S3's); every other action is its
// operation's name. An operation of another SDK client than the action's
// prefix names is written client:Operation (S3 Control's, whose IAM
// actions are s3:).
var Operations = map[string]string{
	"s3:ListAllMyBuckets":            "ListBuckets",
	"s3:GetBucketPublicAccessBlock":  "GetPublicAccessBlock",
	"s3:GetAccountPublicAccessBlock": "s3control:GetPublicAccessBlock",
}

// Implied lists the actions of the table that no code calls by that name
// but that AWS authorizes as part of another call, with why. The coverage
// test accepts them uncalled.
var Implied = map[string]string{
	"iam:TagUser": "iam:CreateUser with Tags also requires iam:TagUser",
}

// Actions is THE table: every AWS action (IAM action name, "service:Action")
// each feature calls. Policies, templates and the coverage test derive from
// it; nothing else lists actions.
var Actions = map[Feature][]string{
	FeatureIdentity: {
		"sts:GetCallerIdentity",
	},
	FeatureIAMRead: {
		"iam:GetAccountAuthorizationDetails",
		// MFA devices: the assigned virtual ones in one listing, and
		// per user only for those with MFA but no virtual device.
		"iam:ListVirtualMFADevices",
		"iam:ListMFADevices",
	},
	FeatureCredentialReport: {
		"iam:GenerateCredentialReport",
		"iam:GetCredentialReport",
	},
	FeatureAccessKeys: {
		"iam:ListAccessKeys",
	},
	FeatureOrganizationsRead: {
		"organizations:DescribeOrganization",
		"organizations:ListRoots",
		"organizations:ListOrganizationalUnitsForParent",
		"organizations:ListAccountsForParent",
		"organizations:ListPolicies",
		"organizations:DescribePolicy",
		"organizations:ListTargetsForPolicy",
		"organizations:ListTagsForResource",
	},
	FeatureAssumeMemberRole: {
		"sts:AssumeRole",
	},
	FeatureIdentityCenterRead: {
		"sso:ListInstances",
		"sso:ListPermissionSets",
		"sso:DescribePermissionSet",
		"sso:ListManagedPoliciesInPermissionSet",
		"sso:ListCustomerManagedPolicyReferencesInPermissionSet",
		"sso:GetInlinePolicyForPermissionSet",
		"sso:GetPermissionsBoundaryForPermissionSet",
		"sso:ListTagsForResource",
		"sso:ListAccountsForProvisionedPermissionSet",
		"sso:ListAccountAssignments",
		"sso:ListAccountAssignmentsForPrincipal",
		"identitystore:ListUsers",
		"identitystore:ListGroups",
		"identitystore:ListGroupMemberships",
	},
	FeatureCloudTrailRead: { // a connection's activity: (CloudTrail management events)
		"cloudtrail:LookupEvents",
	},
	FeatureIAMLastAccessed: { // activity.last_accessed: a job per principal, read by the session that made it
		"iam:GenerateServiceLastAccessedDetails",
		"iam:GetServiceLastAccessedDetails",
	},
	FeatureAssetsRegions: {
		"ec2:DescribeRegions", // the account's enabled regions, once per sync, unless sync.assets.regions lists them
	},
	FeatureAssetsEC2: {
		"ec2:DescribeInstances",
		"ec2:DescribeSecurityGroups",
		"iam:ListInstanceProfiles", // an instance's profile → the role it runs as
	},
	FeatureAssetsS3: {
		"s3:ListAllMyBuckets", // ListBuckets
		"s3:GetBucketPolicy",
		"s3:GetBucketPublicAccessBlock",  // GetPublicAccessBlock
		"s3:GetBucketAcl",                // the bucket's ACL: who it grants access to
		"s3:GetAccountPublicAccessBlock", // S3 Control's GetPublicAccessBlock, once per account
	},
	FeatureAssetsConfig: {
		"config:DescribeConfigurationAggregators",             // the aggregator, once per sync
		"config:DescribeConfigurationAggregatorSourcesStatus", // which accounts and regions it collected
		"config:SelectAggregateResourceConfig",                // its items, 100 a page
	},
	FeatureAssetsKMS: {
		"kms:ListKeys",
		"kms:DescribeKey", // customer or AWS managed
		"kms:GetKeyPolicy",
		"kms:ListGrants",
	},
	FeatureAssetsLambda: {
		"lambda:ListFunctions",
		"lambda:GetPolicy",   // the function's policy, and each alias's (Qualifier)
		"lambda:ListAliases", // the aliases, whose policies grant on the alias alone
	},
	FeatureAssetsSecretsManager: {
		"secretsmanager:ListSecrets", // never GetSecretValue
		"secretsmanager:GetResourcePolicy",
	},
	FeatureIAMProvision: {
		"iam:GetUser",
		"iam:GetGroup",         // a group an action names must exist before any write
		"iam:GetPolicy",        // so must a managed policy
		"iam:GetPolicyVersion", // whose document says whether attaching it grants administrator access
		"iam:CreateUser",
		"iam:TagUser", // create-user converging an existing user's tags; CreateUser with tags is authorized as iam:TagUser too
		"iam:ListUserTags",
		"iam:UpdateUser",                 // create-user converging an existing user's path
		"iam:PutUserPermissionsBoundary", // and its boundary
		"iam:DeleteUser",
		"iam:ListGroupsForUser",
		"iam:AddUserToGroup",
		"iam:RemoveUserFromGroup",
		"iam:ListAttachedUserPolicies",
		"iam:ListAttachedGroupPolicies",
		"iam:ListAttachedRolePolicies",
		"iam:AttachUserPolicy",
		"iam:DetachUserPolicy",
		"iam:AttachGroupPolicy",
		"iam:DetachGroupPolicy",
		"iam:AttachRolePolicy",
		"iam:DetachRolePolicy",
		"iam:ListUserPolicies",
		"iam:ListGroupPolicies",
		"iam:ListRolePolicies",
		"iam:GetUserPolicy",
		"iam:GetGroupPolicy",
		"iam:GetRolePolicy",
		"iam:PutUserPolicy",
		"iam:PutGroupPolicy",
		"iam:PutRolePolicy",
		"iam:DeleteUserPolicy",
		"iam:DeleteGroupPolicy",
		"iam:DeleteRolePolicy",
		"iam:GetLoginProfile",
		"iam:CreateLoginProfile",
		"iam:DeleteLoginProfile",
		"iam:ListAccessKeys",
		"iam:UpdateAccessKey",
		"iam:DeleteAccessKey",
		"iam:ListSigningCertificates",
		"iam:UpdateSigningCertificate",
		"iam:DeleteSigningCertificate",
		"iam:ListSSHPublicKeys",
		"iam:UpdateSSHPublicKey",
		"iam:DeleteSSHPublicKey",
		"iam:ListServiceSpecificCredentials",
		"iam:UpdateServiceSpecificCredential",
		"iam:DeleteServiceSpecificCredential",
		"iam:ListMFADevices",
		"iam:ListVirtualMFADevices",
		"iam:DeactivateMFADevice",
		"iam:DeleteVirtualMFADevice",
	},
	FeatureIdentityCenterProvision: {
		"identitystore:GetUserId",
		"identitystore:GetGroupId",
		"identitystore:GetGroupMembershipId",
		"identitystore:CreateUser",
		"identitystore:DeleteUser",
		"identitystore:CreateGroup",
		"identitystore:DeleteGroup",
		"identitystore:CreateGroupMembership",
		"identitystore:DeleteGroupMembership",
		"identitystore:ListGroupMembershipsForMember",
		"sso:ListInstances",
		"sso:ListPermissionSets",
		"sso:DescribePermissionSet",
		"sso:ListAccountAssignments",
		"sso:ListAccountAssignmentsForPrincipal",
		"sso:CreateAccountAssignment",
		"sso:DeleteAccountAssignment",
		"sso:DescribeAccountAssignmentCreationStatus",
		"sso:DescribeAccountAssignmentDeletionStatus",
		"organizations:DescribeAccount", // an assignment's account must be in the organization
	},
}

// Mode is what warden is allowed to do: read, or read and provision.
type Mode string

// The modes.
const (
	ModeRead      Mode = "read"
	ModeProvision Mode = "provision"
)

// Scope says with whose credentials a feature calls AWS.
type Scope string

// The scopes.
const (
	// ScopeAccount features run in every account read, with that account's
	// credentials: the member role, or the base credentials in the
	// management account or a single account.
	ScopeAccount Scope = "account"
	// ScopeOrganization features run only with the connection's base
	// credentials, in the management (or delegated administrator) account.
	ScopeOrganization Scope = "organization"
)

// features says, for each feature of Actions, the least mode that uses it,
// where it runs, and whether warden calls it yet. A feature not yet built
// stays out of every policy and template, so they never grant more than
// warden uses; the policy-coverage test keeps "built" true to the code.
var features = map[Feature]struct {
	mode  Mode
	scope Scope
	built bool
}{
	FeatureIdentity:         {ModeRead, ScopeAccount, true},
	FeatureIAMRead:          {ModeRead, ScopeAccount, true},
	FeatureCredentialReport: {ModeRead, ScopeAccount, true},
	FeatureAccessKeys:       {ModeRead, ScopeAccount, true},
	FeatureCloudTrailRead:   {ModeRead, ScopeAccount, true},
	FeatureIAMLastAccessed:  {ModeRead, ScopeAccount, true},
	// The asset collector, called by a sync with sync.assets.
	FeatureAssetsRegions:           {ModeRead, ScopeAccount, true},
	FeatureAssetsEC2:               {ModeRead, ScopeAccount, true},
	FeatureAssetsS3:                {ModeRead, ScopeAccount, true},
	FeatureAssetsKMS:               {ModeRead, ScopeAccount, true},
	FeatureAssetsLambda:            {ModeRead, ScopeAccount, true},
	FeatureAssetsSecretsManager:    {ModeRead, ScopeAccount, true},
	FeatureAssetsConfig:            {ModeRead, ScopeOrganization, true},
	FeatureOrganizationsRead:       {ModeRead, ScopeOrganization, true},
	FeatureAssumeMemberRole:        {ModeRead, ScopeOrganization, true},
	FeatureIdentityCenterRead:      {ModeRead, ScopeOrganization, true},
	FeatureIAMProvision:            {ModeProvision, ScopeAccount, true},
	FeatureIdentityCenterProvision: {ModeProvision, ScopeOrganization, true},
}

// optIn are the built features a connection turns on in warden.yaml
// (sync.assets): no policy or template includes them unless they are named
// (`warden setup policy --features …`), so the default policy grants only
// what every sync calls.
var optIn = map[Feature]bool{
	FeatureAssetsRegions: true, FeatureAssetsEC2: true, FeatureAssetsS3: true,
	FeatureAssetsKMS: true, FeatureAssetsLambda: true, FeatureAssetsSecretsManager: true,
	FeatureAssetsConfig: true,
}

// OptIn reports whether a feature is left out of a mode's policy unless
// named.
func OptIn(f Feature) bool { return optIn[f] }

// Built reports whether warden calls a feature's actions yet.
func Built(f Feature) bool { return features[f].built }

// ParseMode returns the mode named s ("read" or "provision").
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeRead, ModeProvision:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q: use read or provision", s)
}

// ParseFeature returns the feature named s.
func ParseFeature(s string) (Feature, error) {
	f := Feature(s)
	if _, ok := Actions[f]; ok {
		return f, nil
	}
	names := make([]string, 0, len(Actions))
	for _, f := range Features() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown feature %q: use one of %s", s, strings.Join(names, ", "))
}

// Features returns every feature, sorted by name.
func Features() []Feature {
	out := make([]Feature, 0, len(Actions))
	for f := range Actions {
		out = append(out, f)
	}
	sortFeatures(out)
	return out
}

// FeaturesFor returns the built features a mode allows but the opt-in
// ones (OptIn), sorted by name:
// read features for ModeRead, read and provisioning features for
// ModeProvision. An unknown mode has none.
func FeaturesFor(m Mode) []Feature {
	var out []Feature
	for _, f := range Features() {
		if features[f].built && !optIn[f] && allows(m, features[f].mode) {
			out = append(out, f)
		}
	}
	return out
}

// AccountFeaturesFor returns the features of a mode that run in every
// account (ScopeAccount), sorted by name: what a member account's role
// needs.
func AccountFeaturesFor(m Mode) []Feature {
	var out []Feature
	for _, f := range FeaturesFor(m) {
		if features[f].scope == ScopeAccount {
			out = append(out, f)
		}
	}
	return out
}

// ScopeOf returns where a feature runs, "" for an unknown feature.
func ScopeOf(f Feature) Scope { return features[f].scope }

// ModeOf returns the least mode that allows a feature, "" for an unknown
// feature.
func ModeOf(f Feature) Mode { return features[f].mode }

// ActionsFor returns every action a mode's features call, sorted and
// without duplicates: exactly the actions Policy(m) allows.
func ActionsFor(m Mode) []string {
	return actionsOf(FeaturesFor(m))
}

// FeaturesCalling returns the features whose table entry lists action,
// sorted by name.
func FeaturesCalling(action string) []Feature {
	var out []Feature
	for _, f := range Features() {
		for _, a := range Actions[f] {
			if a == action {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// allows reports whether mode m includes what mode need requires.
func allows(m, need Mode) bool {
	switch m {
	case ModeProvision:
		return need == ModeRead || need == ModeProvision
	case ModeRead:
		return need == ModeRead
	}
	return false
}

// actionsOf returns the sorted, unique actions of the features.
func actionsOf(fs []Feature) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		for _, a := range Actions[f] {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

func sortFeatures(fs []Feature) {
	sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
}
