package awsfake

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"
)

// TestActionFaults fails one entity's call of an action, in the
// service's own error shape (query XML for IAM, JSON for SSO Admin), and
// leaves every other call alone.
func TestActionFaults(t *testing.T) {
	truth := OrgEstate{Accounts: 1, Seed: 4, PerAccount: Estate{Users: 2},
		IdentityCenter: &IdentityCenterEstate{Users: 5, Groups: 2, PermissionSets: 3}}.Build()
	var psARNs []string
	for arn := range truth.IdentityCenter.PermissionSets {
		psARNs = append(psARNs, arn)
	}
	user := sortedKeys(truth.Management.IAM.Users)[0]
	srv := NewServer(Options{ActionFaults: map[string]ActionFault{
		"iam:ListAccessKeys":                         {Code: "NoSuchEntity", Status: http.StatusNotFound, Message: "The user with name " + user + " cannot be found.", Param: "UserName", Value: user},
		"sso:GetPermissionsBoundaryForPermissionSet": {Param: "PermissionSetArn", Value: psARNs[0]},
	}})
	defer srv.Close()
	cfg := sdkConfig(srv, truth.Install(srv))
	ctx := context.Background()

	c := iam.NewFromConfig(cfg)
	for _, u := range sortedKeys(truth.Management.IAM.Users) {
		_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)})
		var ae smithy.APIError
		var re *awshttp.ResponseError
		switch {
		case u != user && err != nil:
			t.Errorf("ListAccessKeys(%s): %v, want no fault", u, err)
		case u == user && (!errors.As(err, &ae) || ae.ErrorCode() != "NoSuchEntity" || !errors.As(err, &re) || re.HTTPStatusCode() != 404):
			t.Errorf("ListAccessKeys(%s): %v, want 404 NoSuchEntity", u, err)
		}
	}

	sso := ssoadmin.NewFromConfig(cfg)
	inst := aws.String(truth.IdentityCenter.InstanceARN)
	before := srv.Calls()["sso:GetPermissionsBoundaryForPermissionSet"]
	for _, arn := range psARNs {
		_, err := sso.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(arn)})
		var ae smithy.APIError
		var re *awshttp.ResponseError
		failed := errors.As(err, &ae) && ae.ErrorCode() == "InternalServerException" && errors.As(err, &re) && re.HTTPStatusCode() == 500
		switch {
		case arn == psARNs[0] && !failed:
			t.Errorf("GetPermissionsBoundaryForPermissionSet(%s): %v, want 500 InternalServerException", arn, err)
		case arn != psARNs[0] && failed:
			t.Errorf("GetPermissionsBoundaryForPermissionSet(%s): %v, want no injected fault", arn, err)
		}
	}
	// The fault persists: every attempt the SDK made (3) was answered
	// with it and counted.
	if n := srv.Calls()["sso:GetPermissionsBoundaryForPermissionSet"] - before; n != int64(len(psARNs)+2) {
		t.Errorf("%d calls, want %d: one per permission set, plus the SDK's two retries of the failing one", n, len(psARNs)+2)
	}
}
