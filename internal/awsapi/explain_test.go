package awsapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/internal/setup"
)

// opErr wraps an API error as the SDK returns it from an IAM operation.
func opErr(op, code, msg string) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: op,
		Err: fmt.Errorf("https response error StatusCode: 403, RequestID: r, %w", &smithy.GenericAPIError{Code: code, Message: msg})}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		wantProblem  []string // substrings
		wantFix      []string
		forbidInBoth string
		notInFix     string
	}{
		{
			name:        "access denied names the action and caller",
			err:         opErr("GetAccountAuthorizationDetails", "AccessDenied", "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: *"),
			wantProblem: []string{"iam:GetAccountAuthorizationDetails", "arn:aws:iam::111122223333:user/auditor", "AccessDenied"},
			wantFix:     []string{"attach to arn:aws:iam::111122223333:user/auditor the policy `warden setup policy --for read` prints: it allows iam:GetAccountAuthorizationDetails"},
		},
		{
			name:        "access denied without a caller in the message",
			err:         opErr("GenerateCredentialReport", "AccessDenied", "denied"),
			wantProblem: []string{"iam:GenerateCredentialReport"},
			wantFix:     []string{"`warden setup policy --for read`", "allows iam:GenerateCredentialReport"},
		},
		{
			name: "an Identity Center read denied names the read policy",
			err: &smithy.OperationError{ServiceID: "SSO Admin", OperationName: "ListPermissionSets", Err: &smithy.GenericAPIError{Code: "AccessDeniedException",
				Message: "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: sso:ListPermissionSets"}},
			wantProblem: []string{"sso:ListPermissionSets", "arn:aws:iam::111122223333:user/auditor"},
			wantFix:     []string{"`warden setup policy --for read`", "allows sso:ListPermissionSets"},
		},
		{
			name:        "a provisioning call denied names the provision policy",
			err:         opErr("CreateUser", "AccessDenied", "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:CreateUser"),
			wantProblem: []string{"iam:CreateUser"},
			wantFix:     []string{"`warden setup policy --for provision`", "allows iam:CreateUser"},
			notInFix:    "--for read",
		},
		{
			name:        "an action in no policy of warden's names only the action",
			err:         opErr("CreateSAMLProvider", "AccessDenied", "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:CreateSAMLProvider"),
			wantProblem: []string{"iam:CreateSAMLProvider"},
			wantFix:     []string{"attach a policy allowing iam:CreateSAMLProvider to arn:aws:iam::111122223333:user/auditor"},
			notInFix:    "setup policy",
		},
		{
			name:        "a denial that names no action names no policy",
			err:         &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access denied"},
			wantProblem: []string{"the AWS action", "AccessDenied"},
			wantFix:     []string{"the refused AWS action"},
			notInFix:    "setup policy",
		},
		{
			name:        "unknown access key",
			err:         &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}},
			wantProblem: []string{"does not recognise the access key", "InvalidClientTokenId"},
			wantFix:     []string{"AWS_ACCESS_KEY_ID"},
		},
		{
			name:        "wrong secret",
			err:         &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: &smithy.GenericAPIError{Code: "SignatureDoesNotMatch", Message: "signature"}},
			wantProblem: []string{"signature"},
			wantFix:     []string{"AWS_SECRET_ACCESS_KEY"},
		},
		{
			name:        "expired token",
			err:         &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}},
			wantProblem: []string{"expired"},
			wantFix:     []string{"aws sso login"},
		},
		{
			name:        "expired SSO session",
			err:         &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: errors.New("get identity: get credentials: failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, the SSO session has expired or is invalid")},
			wantProblem: []string{"SSO session has expired"},
			wantFix:     []string{"aws sso login"},
		},
		{
			name:        "throttled through every retry",
			err:         &smithy.OperationError{ServiceID: "IAM", OperationName: "GetCredentialReport", Err: &RetriesExhaustedError{Attempts: 16, Throttled: 16, Elapsed: 9 * time.Second, Bound: "16 attempts", Err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}},
			wantProblem: []string{"throttling iam:GetCredentialReport", "16 attempts in 9s"},
			wantFix:     []string{"--iam-rate"},
		},
		{
			name:        "missing profile",
			err:         fmt.Errorf("load AWS configuration: %w", config.SharedConfigProfileNotExistError{Profile: "prod"}),
			wantProblem: []string{`"prod"`},
			wantFix:     []string{"list-profiles"},
		},
		{
			name:        "other API error keeps code and action",
			err:         opErr("ListAccessKeys", "ServiceFailure", "internal"),
			wantProblem: []string{"iam:ListAccessKeys failed: ServiceFailure: internal"},
		},
		{
			name:        "plain error",
			err:         errors.New("something else"),
			wantProblem: []string{"something else"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problem, fix := Explain(tc.err)
			for _, w := range tc.wantProblem {
				if !strings.Contains(problem, w) {
					t.Errorf("problem %q lacks %q", problem, w)
				}
			}
			for _, w := range tc.wantFix {
				if !strings.Contains(fix, w) {
					t.Errorf("fix %q lacks %q", fix, w)
				}
			}
			if tc.notInFix != "" && strings.Contains(fix, tc.notInFix) {
				t.Errorf("fix %q names %q", fix, tc.notInFix)
			}
			if tc.wantFix == nil && fix != "" {
				t.Errorf("fix = %q, want none", fix)
			}
			if strings.Contains(problem, "\n") || strings.Contains(fix, "\n") {
				t.Errorf("Explain returned more than one line: %q / %q", problem, fix)
			}
		})
	}
}

// TestExplainRealSDKErrors drives the SDK into the failures users meet
// first and checks the explanation of what it actually returns.
func TestExplainRealSDKErrors(t *testing.T) {
	t.Run("no credentials", func(t *testing.T) {
		isolate(t)
		s, err := Load(context.Background(), Options{Endpoint: "http://127.0.0.1:1", MaxBackoff: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.CallerIdentity(context.Background())
		if err == nil {
			t.Fatal("CallerIdentity succeeded without credentials")
		}
		problem, fix := Explain(err)
		if !strings.Contains(problem, "no AWS credentials") || !strings.Contains(fix, "AWS_ACCESS_KEY_ID") {
			t.Errorf("Explain(%v) = %q / %q", err, problem, fix)
		}
	})
	t.Run("endpoint unreachable", func(t *testing.T) {
		s := load(t, Options{Endpoint: "http://127.0.0.1:1"})
		_, err := s.IAM("111122223333").ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		if err == nil {
			t.Fatal("call to a closed port succeeded")
		}
		problem, fix := Explain(err)
		if !strings.Contains(problem, "cannot reach the AWS endpoint 127.0.0.1:1 for iam:ListAccessKeys") || !strings.Contains(fix, "--endpoint") {
			t.Errorf("Explain(%v) = %q / %q", err, problem, fix)
		}
		if strings.Contains(problem+fix, "not-a-real-secret") {
			t.Error("the explanation shows the secret access key")
		}
	})
}

// TestDeniedFixNamesThePolicyOfEveryAction: each action of the read
// policy's table is fixed by that policy, each other action of the
// provision policy's by that one, as `warden setup policy` prints them.
func TestDeniedFixNamesThePolicyOfEveryAction(t *testing.T) {
	read := setup.ActionsFor(setup.ModeRead)
	for _, a := range setup.ActionsFor(setup.ModeProvision) {
		want := "`warden setup policy --for provision`"
		if slices.Contains(read, a) {
			want = "`warden setup policy --for read`"
		}
		if fix := DeniedFix(a, "arn:aws:iam::111122223333:user/x", setup.ModeRead, setup.ModeProvision); !strings.Contains(fix, want) || !strings.Contains(fix, "allows "+a+" ") {
			t.Errorf("%s: fix %q, want it to name %s", a, fix, want)
		}
	}
	if len(read) == 0 {
		t.Fatal("the read policy has no action")
	}
}
