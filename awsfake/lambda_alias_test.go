package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// aliasEstate is 3 accounts × 8 functions in one region: functions k = 0,
// 4, 8, 12, 16, 20 of AssetTruth.Functions have no policy, so k%3 gives
// none (0, 12), live (4, 16) or live and prod (8, 20).
func aliasEstate(t *testing.T) *assetFixture {
	return newAssetFixture(t, AssetEstate{Seed: 7, Functions: 8, Regions: []string{"us-east-1"}})
}

// functionIndex is i in a generated function's name NAME-handler-i.
func functionIndex(t *testing.T, f *Function) int {
	i, err := strconv.Atoi(f.Name[strings.LastIndexByte(f.Name, '-')+1:])
	if err != nil {
		t.Fatalf("function name %s", f.Name)
	}
	return i
}

// prodFunction is the estate's first function with a prod alias.
func prodFunction(t *testing.T, f *assetFixture) *Function {
	for _, fn := range f.truth.Functions {
		if fn.Alias("prod") != nil {
			return fn
		}
	}
	t.Fatal("no function with a prod alias")
	return nil
}

// TestLambdaAliasEstateTruth checks the estate's alias placement rule, its
// exposures, and that ListAliases and GetPolicy answer them.
func TestLambdaAliasEstateTruth(t *testing.T) {
	f := aliasEstate(t)
	ctx := context.Background()
	others := map[string]string{}
	for ai, a := range f.accounts {
		others[a.ID] = "999988887777"
		if ai%2 == 1 {
			others[a.ID] = f.accounts[(ai+1)%len(f.accounts)].ID
		}
	}
	aliasExposed := map[string][]string{}
	for _, x := range f.truth.Exposures {
		if x.Type == "function" && x.Kind == "cross-account" {
			aliasExposed[x.ARN] = x.Accounts
		}
	}
	var withProd []int
	for k, fn := range f.truth.Functions {
		var want []string
		if functionIndex(t, fn)%4 == 0 {
			want = [][]string{nil, {"live"}, {"live", "prod"}}[k%3]
		}
		var got []string
		for _, a := range fn.Aliases {
			got = append(got, a.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("function %d %s: aliases %v, want %v", k, fn.Name, got, want)
		}
		if live := fn.Alias("live"); live != nil && (live.FunctionVersion != "1" || live.Policy != "") {
			t.Errorf("%s: live alias %+v, want version 1 without a policy", fn.Name, live)
		}
		prod := fn.Alias("prod")
		if prod == nil {
			if fn.Policy == "" && aliasExposed[fn.ARN] != nil {
				t.Errorf("%s: cross-account exposure without a prod alias", fn.Name)
			}
			continue
		}
		withProd = append(withProd, k)
		other := others[fn.Account]
		wantPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"partner-invoke-prod","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other +
			`:root"},"Action":"lambda:InvokeFunction","Resource":"` + fn.ARN + `:prod"}]}`
		if prod.FunctionVersion != "2" || prod.Policy != wantPolicy || fn.AliasARN("prod") != fn.ARN+":prod" {
			t.Errorf("%s: prod alias %+v, want version 2 with %s", fn.Name, prod, wantPolicy)
		}
		if acc := aliasExposed[fn.ARN]; !slices.Equal(acc, []string{other}) {
			t.Errorf("%s: prod alias exposure to %v, want cross-account to %s on the function's ARN", fn.Name, acc, other)
		}
	}
	if !slices.Equal(withProd, []int{8, 20}) {
		t.Errorf("functions with a prod alias: %v, want [8 20]", withProd)
	}
	if !slices.IsSortedFunc(f.truth.Exposures, func(a, b Exposure) int {
		if c := strings.Compare(a.ARN, b.ARN); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	}) {
		t.Error("exposures not sorted by ARN then kind")
	}
	// Through the SDK.
	for _, fn := range f.truth.Functions {
		c := lambda.NewFromConfig(f.cfg(fn.Account, "us-east-1"))
		out, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name)})
		if err != nil {
			t.Fatalf("ListAliases %s: %v", fn.Name, err)
		}
		if len(out.Aliases) != len(fn.Aliases) || out.NextMarker != nil {
			t.Fatalf("ListAliases %s: %d aliases, want %d", fn.Name, len(out.Aliases), len(fn.Aliases))
		}
		for i, a := range out.Aliases {
			w := fn.Aliases[i]
			if aws.ToString(a.Name) != w.Name || aws.ToString(a.AliasArn) != fn.AliasARN(w.Name) || aws.ToString(a.FunctionVersion) != w.FunctionVersion ||
				aws.ToString(a.Description) != w.Description || aws.ToString(a.RevisionId) == "" {
				t.Errorf("ListAliases %s: %+v, want %+v", fn.Name, a, w)
			}
			pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name), Qualifier: aws.String(w.Name)})
			switch {
			case w.Policy == "" && apiCode(err) != "ResourceNotFoundException":
				t.Errorf("GetPolicy %s:%s: %v, want ResourceNotFoundException", fn.Name, w.Name, err)
			case w.Policy != "" && (err != nil || aws.ToString(pol.Policy) != w.Policy || aws.ToString(pol.RevisionId) != aws.ToString(a.RevisionId)):
				t.Errorf("GetPolicy %s:%s: %v %v", fn.Name, w.Name, pol, err)
			}
		}
	}
}

// TestLambdaListAliases pages a function's aliases, made by CreateAlias,
// filters them by version, and checks the errors and the call counters.
func TestLambdaListAliases(t *testing.T) {
	f := aliasEstate(t)
	ctx := context.Background()
	fn := prodFunction(t, f)
	c := lambda.NewFromConfig(f.cfg(fn.Account, "us-east-1"))
	for i := 0; i < 60; i++ {
		v := []string{"1", "2", "$LATEST"}[i%3]
		a, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn.Name), Name: aws.String(fmt.Sprintf("a%02d", i)), FunctionVersion: aws.String(v)})
		if err != nil || aws.ToString(a.AliasArn) != fn.ARN+fmt.Sprintf(":a%02d", i) || aws.ToString(a.FunctionVersion) != v {
			t.Fatalf("CreateAlias: %v %v", a, err)
		}
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn.Name), Name: aws.String("a00"), FunctionVersion: aws.String("1")}); apiCode(err) != "ResourceConflictException" {
		t.Errorf("CreateAlias of a name taken: %v, want ResourceConflictException", err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn.Name), Name: aws.String("123"), FunctionVersion: aws.String("1")}); apiCode(err) != "ValidationException" {
		t.Errorf("CreateAlias named like a version: %v, want ValidationException", err)
	}
	f.srv.ResetCalls()
	// 62 aliases: a00…a59, live and prod, in name order, at most 50 a
	// page whatever MaxItems asks.
	var names []string
	pages := 0
	p := lambda.NewListAliasesPaginator(c, &lambda.ListAliasesInput{FunctionName: aws.String(fn.ARN), MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAliases: %v", err)
		}
		pages++
		if len(page.Aliases) > 50 {
			t.Fatalf("page of %d aliases, want at most 50", len(page.Aliases))
		}
		for _, a := range page.Aliases {
			names = append(names, aws.ToString(a.Name))
		}
	}
	if len(names) != 62 || pages != 2 || !slices.IsSorted(names) || names[60] != "live" || names[61] != "prod" {
		t.Fatalf("ListAliases: %d aliases in %d pages (%v), want 62 in 2, in name order", len(names), pages, names)
	}
	if n := f.srv.CallsFor(fn.Account)["lambda:ListAliases"]; n != 2 {
		t.Errorf("lambda:ListAliases counted %d, want 2", n)
	}
	page, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name), MaxItems: aws.Int32(7)})
	if err != nil || len(page.Aliases) != 7 || page.NextMarker == nil {
		t.Fatalf("ListAliases MaxItems 7: %v %v", page, err)
	}
	next, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name), MaxItems: aws.Int32(7), Marker: page.NextMarker})
	if err != nil || len(next.Aliases) != 7 || aws.ToString(next.Aliases[0].Name) != "a07" {
		t.Fatalf("ListAliases second page: %v %v", next, err)
	}
	for _, bad := range []int32{0, 10001} {
		if _, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name), MaxItems: aws.Int32(bad)}); apiCode(err) != "InvalidParameterValueException" {
			t.Errorf("ListAliases MaxItems %d: %v, want InvalidParameterValueException", bad, err)
		}
	}
	// FunctionVersion filters.
	for v, want := range map[string]int{"1": 21, "2": 21, "$LATEST": 20, "3": 0} {
		out, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name), FunctionVersion: aws.String(v)})
		if err != nil || len(out.Aliases) != want {
			t.Errorf("ListAliases FunctionVersion %s: %v %v, want %d aliases", v, out, err, want)
			continue
		}
		for _, a := range out.Aliases {
			if aws.ToString(a.FunctionVersion) != v {
				t.Errorf("ListAliases FunctionVersion %s: alias %s of version %s", v, aws.ToString(a.Name), aws.ToString(a.FunctionVersion))
			}
		}
	}
	if _, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("no-such-function")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("ListAliases of an unknown function: %v, want ResourceNotFoundException", err)
	}
	// DeleteAlias: the alias and its policy go; a second delete is no error.
	for i := 0; i < 2; i++ {
		if _, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn.Name), Name: aws.String("prod")}); err != nil {
			t.Fatalf("DeleteAlias prod (%d): %v", i, err)
		}
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name), Qualifier: aws.String("prod")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetPolicy of a deleted alias: %v, want ResourceNotFoundException", err)
	}
	if out, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String(fn.Name), FunctionVersion: aws.String("2")}); err != nil || len(out.Aliases) != 20 {
		t.Errorf("ListAliases after DeleteAlias: %v %v, want 20 of version 2", out, err)
	}
	var events []string
	for _, e := range f.srv.Events(fn.Account, "us-east-1") {
		if strings.Contains(e.Name, "Alias") && len(e.Resources) == 1 && e.Resources[0].Name == fn.ARN {
			events = append(events, e.Name)
		}
	}
	if len(events) != 61 || events[0] != "CreateAlias20150331" || events[60] != "DeleteAlias20150331" {
		t.Errorf("alias events: %d, first %v, want 60 CreateAlias20150331 then one DeleteAlias20150331", len(events), events[:min(1, len(events))])
	}
}

// TestLambdaGetPolicyQualifier reads policies by Qualifier and by a
// qualified name.
func TestLambdaGetPolicyQualifier(t *testing.T) {
	f := aliasEstate(t)
	ctx := context.Background()
	fn := prodFunction(t, f)
	var own *Function // a function of the same account with a policy of its own
	for _, x := range f.truth.Functions {
		if x.Account == fn.Account && x.Policy != "" {
			own = x
			break
		}
	}
	c := lambda.NewFromConfig(f.cfg(fn.Account, "us-east-1"))
	prod := fn.Alias("prod").Policy
	f.srv.ResetCalls()
	for _, in := range []*lambda.GetPolicyInput{
		{FunctionName: aws.String(fn.Name), Qualifier: aws.String("prod")},
		{FunctionName: aws.String(fn.Name + ":prod")},
		{FunctionName: aws.String(fn.ARN + ":prod")},
		{FunctionName: aws.String(fn.Account + ":function:" + fn.Name + ":prod")},
		{FunctionName: aws.String(fn.ARN + ":prod"), Qualifier: aws.String("prod")},
	} {
		out, err := c.GetPolicy(ctx, in)
		if err != nil || aws.ToString(out.Policy) != prod || aws.ToString(out.RevisionId) == "" {
			t.Errorf("GetPolicy %s ?Qualifier=%s: %v %v, want the prod alias's policy", aws.ToString(in.FunctionName), aws.ToString(in.Qualifier), out, err)
		}
	}
	if out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(own.Name), Qualifier: aws.String("$LATEST")}); err != nil || aws.ToString(out.Policy) != own.Policy {
		t.Errorf("GetPolicy %s $LATEST: %v %v, want the function's policy", own.Name, out, err)
	}
	if out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(own.ARN + ":$LATEST")}); err != nil || aws.ToString(out.Policy) != own.Policy {
		t.Errorf("GetPolicy %s:$LATEST: %v %v, want the function's policy", own.ARN, out, err)
	}
	for _, in := range []*lambda.GetPolicyInput{
		{FunctionName: aws.String(fn.Name), Qualifier: aws.String("$LATEST")}, // the function itself has none
		{FunctionName: aws.String(fn.Name)},
		{FunctionName: aws.String(fn.Name), Qualifier: aws.String("live")}, // an alias without a policy
		{FunctionName: aws.String(fn.Name), Qualifier: aws.String("1")},    // versions are not emulated
		{FunctionName: aws.String(fn.Name + ":2")},
		{FunctionName: aws.String(fn.Name), Qualifier: aws.String("nope")},
		{FunctionName: aws.String("no-such-function"), Qualifier: aws.String("prod")},
	} {
		if _, err := c.GetPolicy(ctx, in); apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("GetPolicy %s ?Qualifier=%s: %v, want ResourceNotFoundException", aws.ToString(in.FunctionName), aws.ToString(in.Qualifier), err)
		}
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name + ":prod"), Qualifier: aws.String("live")}); apiCode(err) != "InvalidParameterValueException" {
		t.Errorf("GetPolicy with a qualifier other than the name's: %v, want InvalidParameterValueException", err)
	}
	if n := f.srv.CallsFor(fn.Account)["lambda:GetPolicy"]; n != 15 {
		t.Errorf("lambda:GetPolicy counted %d, want 15", n)
	}
}

// TestLambdaAliasPermissions writes an alias's policy with AddPermission
// and RemovePermission.
func TestLambdaAliasPermissions(t *testing.T) {
	f := aliasEstate(t)
	ctx := context.Background()
	fn := prodFunction(t, f)
	c := lambda.NewFromConfig(f.cfg(fn.Account, "us-east-1"))
	perm := func(name, qualifier string) *lambda.AddPermissionInput {
		in := &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("auditor"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("111122223333")}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		return in
	}
	out, err := c.AddPermission(ctx, perm(fn.Name, "live"))
	if err != nil || !strings.Contains(aws.ToString(out.Statement), `"Resource":"`+fn.ARN+`:live"`) {
		t.Fatalf("AddPermission on live: %v %v", out, err)
	}
	if _, err := c.AddPermission(ctx, perm(fn.Name+":live", "")); apiCode(err) != "ResourceConflictException" {
		t.Errorf("AddPermission twice on live: %v, want ResourceConflictException", err)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name), Qualifier: aws.String("live")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"Sid":"auditor"`) || !strings.Contains(aws.ToString(pol.Policy), `{"AWS":"arn:aws:iam::111122223333:root"}`) {
		t.Errorf("GetPolicy live after AddPermission: %v %v", pol, err)
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("the function's own policy after AddPermission on an alias: %v, want still none", err)
	}
	if _, err := c.AddPermission(ctx, perm(fn.Name, "nope")); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("AddPermission on an unknown alias: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.AddPermission(ctx, perm(fn.Name, "3")); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("AddPermission on a version: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String("auditor"), Qualifier: aws.String("live")}); err != nil {
		t.Fatalf("RemovePermission on live: %v", err)
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name), Qualifier: aws.String("live")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetPolicy live after its last statement went: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn.ARN + ":prod"), StatementId: aws.String("partner-invoke-prod")}); err != nil {
		t.Fatalf("RemovePermission on %s:prod: %v", fn.ARN, err)
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name + ":prod")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetPolicy prod after RemovePermission: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String("auditor"), Qualifier: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("RemovePermission on an unknown alias: %v, want ResourceNotFoundException", err)
	}
	// The server's copy changed, not the truth it was given.
	if fn.Alias("prod").Policy == "" {
		t.Error("RemovePermission changed the AssetTruth")
	}
	type ev struct{ name, qualifier, resource string }
	var got []ev
	for _, e := range f.srv.Events(fn.Account, "us-east-1") {
		if strings.Contains(e.Name, "Permission") && len(e.Resources) == 1 {
			got = append(got, ev{e.Name, e.Request["qualifier"], e.Resources[0].Name})
		}
	}
	want := []ev{{"AddPermission20150331v2", "live", fn.ARN}, {"RemovePermission20150331v2", "live", fn.ARN}, {"RemovePermission20150331v2", "", fn.ARN}}
	if !slices.Equal(got, want) {
		t.Errorf("permission events %v, want %v", got, want)
	}
}
