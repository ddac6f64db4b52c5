package collect

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// assetEnv is an organization of three accounts with assets in two
// regions; member 0 opted in to ap-east-1 and member 1 has eu-west-1 denied
// by an SCP.
type assetEnv struct {
	srv   *awsfake.Server
	truth *awsfake.OrgTruth
	sess  *awsapi.Session
}

func newAssetEnv(t testing.TB) *assetEnv {
	return newAssetEnvWith(t, func(*awsfake.AssetEstate) {})
}

// newAssetEnvWith is newAssetEnv with the asset estate changed by edit.
func newAssetEnvWith(t testing.TB, edit func(*awsfake.AssetEstate)) *assetEnv {
	t.Helper()
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	ae := &awsfake.AssetEstate{
		OptedIn:       map[string][]string{"200000000000": {"ap-east-1"}},
		DeniedRegions: map[string][]string{"200000000001": {"eu-west-1"}},
	}
	edit(ae)
	truth := awsfake.OrgEstate{Accounts: 2, PerAccount: awsfake.Estate{Roles: 4, Users: 2}, Seed: 9, Assets: ae}.Build()
	c := truth.Install(srv)
	sess, err := awsapi.Load(context.Background(), awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 1e5,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range truth.Members {
		if err := sess.AssumeMember(context.Background(), m.ID, "arn:aws:iam::"+m.ID+":role/"+awsfake.DefaultMemberRoleName, ""); err != nil {
			t.Fatal(err)
		}
	}
	return &assetEnv{srv: srv, truth: truth, sess: sess}
}

// collect runs CollectAssets for one account through the session.
func (e *assetEnv) collect(t testing.TB, account string, o AssetOptions) *AssetResult {
	t.Helper()
	clients := func(region string) AssetAPIs {
		c := e.sess.Assets(account, region)
		return AssetAPIs{EC2: c.EC2, S3: c.S3, KMS: c.KMS, Lambda: c.Lambda, SecretsManager: c.SecretsManager, S3Control: c.S3Control}
	}
	res, err := CollectAssets(context.Background(), account, clients, e.sess.IAM(account), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantAssets returns the estate's assets of one account outside the
// regions skipped, as "type id" lines with their key attributes.
func wantAssets(truth *awsfake.AssetTruth, accounts map[string]*awsfake.Account, account string, skip []string) []string {
	var out []string
	in := func(a, region string) bool { return a == account && !slices.Contains(skip, region) }
	for _, b := range truth.Buckets {
		if in(b.Account, b.Region) {
			pab := "none"
			if p := b.PublicAccessBlock; p != nil {
				pab = fmt.Sprint(p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets)
			}
			// An ACL left nil is S3's default: the owner's FULL_CONTROL.
			acl := []string{"CanonicalUser:" + awsfake.CanonicalUserID(b.Account) + ":FULL_CONTROL"}
			if b.ACL != nil {
				acl = nil
				for _, g := range b.ACL {
					acl = append(acl, g.Type+":"+g.ID+g.URI+":"+g.Permission)
				}
			}
			out = append(out, fmt.Sprintf("s3_bucket arn:aws:s3:::%s %s policy=%q pab=%s acl=%s/%v", b.Name, b.Region, b.Policy, pab,
				awsfake.CanonicalUserID(b.Account), acl))
		}
	}
	for _, k := range truth.Keys {
		if in(k.Account, k.Region) && k.Manager == "CUSTOMER" {
			var grants []string
			for _, g := range k.Grants {
				var eq, sub map[string]string
				if c := g.Constraints; c != nil {
					eq, sub = c.EncryptionContextEquals, c.EncryptionContextSubset
				}
				grants = append(grants, g.ID+"→"+g.GranteePrincipal+strings.Join(g.Operations, ",")+grantConstraintsText(eq, sub))
			}
			out = append(out, fmt.Sprintf("kms_key %s %s %s policy=%q grants=%v", k.ARN, k.Region, k.State, k.Policy, grants))
		}
	}
	for _, f := range truth.Functions {
		if in(f.Account, f.Region) {
			var aliases []string
			for _, a := range f.Aliases {
				aliases = append(aliases, fmt.Sprintf("%s→%s:%q", a.Name, a.FunctionVersion, a.Policy))
			}
			out = append(out, fmt.Sprintf("lambda_function %s %s role=%s policy=%q aliases=%v", f.ARN, f.Region, f.Role, f.Policy, aliases))
		}
	}
	for _, x := range truth.Secrets {
		if in(x.Account, x.Region) {
			out = append(out, fmt.Sprintf("secret %s %s policy=%q", x.ARN, x.Region, x.Policy))
		}
	}
	for _, i := range truth.Instances {
		if in(i.Account, i.Region) {
			role := ""
			if i.InstanceProfileARN != "" {
				name := i.InstanceProfileARN[strings.LastIndexByte(i.InstanceProfileARN, '/')+1:]
				role = accounts[i.Account].IAM.Roles[accounts[i.Account].IAM.InstanceProfiles[name].Roles[0]].ARN
			}
			out = append(out, fmt.Sprintf("ec2_instance arn:aws:ec2:%s:%s:instance/%s %s state=%s public=%s role=%s groups=%v", i.Region, i.Account, i.ID, i.Region, i.State, i.PublicIP, role, i.SecurityGroups))
		}
	}
	for _, g := range truth.SecurityGroups {
		if in(g.Account, g.Region) {
			var rules []string
			for _, p := range g.Ingress {
				rules = append(rules, fmt.Sprintf("%s:%d-%d%v%v%v", p.Protocol, p.FromPort, p.ToPort, p.CIDRs, p.IPv6CIDRs, p.Groups))
			}
			out = append(out, fmt.Sprintf("ec2_security_group arn:aws:ec2:%s:%s:security-group/%s %s rules=%v", g.Region, g.Account, g.ID, g.Region, rules))
		}
	}
	sort.Strings(out)
	return out
}

// grantConstraintsText renders a grant's constraints for wantAssets and
// gotAssets, "" for none; fmt sorts the maps' keys.
func grantConstraintsText(equals, subset map[string]string) string {
	out := ""
	if len(equals) > 0 {
		out += fmt.Sprint(" equals=", equals)
	}
	if len(subset) > 0 {
		out += fmt.Sprint(" subset=", subset)
	}
	return out
}

// gotAssets renders the graph's assets as wantAssets does.
func gotAssets(g model.Graph) []string {
	var out []string
	for _, r := range g.Resources {
		switch r.Type {
		case model.TypeS3Bucket:
			pab := "none"
			if p := r.Bucket.PublicAccessBlock; p != nil {
				pab = fmt.Sprint(p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets)
			}
			acl := "unread"
			if a := r.Bucket.ACL; a != nil {
				var grants []string
				for _, g := range a.Grants {
					grants = append(grants, g.GranteeType+":"+g.Grantee+":"+g.Permission)
				}
				acl = fmt.Sprintf("%s/%v", a.OwnerID, grants)
			}
			out = append(out, fmt.Sprintf("s3_bucket %s %s policy=%q pab=%s acl=%s", r.ID, r.Bucket.Region, r.Bucket.Policy, pab, acl))
		case model.TypeKMSKey:
			var grants []string
			for _, g := range r.KMSKey.Grants {
				var eq, sub map[string]string
				if c := g.Constraints; c != nil {
					eq, sub = c.EncryptionContextEquals, c.EncryptionContextSubset
				}
				grants = append(grants, g.GrantID+"→"+g.GranteePrincipal+strings.Join(g.Operations, ",")+grantConstraintsText(eq, sub))
			}
			out = append(out, fmt.Sprintf("kms_key %s %s %s policy=%q grants=%v", r.ID, r.KMSKey.Region, r.KMSKey.State, r.KMSKey.Policy, grants))
		case model.TypeLambdaFunction:
			var aliases []string
			for _, a := range r.Function.Aliases {
				aliases = append(aliases, fmt.Sprintf("%s→%s:%q", a.Name, a.Version, a.Policy))
			}
			out = append(out, fmt.Sprintf("lambda_function %s %s role=%s policy=%q aliases=%v", r.ID, r.Function.Region, r.Function.Role, r.Function.Policy, aliases))
		case model.TypeSecret:
			out = append(out, fmt.Sprintf("secret %s %s policy=%q", r.ID, r.Secret.Region, r.Secret.Policy))
		case model.TypeEC2Instance:
			i := r.Instance
			out = append(out, fmt.Sprintf("ec2_instance %s %s state=%s public=%s role=%s groups=%v", r.ID, i.Region, i.State, i.PublicIP, i.Role, i.SecurityGroups))
		case model.TypeSecurityGroup:
			var rules []string
			for _, p := range r.SecurityGroup.Ingress {
				rules = append(rules, fmt.Sprintf("%s:%d-%d%v%v%v", p.Protocol, p.FromPort, p.ToPort, p.CIDRs, p.IPv6CIDRs, p.Groups))
			}
			out = append(out, fmt.Sprintf("ec2_security_group %s %s rules=%v", r.ID, r.SecurityGroup.Region, rules))
		}
	}
	sort.Strings(out)
	return out
}

// TestCollectAssetsGroundTruth collects every account of the organization
// (its regions learned with DescribeRegions) and compares the graph's
// assets with the estate's exactly; the SCP-denied region is skipped with a
// note, and the calls made are the call formula's.
func TestCollectAssetsGroundTruth(t *testing.T) {
	e := newAssetEnv(t)
	accounts := map[string]*awsfake.Account{}
	for _, a := range e.truth.Accounts() {
		accounts[a.ID] = a
	}
	assets := e.truth.Assets
	var withEquals, withSubset int // the keys compared with a constrained grant
	for _, a := range e.truth.Accounts() {
		e.srv.ResetCalls()
		res := e.collect(t, a.ID, AssetOptions{})
		var skip []string
		if a.ID == "200000000001" {
			skip = []string{"eu-west-1"}
			if !strings.Contains(res.Skipped["eu-west-1"], "service control policy") || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "region eu-west-1 skipped") {
				t.Errorf("%s: skipped %v, errors %v; want eu-west-1 skipped as SCP-denied, with one note", a.ID, res.Skipped, res.Errors)
			}
		} else if len(res.Errors) != 0 {
			t.Errorf("%s: errors %v", a.ID, res.Errors)
		}
		if want := assets.EnabledRegions(a.ID); !slices.Equal(res.Regions, want) {
			t.Errorf("%s: regions %v, want %v", a.ID, res.Regions, want)
		}
		want, got := wantAssets(assets, accounts, a.ID, skip), gotAssets(res.Graph)
		if len(want) < 20 {
			t.Fatalf("%s: only %d assets in the estate", a.ID, len(want))
		}
		if !slices.Equal(got, want) {
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("%s: asset %d\n got %s\nwant %s", a.ID, i, g, w)
					break
				}
			}
			t.Fatalf("%s: %d assets, want %d", a.ID, len(got), len(want))
		}
		for _, w := range want {
			if strings.HasPrefix(w, "kms_key ") && strings.Contains(w, " equals=") {
				withEquals++
			}
			if strings.HasPrefix(w, "kms_key ") && strings.Contains(w, " subset=") {
				withSubset++
			}
		}
		t.Logf("%s: %d assets, %d grants, regions %v, skipped %v", a.ID, len(got), len(res.Graph.Grants), res.Regions, res.Skipped)
		// The identity edges: each instance with a profile and each
		// function runs as its role.
		runsAs := map[string]string{}
		for _, g := range res.Graph.Grants {
			if role, ok := strings.CutSuffix(g.EntitlementID, "#"+model.EntRunsAs); ok {
				runsAs[g.PrincipalID] = role
			}
		}
		for _, r := range res.Graph.Resources {
			if r.Instance != nil && r.Instance.Role != "" && runsAs[r.ID] != r.Instance.Role || r.Function != nil && runsAs[r.ID] != r.Function.Role {
				t.Errorf("%s runs as %q", r.ID, runsAs[r.ID])
			}
		}
		// The calls: DescribeRegions once; ListBuckets once and three
		// calls a bucket; per region read, one listing a service (each fits a
		// page) and the per-resource calls; ListInstanceProfiles once.
		calls := e.srv.CallsFor(a.ID)
		wantCalls := map[string]int64{"ec2:DescribeRegions": 1, "s3:ListBuckets": 1, "iam:ListInstanceProfiles": 1, "s3control:GetPublicAccessBlock": 1}
		for _, b := range assets.Buckets {
			if b.Account == a.ID {
				wantCalls["s3:GetBucketPolicy"]++
				wantCalls["s3:GetPublicAccessBlock"]++
				wantCalls["s3:GetBucketAcl"]++
			}
		}
		for _, region := range res.Regions {
			for _, action := range []string{"ec2:DescribeInstances", "kms:ListKeys", "lambda:ListFunctions", "secretsmanager:ListSecrets"} {
				wantCalls[action]++
			}
			if !slices.Contains(skip, region) {
				wantCalls["ec2:DescribeSecurityGroups"]++
			}
		}
		for _, k := range assets.Keys {
			if k.Account == a.ID && !slices.Contains(skip, k.Region) {
				wantCalls["kms:DescribeKey"]++
				if k.Manager == "CUSTOMER" {
					wantCalls["kms:GetKeyPolicy"]++
					wantCalls["kms:ListGrants"]++
				}
			}
		}
		for _, f := range assets.Functions {
			if f.Account == a.ID && !slices.Contains(skip, f.Region) {
				wantCalls["lambda:GetPolicy"] += 1 + int64(len(f.Aliases))
				wantCalls["lambda:ListAliases"]++
			}
		}
		for _, x := range assets.Secrets {
			if x.Account == a.ID && !slices.Contains(skip, x.Region) {
				wantCalls["secretsmanager:GetResourcePolicy"]++
			}
		}
		if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
			t.Errorf("%s: calls\n got %v\nwant %v", a.ID, calls, wantCalls)
		}
		// No secret's value reaches the graph.
		text := fmt.Sprintf("%+v", res.Graph)
		for _, x := range assets.Secrets {
			if strings.Contains(text, x.Value) {
				t.Fatalf("the value of secret %s is in the graph", x.Name)
			}
		}
	}
	if withEquals == 0 || withSubset == 0 {
		t.Errorf("keys with an EncryptionContextEquals grant %d, with an EncryptionContextSubset grant %d; want some of each", withEquals, withSubset)
	}
}

// TestTransformGrantConstraints: an empty map is no constraint, no
// constraint is nil, and the model holds its own copy.
func TestTransformGrantConstraints(t *testing.T) {
	subset := map[string]string{"team": "data"}
	cases := []struct {
		name string
		in   *kmstypes.GrantConstraints
		want *model.KMSGrantConstraints
	}{
		{"nil", nil, nil},
		{"both empty", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: map[string]string{}}, nil},
		{"subset", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: subset},
			&model.KMSGrantConstraints{EncryptionContextSubset: map[string]string{"team": "data"}}},
		{"both", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "1"}, EncryptionContextSubset: map[string]string{"b": "2"}},
			&model.KMSGrantConstraints{EncryptionContextEquals: map[string]string{"a": "1"}, EncryptionContextSubset: map[string]string{"b": "2"}}},
	}
	for _, tc := range cases {
		if got := transformGrantConstraints(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	got := transformGrantConstraints(&kmstypes.GrantConstraints{EncryptionContextSubset: subset})
	subset["team"] = "changed"
	if got.EncryptionContextSubset["team"] != "data" {
		t.Errorf("the model shares the SDK's map: %v", got.EncryptionContextSubset)
	}
}

// TestCollectAssetsConfiguredRegionsAndServices reads only the services and
// regions asked for, and records a region not enabled as skipped.
func TestCollectAssetsConfiguredRegionsAndServices(t *testing.T) {
	e := newAssetEnv(t)
	mgmt := e.truth.Management.ID
	e.srv.ResetCalls()
	res := e.collect(t, mgmt, AssetOptions{Services: []string{"kms", "ec2"}, Regions: []string{"eu-west-1", "ap-east-1"}})
	if !strings.Contains(res.Skipped["ap-east-1"], "not enabled") {
		t.Errorf("skipped %v, want ap-east-1 not enabled", res.Skipped)
	}
	for _, r := range res.Graph.Resources {
		region := ""
		switch {
		case r.KMSKey != nil:
			region = r.KMSKey.Region
		case r.Instance != nil:
			region = r.Instance.Region
		case r.SecurityGroup != nil:
			region = r.SecurityGroup.Region
		case r.Type == model.TypeExternalPrincipal || r.Type == model.TypeAccountAssets:
			continue
		default:
			t.Fatalf("resource %s of a service not asked for", r.ID)
		}
		if region != "eu-west-1" {
			t.Fatalf("resource %s in %s", r.ID, region)
		}
	}
	for k := range e.srv.CallsFor(mgmt) {
		if !strings.HasPrefix(k, "kms:") && !strings.HasPrefix(k, "ec2:") && k != "iam:ListInstanceProfiles" || k == "ec2:DescribeRegions" {
			t.Errorf("call %s not asked for", k)
		}
	}
}

// BenchmarkCollectAssets collects one account's assets (six regions
// learned with DescribeRegions, assets in two) with 2 ms of latency a call,
// and reports the calls made.
func BenchmarkCollectAssets(b *testing.B) {
	e := newAssetEnv(b)
	e.srv.SetOptions(awsfake.Options{Latency: 2 * time.Millisecond})
	account := e.truth.Management.ID
	e.srv.ResetCalls()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.collect(b, account, AssetOptions{})
	}
	b.StopTimer()
	var calls int64
	for _, n := range e.srv.CallsFor(account) {
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

// TestCollectAssetsDeniedService: a service the credentials may not call
// is a partial failure naming the call and its fix; the other services are
// read.
func TestCollectAssetsDeniedService(t *testing.T) {
	e := newAssetEnv(t)
	e.srv.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"lambda:ListFunctions": {Status: 403, Code: "AccessDeniedException", Message: "User: arn:aws:iam::111111111111:user/warden-admin is not authorized to perform: lambda:ListFunctions because no identity-based policy allows the lambda:ListFunctions action"},
	}})
	res := e.collect(t, e.truth.Management.ID, AssetOptions{Regions: []string{"us-east-1"}})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "lambda:ListFunctions") || res.Errors[0].Fix == "" || len(res.Skipped) != 0 {
		t.Fatalf("errors %+v, skipped %v; want one failure of lambda:ListFunctions with a fix", res.Errors, res.Skipped)
	}
	t.Logf("%s — fix: %s", res.Errors[0].Message, res.Errors[0].Fix)
	kinds := map[model.ResourceType]int{}
	for _, r := range res.Graph.Resources {
		kinds[r.Type]++
	}
	if kinds[model.TypeLambdaFunction] != 0 || kinds[model.TypeKMSKey] == 0 || kinds[model.TypeS3Bucket] == 0 || kinds[model.TypeEC2Instance] == 0 {
		t.Errorf("resources %v", kinds)
	}
}

// TestCollectAssetsDeniedBucketACL: GetBucketAcl refused is a partial
// failure per bucket naming the call and its fix; each bucket is still
// recorded, with its policy, and marked unread "acl".
func TestCollectAssetsDeniedBucketACL(t *testing.T) {
	e := newAssetEnv(t)
	e.srv.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"s3:GetBucketAcl": {Status: 403, Code: "AccessDenied", Message: "User: arn:aws:iam::111111111111:user/warden-admin is not authorized to perform: s3:GetBucketAcl"},
	}})
	acct := e.truth.Management.ID
	res := e.collect(t, acct, AssetOptions{Regions: []string{"us-east-1"}})
	buckets := 0
	for _, b := range e.truth.Assets.Buckets {
		if b.Account == acct && b.Region == "us-east-1" {
			buckets++
		}
	}
	if buckets == 0 || len(res.Errors) != buckets {
		t.Fatalf("%d errors for %d buckets: %+v", len(res.Errors), buckets, res.Errors)
	}
	for _, se := range res.Errors {
		if !strings.Contains(se.Message, "ACL of bucket") || !strings.Contains(se.Message+se.Fix, "s3:GetBucketAcl") {
			t.Errorf("error %+v does not name the bucket's ACL and s3:GetBucketAcl", se)
		}
	}
	seen := 0
	for _, r := range res.Graph.Resources {
		if r.Bucket == nil {
			continue
		}
		seen++
		if r.Bucket.ACL != nil || !slices.Contains(r.Unread, "acl") {
			t.Errorf("bucket %s: acl %+v, unread %v; want none and unread acl", r.Name, r.Bucket.ACL, r.Unread)
		}
	}
	if seen != buckets {
		t.Errorf("%d buckets recorded, want %d", seen, buckets)
	}
}

// TestCollectAssetsACLEdges: each bucket ACL grant to another than the
// owner is an edge (provenance bucket_acl) from its grantee to each action
// its permission allows on the bucket, exactly those of the estate.
func TestCollectAssetsACLEdges(t *testing.T) {
	e := newAssetEnv(t)
	want, got := map[string]bool{}, map[string]bool{}
	for _, a := range e.truth.Accounts() {
		res := e.collect(t, a.ID, AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}})
		for _, g := range res.Graph.Grants {
			if g.Provenance == model.ViaBucketACL {
				got[g.PrincipalID+" "+g.EntitlementID] = true
			}
		}
		for _, b := range e.truth.Assets.Buckets {
			if b.Account != a.ID || b.Region != "us-east-1" && b.Region != "eu-west-1" {
				continue
			}
			for _, g := range b.ACL {
				var who string
				switch {
				case g.URI == awsfake.GroupAllUsers || g.URI == awsfake.GroupAuthenticatedUsers:
					who = model.ExternalPrincipalID("*", "*")
				case g.URI == awsfake.GroupLogDelivery:
					who = model.ExternalPrincipalID("Service", "logging.s3.amazonaws.com")
				case g.ID != awsfake.CanonicalUserID(b.Account):
					who = model.ExternalPrincipalID("CanonicalUser", g.ID)
				default:
					continue
				}
				for _, action := range (model.BucketACLGrant{Permission: g.Permission}).Actions() {
					want[who+" "+model.EntitlementID("arn:aws:s3:::"+b.Name, action)] = true
				}
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the estate has no bucket ACL granting to others than the owner")
	}
	if !maps.Equal(got, want) {
		t.Errorf("ACL edges:\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}
