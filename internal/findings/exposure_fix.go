package findings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// severityOf is the severity of an exposure kind: high when anyone on the
// internet reaches the asset, medium when named accounts or every
// principal of the account do.
func severityOf(k ExposureKind) string {
	switch k {
	case ExposurePublic, ExposureOpenAdminPort, ExposurePublicACL:
		return "high"
	}
	return "medium"
}

// exposureFix says how to close e: which statement or rule to change and
// the AWS CLI call that does it.
func exposureFix(e *Exposure) string {
	name := e.Name
	switch e.Kind {
	case ExposureOpenAdminPort:
		id := e.AssetID[strings.LastIndexByte(e.AssetID, '/')+1:]
		var ports []string
		for _, p := range e.Ports {
			ports = append(ports, strconv.Itoa(p))
		}
		return fmt.Sprintf("revoke the ingress from 0.0.0.0/0 and ::/0 on port %s (aws ec2 revoke-security-group-ingress --group-id %s --region %s ...); "+
			"reach the hosts through SSM Session Manager or from your own address ranges", strings.Join(ports, " and "), id, e.Region)
	case ExposurePublicACL:
		return fmt.Sprintf("remove the ACL's grants to AllUsers and AuthenticatedUsers (aws s3api put-bucket-acl --bucket %s --acl private), "+
			"or turn on Block Public Access's IgnorePublicAcls (aws s3api put-public-access-block --bucket %s ...); "+
			"better, disable ACLs (aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls Rules=[{ObjectOwnership=BucketOwnerEnforced}])", name, name, name)
	case ExposureCrossAccountACL:
		return fmt.Sprintf("if %s should not have %s, remove their grants from the bucket ACL (aws s3api get-bucket-acl --bucket %s names them; "+
			"aws s3api put-bucket-acl --bucket %s --access-control-policy ... writes the rest), or grant them in the bucket policy instead and disable ACLs "+
			"(aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls Rules=[{ObjectOwnership=BucketOwnerEnforced}])",
			"account(s) "+strings.Join(e.Accounts, ", "), strings.Join(e.Actions, ", "), name, name, name)
	case ExposureAccountManage:
		return fmt.Sprintf("narrow the key policy statement that lets every principal of account %s manage the key to the key administrators' roles "+
			"(aws kms put-key-policy --key-id %s --policy-name default --region %s)", e.AccountID, name, e.Region)
	}
	who := "anyone"
	if e.Kind == ExposureCrossAccount || e.Kind == ExposureCrossAccountGrant {
		who = "account(s) " + strings.Join(e.Accounts, ", ")
	}
	if e.Kind == ExposureCrossAccountGrant {
		return "if " + who + " should not have " + strings.Join(e.Actions, ", ") + ", revoke their grants: aws kms list-grants --key-id " + name +
			" --region " + e.Region + " names them; aws kms revoke-grant --key-id " + name + " --grant-id GRANT_ID --region " + e.Region + " revokes one"
	}
	var how string
	switch e.AssetType {
	case model.TypeS3Bucket:
		how = "edit the bucket policy (aws s3api put-bucket-policy --bucket " + name + ")"
		if e.Kind == ExposurePublic {
			how += ", or turn on Block Public Access's RestrictPublicBuckets (aws s3api put-public-access-block --bucket " + name + ")"
		}
	case model.TypeKMSKey:
		how = "edit the key policy (aws kms put-key-policy --key-id " + name + " --policy-name default --region " + e.Region + ")"
	case model.TypeLambdaFunction:
		how = "remove the permission (aws lambda remove-permission --function-name " + name + " --statement-id SID --region " + e.Region +
			"; with --qualifier ALIAS for an alias's own policy)"
	case model.TypeSecret:
		how = "edit the resource policy (aws secretsmanager put-resource-policy --secret-id " + name + " --region " + e.Region + ")"
	default:
		how = "edit its resource policy"
	}
	if e.Kind == ExposurePublic {
		return "remove the Allow statement for Principal \"*\", or add a condition naming your accounts or organization (aws:PrincipalOrgID): " + how
	}
	return "if " + who + " should not have " + strings.Join(e.Actions, ", ") + ", remove them from the policy: " + how
}
