package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketACLEstateUnchanged pins a digest of fixed-seed estates as
// they were before buckets had ACLs: placing the ACLs draws nothing from
// the generator, so every name, policy, asset and earlier exposure is
// unchanged.
func TestBucketACLEstateUnchanged(t *testing.T) {
	want := []string{
		"c7bd614a2f7557157b3d2e32eb40f85cb1993daeff13e9ff05a0baf6d4de6e5b",
		"e6d2c15dc8e782e6cfb7d4e140685753c11ac365892541af37f863e09c29a8d4",
	}
	for i, e := range aclDigestEstates() {
		if got := estateDigest(e); got != want[i] {
			t.Errorf("estate %d (%+v): digest %s, want %s: the ACLs changed the rest of the estate", i, e, got, want[i])
		}
	}
}

// wantBucketACL is the ACL and Object Ownership the estate's placement
// rule gives the bucket of index k in AssetTruth.Buckets, whose index in
// its account is i, other the account its cross-account grants name.
func wantBucketACL(b *Bucket, i, k int, other string) ([]BucketGrant, string) {
	if i%5 != 0 || k%3 == 0 {
		return nil, "BucketOwnerEnforced"
	}
	owner := BucketGrant{Type: "CanonicalUser", ID: CanonicalUserID(b.Account), Permission: "FULL_CONTROL"}
	if k%3 == 1 {
		return []BucketGrant{owner, {Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"}}, "BucketOwnerPreferred"
	}
	return []BucketGrant{owner, {Type: "CanonicalUser", ID: CanonicalUserID(other), Permission: "READ"}, {Type: "CanonicalUser", ID: CanonicalUserID(other), Permission: "READ_ACP"},
		{Type: "Group", URI: "http://acs.amazonaws.com/groups/s3/LogDelivery", Permission: "WRITE"}}, "ObjectWriter"
}

// TestBucketACLEstate checks the ACLs the estate places and the exposures
// it plants for them: a public-read bucket is public-acl unless
// IgnorePublicAcls is on for it or its account, a bucket granting another
// account's canonical user is cross-account-acl for that account, a log
// delivery grant is nothing.
func TestBucketACLEstate(t *testing.T) {
	var accounts []*Account
	for i := 0; i < 3; i++ {
		accounts = append(accounts, Estate{AccountID: fmt.Sprintf("%012d", 300000000000+i), Roles: 4, Users: 1, Seed: int64(i + 1)}.Build())
	}
	// The outside account for accounts 0 and 2, account 2 for account 1.
	others := map[string]string{"300000000000": "999988887777", "300000000001": "300000000002", "300000000002": "999988887777"}
	e := AssetEstate{Seed: 3, Buckets: 10, AccountBlockPublicAccess: map[string]*PublicAccessBlock{"300000000002": {IgnorePublicAcls: true}}}
	truth := e.Build(accounts)
	perAccount := map[string]int{}
	want := map[string]bool{}
	var ignored, publicRead, crossAccount int
	for k, b := range truth.Buckets {
		i := perAccount[b.Account]
		perAccount[b.Account]++
		if !strings.HasSuffix(b.Name, "-"+strconv.Itoa(i)) {
			t.Fatalf("bucket %d is %s, want index %d in its account", k, b.Name, i)
		}
		acl, own := wantBucketACL(b, i, k, others[b.Account])
		if !reflect.DeepEqual(b.ACL, acl) || b.ObjectOwnership != own {
			t.Errorf("bucket %d %s: ACL %+v ownership %s, want %+v %s", k, b.Name, b.ACL, b.ObjectOwnership, acl, own)
		}
		if i%5 == 0 && b.Policy != "" {
			t.Errorf("bucket %s with an ACL has a policy", b.Name)
		}
		arn := "arn:aws:s3:::" + b.Name
		switch {
		case own == "BucketOwnerPreferred":
			publicRead++
			if (b.PublicAccessBlock != nil && b.PublicAccessBlock.IgnorePublicAcls) || b.Account == "300000000002" {
				ignored++
			} else {
				want[arn+" public-acl []"] = true
			}
		case own == "ObjectWriter":
			crossAccount++
			want[arn+" cross-account-acl ["+others[b.Account]+"]"] = true
		}
	}
	got := map[string]bool{}
	for _, x := range truth.Exposures {
		if strings.HasSuffix(x.Kind, "-acl") {
			if x.Type != "bucket" || x.Region != "us-east-1" {
				t.Errorf("exposure %+v", x)
			}
			got[fmt.Sprintf("%s %s %v", x.ARN, x.Kind, x.Accounts)] = true
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ACL exposures\n got %v\nwant %v", got, want)
	}
	if publicRead == 0 || crossAccount == 0 || ignored == 0 || publicRead == ignored {
		t.Errorf("%d public-read buckets (%d ignored), %d cross-account ones: want every case", publicRead, ignored, crossAccount)
	}
	if !slices.IsSortedFunc(truth.Exposures, func(a, b Exposure) int {
		if a.ARN != b.ARN {
			return strings.Compare(a.ARN, b.ARN)
		}
		return strings.Compare(a.Kind, b.Kind)
	}) {
		t.Error("exposures are not sorted by ARN then kind")
	}
}

// TestGetBucketAcl reads every bucket's ACL and Object Ownership through
// the SDK, path-style and virtual-hosted, and compares them with the
// estate: the default (the owner's FULL_CONTROL alone), public-read, and
// the other account's and log delivery's grants.
func TestGetBucketAcl(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 2, Buckets: 5})
	ctx := context.Background()
	shapes := map[string]int{}
	calls := 0
	for _, style := range []string{"path", "virtual"} {
		for _, b := range f.truth.Buckets {
			var c *s3.Client
			if style == "path" {
				c = s3.NewFromConfig(f.cfg(b.Account, b.Region), func(o *s3.Options) { o.UsePathStyle = true })
			} else {
				cfg, ep := f.virtualHostConfig(b.Account, b.Region)
				c = s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &ep })
			}
			out, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name)})
			calls++
			if err != nil {
				t.Fatalf("%s: GetBucketAcl %s: %v", style, b.Name, err)
			}
			want := b.ACL
			if want == nil {
				want = []BucketGrant{{Type: "CanonicalUser", ID: CanonicalUserID(b.Account), Permission: "FULL_CONTROL"}}
			}
			var got []BucketGrant
			for _, g := range out.Grants {
				got = append(got, BucketGrant{Type: string(g.Grantee.Type), ID: aws.ToString(g.Grantee.ID), URI: aws.ToString(g.Grantee.URI), Permission: string(g.Permission)})
			}
			if out.Owner == nil || aws.ToString(out.Owner.ID) != CanonicalUserID(b.Account) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: GetBucketAcl %s: owner %+v grants %+v, want %s %+v", style, b.Name, out.Owner, got, CanonicalUserID(b.Account), want)
			}
			for _, g := range out.Grants {
				if g.Grantee.Type != s3types.TypeCanonicalUser && g.Grantee.Type != s3types.TypeGroup {
					t.Errorf("%s: grantee type %q", style, g.Grantee.Type)
				}
			}
			shapes[fmt.Sprint(len(want))]++
			oc, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(b.Name)})
			if err != nil || oc.OwnershipControls == nil || len(oc.OwnershipControls.Rules) != 1 || string(oc.OwnershipControls.Rules[0].ObjectOwnership) != b.ObjectOwnership {
				t.Errorf("%s: GetBucketOwnershipControls %s: %+v %v, want %s", style, b.Name, oc, err, b.ObjectOwnership)
			}
		}
	}
	// The default, public-read and the four grants of the other shape.
	if shapes["1"] == 0 || shapes["2"] == 0 || shapes["4"] == 0 {
		t.Errorf("ACL shapes read (by grant count): %v, want 1, 2 and 4", shapes)
	}
	if n := f.srv.Calls()["s3:GetBucketAcl"]; n != int64(calls) {
		t.Errorf("s3:GetBucketAcl counted %d, want %d", n, calls)
	}
	// The errors of the other bucket reads.
	b := f.truth.Buckets[0]
	c := s3.NewFromConfig(f.cfg(b.Account, "eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name)}); apiCode(err) != "AuthorizationHeaderMalformed" {
		t.Errorf("wrong region: %v, want AuthorizationHeaderMalformed", err)
	}
	c = s3.NewFromConfig(f.cfg(f.accounts[1].ID, b.Region), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name)}); apiCode(err) != "AccessDenied" {
		t.Errorf("another account's bucket: %v, want AccessDenied", err)
	}
	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("no-such-bucket-anywhere")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v, want NoSuchBucket", err)
	}
}

// TestPutBucketAcl writes ACLs and Object Ownership through the SDK:
// refused while ACLs are disabled, public ones refused under
// BlockPublicAcls (the bucket's or the account's), canned, header and
// body ACLs replacing the old, and BucketOwnerEnforced refused while the
// ACL grants to others.
func TestPutBucketAcl(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 4, AccountBlockPublicAccess: map[string]*PublicAccessBlock{"300000000001": {BlockPublicAcls: true}}})
	ctx := context.Background()
	const region, name = "us-east-1", "acl-bucket"
	a := f.accounts[0].ID
	c := s3.NewFromConfig(f.cfg(a, region), func(o *s3.Options) { o.UsePathStyle = true })
	cfg, ep := f.virtualHostConfig(a, region)
	vc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &ep })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	read := func(c *s3.Client) []BucketGrant {
		t.Helper()
		out, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("GetBucketAcl: %v", err)
		}
		var got []BucketGrant
		for _, g := range out.Grants {
			got = append(got, BucketGrant{Type: string(g.Grantee.Type), ID: aws.ToString(g.Grantee.ID), URI: aws.ToString(g.Grantee.URI), Permission: string(g.Permission)})
		}
		return got
	}
	owner := BucketGrant{Type: GranteeCanonicalUser, ID: CanonicalUserID(a), Permission: "FULL_CONTROL"}
	allRead := BucketGrant{Type: GranteeGroup, URI: GroupAllUsers, Permission: "READ"}

	// A new bucket has ACLs disabled: reads answer the owner alone, writes
	// are refused.
	if got := read(c); !reflect.DeepEqual(got, []BucketGrant{owner}) {
		t.Errorf("new bucket's ACL %+v", got)
	}
	if oc, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(name)}); err != nil || oc.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("new bucket's ownership: %+v %v", oc, err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPrivate}); apiCode(err) != "AccessControlListNotSupported" {
		t.Errorf("PutBucketAcl with ACLs disabled: %v, want AccessControlListNotSupported", err)
	}
	ownership := func(c *s3.Client, o s3types.ObjectOwnership) error {
		_, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(name),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: o}}}})
		return err
	}
	if err := ownership(c, s3types.ObjectOwnershipObjectWriter); err != nil {
		t.Fatalf("PutBucketOwnershipControls: %v", err)
	}
	// A new bucket blocks public ACLs.
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPublicRead}); apiCode(err) != "AccessDenied" {
		t.Errorf("public-read under the bucket's BlockPublicAcls: %v, want AccessDenied", err)
	}
	if _, err := c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: "world-writable"}); apiCode(err) != "InvalidArgument" {
		t.Errorf("an unknown canned ACL: %v, want InvalidArgument", err)
	}
	if _, err := vc.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatalf("PutBucketAcl public-read (virtual-hosted): %v", err)
	}
	if got := read(vc); !reflect.DeepEqual(got, []BucketGrant{owner, allRead}) {
		t.Errorf("ACL after public-read %+v", got)
	}
	// Enforcing the owner is refused while the ACL grants to others.
	if err := ownership(vc, s3types.ObjectOwnershipBucketOwnerEnforced); apiCode(err) != "InvalidBucketAclWithObjectOwnership" {
		t.Errorf("BucketOwnerEnforced with a public-read ACL: %v, want InvalidBucketAclWithObjectOwnership", err)
	}
	// An AccessControlPolicy body replaces the ACL.
	other := CanonicalUserID("999988887777")
	policy := &s3types.AccessControlPolicy{Owner: &s3types.Owner{ID: aws.String(CanonicalUserID(a))}, Grants: []s3types.Grant{
		{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(CanonicalUserID(a))}, Permission: s3types.PermissionFullControl},
		{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(other)}, Permission: s3types.PermissionReadAcp},
		{Grantee: &s3types.Grantee{Type: s3types.TypeGroup, URI: aws.String(GroupLogDelivery)}, Permission: s3types.PermissionWrite},
	}}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), AccessControlPolicy: policy}); err != nil {
		t.Fatalf("PutBucketAcl with a body: %v", err)
	}
	wantBody := []BucketGrant{owner, {Type: GranteeCanonicalUser, ID: other, Permission: "READ_ACP"}, {Type: GranteeGroup, URI: GroupLogDelivery, Permission: "WRITE"}}
	if got := read(c); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("ACL after the body %+v, want %+v", got, wantBody)
	}
	for _, bad := range []*s3types.AccessControlPolicy{
		{Grants: policy.Grants}, // no owner
		{Owner: policy.Owner, Grants: []s3types.Grant{{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(other)}, Permission: "SOMETIMES"}}},
	} {
		if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), AccessControlPolicy: bad}); apiCode(err) != "MalformedACLError" {
			t.Errorf("a malformed body: %v, want MalformedACLError", err)
		}
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), AccessControlPolicy: &s3types.AccessControlPolicy{Owner: policy.Owner,
		Grants: []s3types.Grant{{Grantee: &s3types.Grantee{Type: s3types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/Everyone")}, Permission: s3types.PermissionRead}}}}); apiCode(err) != "InvalidArgument" {
		t.Errorf("an unknown group: %v, want InvalidArgument", err)
	}
	// Grant headers.
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), GrantFullControl: aws.String(`id="` + CanonicalUserID(a) + `"`),
		GrantRead: aws.String(`uri="` + GroupAuthenticatedUsers + `", id="` + other + `"`)}); err != nil {
		t.Fatalf("PutBucketAcl with grant headers: %v", err)
	}
	wantHeaders := []BucketGrant{owner, {Type: GranteeGroup, URI: GroupAuthenticatedUsers, Permission: "READ"}, {Type: GranteeCanonicalUser, ID: other, Permission: "READ"}}
	if got := read(c); !reflect.DeepEqual(got, wantHeaders) {
		t.Errorf("ACL after the grant headers %+v, want %+v", got, wantHeaders)
	}
	// private resets the ACL to the owner alone; then the owner may be
	// enforced, and ACL writes are refused again.
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPrivate}); err != nil {
		t.Fatalf("PutBucketAcl private: %v", err)
	}
	if got := read(c); !reflect.DeepEqual(got, []BucketGrant{owner}) {
		t.Errorf("ACL after private %+v", got)
	}
	if err := ownership(c, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatalf("BucketOwnerEnforced with a private ACL: %v", err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPublicRead}); apiCode(err) != "AccessControlListNotSupported" {
		t.Errorf("PutBucketAcl once enforced again: %v, want AccessControlListNotSupported", err)
	}
	// Another account may not write the ACL.
	stranger := s3.NewFromConfig(f.cfg(f.accounts[2].ID, region), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := stranger.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(name), ACL: s3types.BucketCannedACLPrivate}); apiCode(err) != "AccessDenied" {
		t.Errorf("another account's PutBucketAcl: %v, want AccessDenied", err)
	}
	// The account's BlockPublicAcls refuses a public ACL whatever the
	// bucket's own settings.
	blocked := f.accounts[1].ID
	bc := s3.NewFromConfig(f.cfg(blocked, region), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := bc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("blocked-acl"), ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("blocked-acl")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("blocked-acl"), ACL: s3types.BucketCannedACLAuthenticatedRead}); apiCode(err) != "AccessDenied" {
		t.Errorf("authenticated-read under the account's BlockPublicAcls: %v, want AccessDenied", err)
	}
	if _, err := bc.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("blocked-acl"), ACL: "log-delivery-write"}); err != nil {
		t.Errorf("log-delivery-write under the account's BlockPublicAcls: %v", err)
	}

	// The state and the events: every successful write, none of the
	// refused.
	for _, b := range f.srv.Assets().Buckets {
		if b.Name == name && (b.ObjectOwnership != "BucketOwnerEnforced" || !reflect.DeepEqual(b.ACL, []BucketGrant{owner})) {
			t.Errorf("bucket %+v", b)
		}
	}
	var events []string
	for _, e := range f.srv.Events(a, region) {
		events = append(events, e.Name)
	}
	wantEvents := []string{"CreateBucket", "PutBucketOwnershipControls", "DeleteBucketPublicAccessBlock", "PutBucketAcl", "PutBucketAcl", "PutBucketAcl", "PutBucketAcl", "PutBucketOwnershipControls"}
	if !slices.Equal(events, wantEvents) {
		t.Errorf("events %v, want %v", events, wantEvents)
	}
	calls := f.srv.Calls()
	if calls["s3:PutBucketAcl"] == 0 || calls["s3:PutBucketOwnershipControls"] != 3 || calls["s3:GetBucketOwnershipControls"] != 1 {
		t.Errorf("calls %v", calls)
	}
}

// TestConfigBucketACL reads the buckets' items through an aggregator:
// AccessControlList is a JSON string of AWS Config's shape, matching the
// bucket's ACL, and BucketOwnershipControls its Object Ownership.
func TestConfigBucketACL(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 2, Buckets: 5, Aggregator: &ConfigAggregator{Name: "acl-view",
		Accounts: []string{"300000000000", "300000000001", "300000000002"}, Regions: []string{"us-east-1"}}})
	c := configservice.NewFromConfig(f.cfg("300000000000", "us-east-1"))
	rows, _ := selectAll(t, c, "acl-view", "SELECT resourceId, accountId, supplementaryConfiguration WHERE resourceType = 'AWS::S3::Bucket'", 100)
	byName := map[string]*Bucket{}
	for _, b := range f.truth.Buckets {
		byName[b.Name] = b
	}
	if len(rows) != len(f.truth.Buckets) {
		t.Fatalf("%d bucket items, want %d", len(rows), len(f.truth.Buckets))
	}
	perms := map[string]string{"FULL_CONTROL": "FullControl", "READ": "Read", "WRITE": "Write", "READ_ACP": "ReadAcp", "WRITE_ACP": "WriteAcp"}
	groups := map[string]string{GroupAllUsers: "AllUsers", GroupAuthenticatedUsers: "AuthenticatedUsers", GroupLogDelivery: "LogDelivery"}
	seen := map[int]bool{}
	for _, r := range rows {
		b := byName[r["resourceId"].(string)]
		supp := r["supplementaryConfiguration"].(map[string]any)
		s, ok := supp["AccessControlList"].(string)
		if !ok {
			t.Fatalf("%s: AccessControlList %T %v, want a JSON string", b.Name, supp["AccessControlList"], supp["AccessControlList"])
		}
		var acl map[string]any
		if err := json.Unmarshal([]byte(s), &acl); err != nil {
			t.Fatalf("%s: AccessControlList %q: %v", b.Name, s, err)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range acl {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"grantList", "grantSet", "isRequesterCharged", "owner"}) || acl["grantSet"] != nil || acl["isRequesterCharged"] != false {
			t.Errorf("%s: AccessControlList %s", b.Name, s)
		}
		if o, _ := acl["owner"].(map[string]any); o == nil || o["id"] != CanonicalUserID(b.Account) || o["displayName"] != nil || len(o) != 2 {
			t.Errorf("%s: owner %v", b.Name, acl["owner"])
		}
		want := b.ACL
		if want == nil {
			want = []BucketGrant{{Type: GranteeCanonicalUser, ID: CanonicalUserID(b.Account), Permission: "FULL_CONTROL"}}
		}
		list, _ := acl["grantList"].([]any)
		if len(list) != len(want) {
			t.Fatalf("%s: grantList %v, want %+v", b.Name, list, want)
		}
		seen[len(list)] = true
		for i, x := range list {
			g := x.(map[string]any)
			w := want[i]
			var wantGrantee any = map[string]any{"id": w.ID, "displayName": nil}
			if w.Type == GranteeGroup {
				wantGrantee = groups[w.URI]
			}
			if !reflect.DeepEqual(g["grantee"], wantGrantee) || g["permission"] != perms[w.Permission] || len(g) != 2 {
				t.Errorf("%s: grant %d %v, want %+v", b.Name, i, g, w)
			}
		}
		oc, _ := supp["BucketOwnershipControls"].(map[string]any)
		wantOC := map[string]any{"ownershipControls": map[string]any{"rules": []any{map[string]any{"objectOwnership": b.ObjectOwnership}}}}
		if !reflect.DeepEqual(oc, wantOC) {
			t.Errorf("%s: BucketOwnershipControls %v, want %v", b.Name, oc, wantOC)
		}
	}
	if !seen[1] || !seen[2] || !seen[4] {
		t.Errorf("grant lists of lengths %v, want 1, 2 and 4", seen)
	}
	// The documented string, exactly.
	b := &Bucket{Account: "300000000000", ACL: []BucketGrant{{Type: GranteeCanonicalUser, ID: CanonicalUserID("300000000000"), Permission: "FULL_CONTROL"}, {Type: GranteeGroup, URI: GroupAllUsers, Permission: "READ"}}}
	id := CanonicalUserID("300000000000")
	if got, want := configACL(b), `{"grantSet":null,"grantList":[{"grantee":{"id":"`+id+`","displayName":null},"permission":"FullControl"},{"grantee":"AllUsers","permission":"Read"}],"owner":{"displayName":null,"id":"`+id+`"},"isRequesterCharged":false}`; got != want {
		t.Errorf("configACL\n got %s\nwant %s", got, want)
	}
}

// TestBucketACLXML pins GetBucketAcl's body.
func TestBucketACLXML(t *testing.T) {
	b := &Bucket{Account: "300000000000", ACL: []BucketGrant{{Type: GranteeCanonicalUser, ID: CanonicalUserID("300000000000"), Permission: "FULL_CONTROL"},
		{Type: GranteeGroup, URI: GroupAllUsers, Permission: "READ"}}}
	id := CanonicalUserID("300000000000")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>` + id + `</ID></Owner><AccessControlList>` +
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + id + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
		`</AccessControlList></AccessControlPolicy>`
	if got := string(writeACLXML(b.Account, b.effectiveACL())); got != want {
		t.Errorf("GetBucketAcl body\n got %s\nwant %s", got, want)
	}
	if !canonicalID.MatchString(id) {
		t.Errorf("canonical ID %q", id)
	}
}
