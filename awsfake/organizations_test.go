package awsfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// collectPages runs a paginated Organizations call to its end and returns
// every item and the number of pages it took.
func collectPages[T any](t *testing.T, more func() bool, next func() ([]T, error)) ([]T, int) {
	t.Helper()
	var all []T
	pages := 0
	for more() {
		items, err := next()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		pages++
	}
	return all, pages
}

// TestOrganizationsTreeActions checks ListChildren, ListParents,
// DescribeAccount, ListPoliciesForTarget and policy tags against the
// ground truth, with every first page empty.
func TestOrganizationsTreeActions(t *testing.T) {
	srv := NewServer(Options{OrgEmptyPages: true})
	defer srv.Close()
	truth := smallOrg().Build()
	o := truth.Organization
	client := orgClient(srv, truth.Install(srv))
	ctx := context.Background()

	parents := append([]string{o.Root.ID}, sortedKeys(o.OUs)...)
	for _, parent := range parents {
		for _, ct := range []orgtypes.ChildType{orgtypes.ChildTypeAccount, orgtypes.ChildTypeOrganizationalUnit} {
			p := organizations.NewListChildrenPaginator(client, &organizations.ListChildrenInput{ParentId: aws.String(parent), ChildType: ct})
			children, pages := collectPages(t, p.HasMorePages, func() ([]orgtypes.Child, error) {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				return out.Children, nil
			})
			if pages < 2 {
				t.Errorf("ListChildren %s %s took %d pages; the first must come back empty", parent, ct, pages)
			}
			var got, want []string
			for _, c := range children {
				if c.Type != ct {
					t.Errorf("child %s of %s has type %s, want %s", aws.ToString(c.Id), parent, c.Type, ct)
				}
				got = append(got, aws.ToString(c.Id))
			}
			if ct == orgtypes.ChildTypeAccount {
				for _, a := range o.sortedAccounts() {
					if a.ParentID == parent {
						want = append(want, a.ID)
					}
				}
			} else {
				for _, u := range o.sortedOUs() {
					if u.ParentID == parent {
						want = append(want, u.ID)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("ListChildren %s %s = %v, want %v", parent, ct, got, want)
			}
		}
	}

	// ListParents: every OU and account names its parent and its type.
	children := append(sortedKeys(o.OUs), sortedKeys(o.Accounts)...)
	for _, child := range children {
		out, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := o.parentOf(child)
		wantType := orgtypes.ParentTypeOrganizationalUnit
		if want == o.Root.ID {
			wantType = orgtypes.ParentTypeRoot
		}
		if len(out.Parents) != 1 || aws.ToString(out.Parents[0].Id) != want || out.Parents[0].Type != wantType {
			t.Errorf("ListParents %s = %+v, want %s (%s)", child, out.Parents, want, wantType)
		}
	}

	// DescribeAccount: the whole Account shape.
	for _, id := range []string{truth.Management.ID, truth.Members[0].ID, truth.Members[3].ID} {
		out, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		a, want := out.Account, o.Accounts[id]
		if aws.ToString(a.Id) != want.ID || aws.ToString(a.Arn) != want.ARN || aws.ToString(a.Name) != want.Name ||
			aws.ToString(a.Email) != want.Email || string(a.Status) != want.Status || string(a.State) != want.Status ||
			string(a.JoinedMethod) != want.JoinedMethod || !a.JoinedTimestamp.Equal(want.JoinedAt) {
			t.Errorf("DescribeAccount %s = %+v, want %+v", id, a, want)
		}
	}

	// ListPoliciesForTarget: for the root, each OU and each account, the
	// SCPs whose targets name it, FullAWSAccess always among them.
	for _, target := range append(parents, sortedKeys(o.Accounts)...) {
		p := organizations.NewListPoliciesForTargetPaginator(client, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(target), Filter: orgtypes.PolicyTypeServiceControlPolicy, MaxResults: aws.Int32(1)})
		policies, _ := collectPages(t, p.HasMorePages, func() ([]orgtypes.PolicySummary, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			return out.Policies, nil
		})
		var got, want []string
		for _, ps := range policies {
			got = append(got, aws.ToString(ps.Id))
		}
		for _, ps := range o.sortedPolicies() {
			if slices.Contains(ps.Targets, target) {
				want = append(want, ps.ID)
			}
		}
		if !slices.Equal(got, want) || !slices.Contains(got, FullAWSAccessID) {
			t.Errorf("ListPoliciesForTarget %s = %v, want %v (FullAWSAccess included)", target, got, want)
		}
	}

	// Tags of a customer SCP, and none on the AWS managed one.
	for _, ps := range o.sortedPolicies() {
		out, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(ps.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) != len(ps.Tags) {
			t.Errorf("tags of %s = %+v, want %+v", ps.ID, out.Tags, ps.Tags)
		}
	}
}

// TestOrganizationsPagesHoldAtMost20 checks the default page size and that
// every listing reaches the same items with and without empty pages.
func TestOrganizationsPagesHoldAtMost20(t *testing.T) {
	truth := smallOrg().Build() // 46 accounts: three pages of 20
	for _, empty := range []bool{false, true} {
		srv := NewServer(Options{OrgEmptyPages: empty})
		client := orgClient(srv, truth.Install(srv))
		p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
		var sizes []int
		accounts, pages := collectPages(t, p.HasMorePages, func() ([]orgtypes.Account, error) {
			out, err := p.NextPage(context.Background())
			if err != nil {
				return nil, err
			}
			sizes = append(sizes, len(out.Accounts))
			return out.Accounts, nil
		})
		want := []int{20, 20, 6}
		if empty {
			want = append([]int{0}, want...)
		}
		if !slices.Equal(sizes, want) || len(accounts) != 46 {
			t.Errorf("empty pages %v: page sizes %v (%d accounts), want %v", empty, sizes, len(accounts), want)
		}
		if n := srv.CallsFor(truth.Management.ID)["organizations:ListAccounts"]; n != int64(pages) {
			t.Errorf("empty pages %v: counted %d ListAccounts calls for %d pages", empty, n, pages)
		}
		srv.Close()
	}
}

// TestOrganizationsInputErrors checks the errors AWS answers for malformed
// and unknown input: InvalidInputException with the model's Reason, and
// each action's not-found error.
func TestOrganizationsInputErrors(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := smallOrg().Build()
	client := orgClient(srv, truth.Install(srv))
	ctx := context.Background()
	root := truth.Organization.Root.ID

	cases := []struct {
		name   string
		call   func() error
		code   string
		reason orgtypes.InvalidInputExceptionReason
	}{
		{"MaxResults 0", func() error {
			_, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(0)})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonMinValueExceeded},
		{"MaxResults 21", func() error {
			_, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(root), MaxResults: aws.Int32(21)})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonMaxValueExceeded},
		{"foreign NextToken", func() error {
			_, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("AAE3ZWxzZXdoZXJl")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidPaginationToken},
		{"malformed ParentId", func() error {
			_, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("Prod")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidPattern},
		{"empty ParentId", func() error {
			_, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInputRequired},
		{"malformed TargetId", func() error {
			_, err := client.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(FullAWSAccessID), Filter: orgtypes.PolicyTypeServiceControlPolicy})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidPatternTargetId},
		{"malformed PolicyId", func() error {
			_, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("FullAWSAccess")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidSyntaxPolicy},
		{"unknown ChildType", func() error {
			_, err := client.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: "POLICY"})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidEnum},
		{"unknown policy type", func() error {
			_, err := client.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: "GUARDRAIL_POLICY"})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidEnumPolicyType},
		{"unknown account", func() error {
			_, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException", ""},
		{"unknown child", func() error {
			_, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
			return err
		}, "ChildNotFoundException", ""},
		{"unknown parent", func() error {
			_, err := client.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), ChildType: orgtypes.ChildTypeAccount})
			return err
		}, "ParentNotFoundException", ""},
		{"unknown target", func() error {
			_, err := client.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("ou-zzzz-zzzzzzzz"), Filter: orgtypes.PolicyTypeServiceControlPolicy})
			return err
		}, "TargetNotFoundException", ""},
		{"unknown policy's targets", func() error {
			_, err := client.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-zzzzzzzz")})
			return err
		}, "PolicyNotFoundException", ""},
		{"unknown tagged resource", func() error {
			_, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("999999999999")})
			return err
		}, "TargetNotFoundException", ""},
	}
	for _, c := range cases {
		err := c.call()
		if got := apiCode(err); got != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
			continue
		}
		if c.reason != "" {
			var invalid *orgtypes.InvalidInputException
			if !errors.As(err, &invalid) || invalid.Reason != c.reason || invalid.ErrorMessage() == "" {
				t.Errorf("%s: %v, want Reason %s and a message", c.name, err, c.reason)
			}
		}
	}
}

// TestOrganizationsFaults checks injected 500s and per-account throttling
// on Organizations calls.
func TestOrganizationsFaults(t *testing.T) {
	srv := NewServer(Options{ErrorRate: 1})
	defer srv.Close()
	truth := smallOrg().Build()
	mgmt := truth.Install(srv)
	member := srv.AddAccount(truth.Members[0])
	ctx := context.Background()

	_, err := orgClient(srv, mgmt).ListRoots(ctx, &organizations.ListRootsInput{})
	var svcErr *orgtypes.ServiceException
	var re *smithyhttp.ResponseError
	if !errors.As(err, &svcErr) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Errorf("ErrorRate 1: %v, want a 500 ServiceException", err)
	}
	if n := srv.CallsFor(truth.Management.ID)["organizations:ListRoots"]; n != 3 {
		t.Errorf("ListRoots attempts = %d, want the SDK's 3 (a 500 is retried)", n)
	}

	// One account throttles on every call, the other not at all.
	srv.SetOptions(Options{AccountFaults: map[string]Faults{truth.Management.ID: {ThrottleFraction: 1}}})
	srv.ResetCalls()
	if _, err := iamClient(srv, member).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("the member, without faults: %v", err)
	}
	_, err = iamClient(srv, mgmt).ListUsers(ctx, &iam.ListUsersInput{})
	if apiCode(err) != "Throttling" {
		t.Errorf("the throttled account's IAM call: %v, want Throttling", err)
	}
	if got := srv.FaultsFor(truth.Members[0].ID); got != 0 {
		t.Errorf("faults injected for the member = %d, want 0", got)
	}
	if got := srv.FaultsFor(truth.Management.ID); got != 3 {
		t.Errorf("faults injected for the management account = %d, want 3", got)
	}
}

// serveRaw sends one JSON 1.1 request straight to the handler, signed in
// form only (the emulator reads the credential scope, not the signature).
func serveRaw(srv *Server, keyID, service, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	signTestRequest(srv, req, keyID, service, []byte(body))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

// TestJSONProtocolErrors checks the wire form of JSON 1.1 errors: status,
// x-amzn-ErrorType, and a body with __type, message and the error's own
// fields.
func TestJSONProtocolErrors(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	srv := NewHandler(Options{Now: func() time.Time { return clock }})
	truth := smallOrg().Build()
	mgmt := truth.Install(srv)
	const prefix = "AWSOrganizationsV20161128."

	// Temporary credentials of the management account, for the expiry case.
	srv.mu.Lock()
	srv.keys["ASIAFAKEEXPIRING0001"] = caller{account: truth.Management.ID, arn: "arn:aws:sts::" + truth.Management.ID + ":assumed-role/r/s",
		roleARN: "arn:aws:iam::" + truth.Management.ID + ":role/r", expires: now.Add(time.Minute)}
	srv.mu.Unlock()

	cases := []struct {
		name          string
		key, service  string
		target, body  string
		advance       time.Duration
		status        int
		code          string
		wantInMessage string
		fields        map[string]string
	}{
		{"invalid input carries Reason", mgmt.AccessKeyID, "organizations", prefix + "ListAccounts", `{"MaxResults":50}`, 0,
			400, "InvalidInputException", "MaxResults 50", map[string]string{"Reason": "MAX_VALUE_EXCEEDED"}},
		{"body that is not JSON", mgmt.AccessKeyID, "organizations", prefix + "ListAccounts", `{"MaxResults":`, 0,
			400, "SerializationException", "", nil},
		{"unknown action", mgmt.AccessKeyID, "organizations", prefix + "InviteAccountToOrganization", `{}`, 0,
			400, "UnknownOperationException", "InviteAccountToOrganization", nil},
		{"unknown service", mgmt.AccessKeyID, "cloudsearch", "CloudSearch.DescribeDomains", `{}`, 0,
			400, "UnknownOperationException", "cloudsearch", nil},
		{"unknown access key", "AKIAFAKEUNKNOWN00000", "organizations", prefix + "ListRoots", `{}`, 0,
			403, "UnrecognizedClientException", "security token included in the request is invalid", nil},
		{"valid temporary credentials", "ASIAFAKEEXPIRING0001", "organizations", prefix + "ListRoots", `{}`, 0,
			200, "", "", nil},
		{"expired temporary credentials", "ASIAFAKEEXPIRING0001", "organizations", prefix + "ListRoots", `{}`, 2 * time.Minute,
			403, "ExpiredTokenException", "security token included in the request is expired", nil},
		{"SSO Admin without InstanceArn", mgmt.AccessKeyID, "sso", "SWBExternalService.ListPermissionSets", `{}`, 0,
			400, "ValidationException", "InstanceArn", nil},
		{"Identity Store without IdentityStoreId", mgmt.AccessKeyID, "identitystore", "AWSIdentityStore.ListUsers", `{}`, 0,
			400, "ValidationException", "IdentityStoreId", nil},
	}
	for _, c := range cases {
		clock = now.Add(c.advance)
		w := serveRaw(srv, c.key, c.service, c.target, c.body)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, w.Code, c.status, w.Body)
			continue
		}
		if c.code == "" {
			continue
		}
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Errorf("%s: body %q is not a JSON object of strings: %v", c.name, w.Body, err)
			continue
		}
		if body["__type"] != c.code || w.Header().Get("X-Amzn-Errortype") != c.code {
			t.Errorf("%s: __type %q, x-amzn-ErrorType %q, want %s", c.name, body["__type"], w.Header().Get("X-Amzn-Errortype"), c.code)
		}
		if !strings.Contains(body["message"], c.wantInMessage) {
			t.Errorf("%s: message %q, want it to mention %q", c.name, body["message"], c.wantInMessage)
		}
		for k, v := range c.fields {
			if body[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, body[k], v)
			}
		}
		if w.Header().Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s: no x-amzn-RequestId", c.name)
		}
	}
}

// TestOrganizationCopies checks that SetOrganization and Organization copy,
// so neither the caller nor a test can change the emulator's state behind
// its lock.
func TestOrganizationCopies(t *testing.T) {
	srv := NewHandler(Options{})
	truth := smallOrg().Build()
	srv.SetOrganization(truth.Organization)
	ou := sortedKeys(truth.Organization.OUs)[0]
	truth.Organization.OUs[ou].Name = "changed"
	truth.Organization.Policies[FullAWSAccessID].Targets[0] = "changed"
	got := srv.Organization()
	if got.OUs[ou].Name == "changed" || got.Policies[FullAWSAccessID].Targets[0] == "changed" {
		t.Fatal("SetOrganization kept the caller's maps")
	}
	got.Accounts[truth.Members[0].ID].Tags[0].Value = "changed"
	if srv.Organization().Accounts[truth.Members[0].ID].Tags[0].Value == "changed" {
		t.Fatal("Organization returned the emulator's own state")
	}
	if srv2 := NewHandler(Options{}); srv2.Organization() != nil {
		t.Fatal("a new emulator has an organization")
	}
	if len(got.Accounts) != len(truth.Organization.Accounts) || len(got.OUs) != len(truth.Organization.OUs) {
		t.Fatalf("copy has %d accounts and %d OUs, want %d and %d", len(got.Accounts), len(got.OUs), len(truth.Organization.Accounts), len(truth.Organization.OUs))
	}
}
