package awsfake

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3GroundTruth reads every account's buckets, policies and Block
// Public Access settings through the SDK, path-style and virtual-hosted,
// and compares them with the estate.
func TestS3GroundTruth(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 2, Buckets: 5})
	ctx := context.Background()
	for _, style := range []string{"path", "virtual"} {
		for _, a := range f.accounts {
			client := func(region string) *s3.Client {
				if style == "path" {
					return s3.NewFromConfig(f.cfg(a.ID, region), func(o *s3.Options) { o.UsePathStyle = true })
				}
				cfg, ep := f.virtualHostConfig(a.ID, region)
				return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &ep })
			}
			var want []string
			byName := map[string]*Bucket{}
			for _, b := range f.truth.Buckets {
				if b.Account == a.ID {
					want = append(want, b.Name)
					byName[b.Name] = b
				}
			}
			var got []string
			p := s3.NewListBucketsPaginator(client("us-east-1"), &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("%s %s: ListBuckets: %v", style, a.ID, err)
				}
				pages++
				for _, b := range page.Buckets {
					got = append(got, aws.ToString(b.Name))
					if w := byName[aws.ToString(b.Name)]; w == nil || aws.ToString(b.BucketRegion) != w.Region || !aws.ToTime(b.CreationDate).Equal(w.CreatedAt) {
						t.Errorf("%s: bucket %s region %s created %v, want %+v", style, aws.ToString(b.Name), aws.ToString(b.BucketRegion), b.CreationDate, w)
					}
				}
			}
			if pages != 3 || slicesDiffer(got, sortedNames(want)) {
				t.Fatalf("%s %s: %d pages of buckets %v, want 3 pages of %v", style, a.ID, pages, got, sortedNames(want))
			}
			for _, name := range want {
				w := byName[name]
				c := client(w.Region)
				pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
				switch {
				case w.Policy == "" && apiCode(err) != "NoSuchBucketPolicy":
					t.Errorf("%s: GetBucketPolicy %s: %v, want NoSuchBucketPolicy", style, name, err)
				case w.Policy != "" && (err != nil || aws.ToString(pol.Policy) != w.Policy):
					t.Errorf("%s: GetBucketPolicy %s: %v %v, want %s", style, name, err, pol, w.Policy)
				}
				pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
				switch {
				case w.PublicAccessBlock == nil && apiCode(err) != "NoSuchPublicAccessBlockConfiguration":
					t.Errorf("%s: GetPublicAccessBlock %s: %v, want NoSuchPublicAccessBlockConfiguration", style, name, err)
				case w.PublicAccessBlock != nil:
					if err != nil {
						t.Fatalf("%s: GetPublicAccessBlock %s: %v", style, name, err)
					}
					c := pab.PublicAccessBlockConfiguration
					got := PublicAccessBlock{aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls), aws.ToBool(c.BlockPublicPolicy), aws.ToBool(c.RestrictPublicBuckets)}
					if got != *w.PublicAccessBlock {
						t.Errorf("%s: %s: public access block %+v, want %+v", style, name, got, *w.PublicAccessBlock)
					}
				}
			}
		}
	}
	virtual := 0
	for _, h := range f.hosts {
		if strings.Contains(h, ".s3.awsfake.test:") {
			virtual++
		} else if !strings.HasPrefix(h, "s3.awsfake.test:") {
			t.Errorf("virtual-hosted client sent %s", h)
		}
	}
	if virtual == 0 {
		t.Errorf("no virtual-hosted request among %v", f.hosts)
	}
	// A call signed for another region than the bucket's is refused with
	// the bucket's region; another account's bucket is AccessDenied; an
	// unknown one NoSuchBucket.
	b := f.truth.Buckets[0]
	other := "eu-west-1"
	if b.Region == other {
		other = "us-east-1"
	}
	c := s3.NewFromConfig(f.cfg(b.Account, other), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.Name)}); apiCode(err) != "AuthorizationHeaderMalformed" {
		t.Errorf("wrong region: %v, want AuthorizationHeaderMalformed", err)
	}
	stranger := f.accounts[1].ID
	if stranger == b.Account {
		stranger = f.accounts[0].ID
	}
	c = s3.NewFromConfig(f.cfg(stranger, b.Region), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.Name)}); apiCode(err) != "AccessDenied" {
		t.Errorf("another account's bucket: %v, want AccessDenied", err)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket-anywhere")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v, want NoSuchBucket", err)
	}
	for _, w := range f.truth.Buckets {
		if w.Account != stranger {
			continue
		}
		loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(w.Name)})
		want := w.Region
		if want == "us-east-1" {
			want = "" // S3 answers an empty LocationConstraint for us-east-1
		}
		if err != nil || string(loc.LocationConstraint) != want {
			t.Errorf("GetBucketLocation %s: %v %v, want %q", w.Name, loc, err, want)
		}
	}
	if n := f.srv.Calls()["s3:ListBuckets"]; n != 18 {
		t.Errorf("s3:ListBuckets counted %d, want 18 (3 pages × 3 accounts × 2 styles)", n)
	}
}

// slicesDiffer reports whether two string slices differ.
func slicesDiffer(a, b []string) bool {
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return false
}
