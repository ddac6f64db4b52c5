package awsfake

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestKMSGroundTruth lists every account's keys in each region through the
// SDK in pages of 2, and reads each key's metadata, policy and grants.
func TestKMSGroundTruth(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 3})
	ctx := context.Background()
	var withEquals, withSubset int // the estate's grants with each constraint
	for _, a := range f.accounts {
		for _, region := range []string{"us-east-1", "eu-west-1", "us-west-2"} {
			c := kms.NewFromConfig(f.cfg(a.ID, region))
			want := map[string]*KMSKey{}
			for _, k := range f.truth.Keys {
				if k.Account == a.ID && k.Region == region {
					want[k.ID] = k
				}
			}
			var got []string
			p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: aws.Int32(2)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("%s %s: ListKeys: %v", a.ID, region, err)
				}
				if len(page.Keys) > 2 {
					t.Fatalf("page of %d keys, Limit 2", len(page.Keys))
				}
				for _, k := range page.Keys {
					got = append(got, aws.ToString(k.KeyId))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d keys, want %d", a.ID, region, len(got), len(want))
			}
			for _, id := range got {
				w := want[id]
				if w == nil {
					t.Fatalf("%s %s: key %s not in the estate", a.ID, region, id)
				}
				d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(w.ARN)})
				if err != nil || string(d.KeyMetadata.KeyManager) != w.Manager || string(d.KeyMetadata.KeyState) != w.State ||
					aws.ToString(d.KeyMetadata.Arn) != w.ARN || !aws.ToTime(d.KeyMetadata.CreationDate).Equal(w.CreatedAt) {
					t.Errorf("DescribeKey %s: %v %+v, want %+v", id, err, d, w)
				}
				pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id)})
				if err != nil || aws.ToString(pol.Policy) != w.Policy {
					t.Errorf("GetKeyPolicy %s: %v", id, err)
				}
				var grants []string
				gp := kms.NewListGrantsPaginator(c, &kms.ListGrantsInput{KeyId: aws.String(id), Limit: aws.Int32(1)})
				for gp.HasMorePages() {
					page, err := gp.NextPage(ctx)
					if err != nil {
						t.Fatalf("ListGrants %s: %v", id, err)
					}
					for _, g := range page.Grants {
						var eq, sub map[string]string
						if c := g.Constraints; c != nil {
							eq, sub = c.EncryptionContextEquals, c.EncryptionContextSubset
						}
						grants = append(grants, aws.ToString(g.GrantId)+" "+aws.ToString(g.GranteePrincipal)+constraintsText(eq, sub))
					}
				}
				var wantGrants []string
				for _, g := range w.Grants {
					var eq, sub map[string]string
					if c := g.Constraints; c != nil {
						eq, sub = c.EncryptionContextEquals, c.EncryptionContextSubset
						if len(eq) > 0 {
							withEquals++
						}
						if len(sub) > 0 {
							withSubset++
						}
					}
					wantGrants = append(wantGrants, g.ID+" "+g.GranteePrincipal+constraintsText(eq, sub))
				}
				if slicesDiffer(grants, wantGrants) {
					t.Errorf("grants of %s = %v, want %v", id, grants, wantGrants)
				}
			}
		}
	}
	if withEquals == 0 || withSubset == 0 {
		t.Errorf("grants with EncryptionContextEquals %d, with EncryptionContextSubset %d; want some of each", withEquals, withSubset)
	}
	c := kms.NewFromConfig(f.cfg(f.accounts[0].ID, "us-east-1"))
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")}); apiCode(err) != "NotFoundException" {
		t.Errorf("unknown key: %v, want NotFoundException", err)
	}
	if _, err := c.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("bogus")}); apiCode(err) != "InvalidMarkerException" {
		t.Errorf("bad marker: %v, want InvalidMarkerException", err)
	}
}

// constraintsText renders a grant's constraints for a comparison, ""
// for none; fmt sorts the maps' keys.
func constraintsText(equals, subset map[string]string) string {
	out := ""
	if len(equals) > 0 {
		out += fmt.Sprint(" equals=", equals)
	}
	if len(subset) > 0 {
		out += fmt.Sprint(" subset=", subset)
	}
	return out
}

// TestSecretsManagerGroundTruth lists every account's secrets through the
// SDK and reads their resource policies; no answer holds a value.
func TestSecretsManagerGroundTruth(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 4, Secrets: 5})
	ctx := context.Background()
	for _, a := range f.accounts {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			c := secretsmanager.NewFromConfig(f.cfg(a.ID, region))
			var want []*Secret
			for _, x := range f.truth.Secrets {
				if x.Account == a.ID && x.Region == region {
					want = append(want, x)
				}
			}
			// ListSecrets answers by name.
			sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
			var got []string
			p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(2)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListSecrets: %v", err)
				}
				for _, x := range page.SecretList {
					got = append(got, aws.ToString(x.ARN))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d secrets, want %d", a.ID, region, len(got), len(want))
			}
			for i, w := range want {
				if got[i] != w.ARN {
					t.Errorf("secret %d = %s, want %s", i, got[i], w.ARN)
				}
				rp, err := c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(w.Name)})
				if err != nil || aws.ToString(rp.ResourcePolicy) != w.Policy || aws.ToString(rp.ARN) != w.ARN {
					t.Errorf("GetResourcePolicy %s: %v", w.Name, err)
				}
			}
		}
	}
	c := secretsmanager.NewFromConfig(f.cfg(f.accounts[0].ID, "us-east-1"))
	if _, err := c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("no/such/secret")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown secret: %v, want ResourceNotFoundException", err)
	}
}
