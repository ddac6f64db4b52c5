package awsfake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestLambdaGroundTruth lists every account's functions through the SDK,
// at most 50 a page, and reads their resource-based policies.
func TestLambdaGroundTruth(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 5, Functions: 55, Regions: []string{"us-east-1"}})
	ctx := context.Background()
	for _, a := range f.accounts {
		c := lambda.NewFromConfig(f.cfg(a.ID, "us-east-1"))
		want := map[string]*Function{}
		for _, fn := range f.truth.Functions {
			if fn.Account == a.ID {
				want[fn.Name] = fn
			}
		}
		var got []string
		pages := 0
		p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListFunctions: %v", err)
			}
			pages++
			if len(page.Functions) > 50 {
				t.Fatalf("page of %d functions, Lambda answers at most 50", len(page.Functions))
			}
			for _, fn := range page.Functions {
				w := want[aws.ToString(fn.FunctionName)]
				if w == nil || aws.ToString(fn.Role) != w.Role || aws.ToString(fn.FunctionArn) != w.ARN || string(fn.Runtime) != w.Runtime {
					t.Errorf("function %+v, want %+v", fn, w)
				}
				got = append(got, aws.ToString(fn.FunctionName))
			}
		}
		if len(got) != len(want) || pages != 2 {
			t.Fatalf("%s: %d functions in %d pages, want %d in 2", a.ID, len(got), pages, len(want))
		}
		for name, w := range want {
			pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
			switch {
			case w.Policy == "" && apiCode(err) != "ResourceNotFoundException":
				t.Errorf("GetPolicy %s: %v, want ResourceNotFoundException", name, err)
			case w.Policy != "" && (err != nil || aws.ToString(pol.Policy) != w.Policy):
				t.Errorf("GetPolicy %s: %v", name, err)
			}
		}
	}
}
