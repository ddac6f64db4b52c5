package awsfake

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestEC2GroundTruth reads the regions, instances and security groups of
// every account through the SDK, in pages of 5, and compares them with the
// estate; an opt-in region the account has not enabled refuses its
// credentials, and an SCP-denied region answers an explicit deny.
func TestEC2GroundTruth(t *testing.T) {
	last := "300000000002"
	f := newAssetFixture(t, AssetEstate{Seed: 6, Instances: 7, SecurityGroups: 6, OptedIn: map[string][]string{last: {"ap-east-1"}},
		DeniedRegions: map[string][]string{last: {"eu-west-1"}}, Regions: []string{"us-east-1", "eu-west-1"}})
	ctx := context.Background()
	for _, a := range f.accounts {
		c := ec2.NewFromConfig(f.cfg(a.ID, "us-east-1"))
		regions, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err != nil {
			t.Fatalf("DescribeRegions: %v", err)
		}
		var names []string
		for _, r := range regions.Regions {
			names = append(names, aws.ToString(r.RegionName))
		}
		want := f.truth.EnabledRegions(a.ID)
		if slicesDiffer(sortedNames(names), want) {
			t.Errorf("%s: regions %v, want %v", a.ID, names, want)
		}
		all, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
		if err != nil || len(all.Regions) != len(StandardRegions)+len(OptInRegions) {
			t.Errorf("AllRegions: %v %d", err, len(all.Regions))
		}
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			c := ec2.NewFromConfig(f.cfg(a.ID, region))
			denied := a.ID == last && region == "eu-west-1"
			wantInst := map[string]*Instance{}
			for _, in := range f.truth.Instances {
				if in.Account == a.ID && in.Region == region {
					wantInst[in.ID] = in
				}
			}
			n := 0
			p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if denied {
					if apiCode(err) != "UnauthorizedOperation" {
						t.Errorf("SCP-denied region: %v, want UnauthorizedOperation", err)
					}
					break
				}
				if err != nil {
					t.Fatalf("DescribeInstances: %v", err)
				}
				for _, r := range page.Reservations {
					for _, in := range r.Instances {
						n++
						w := wantInst[aws.ToString(in.InstanceId)]
						var profile string
						if in.IamInstanceProfile != nil {
							profile = aws.ToString(in.IamInstanceProfile.Arn)
						}
						var groups []string
						for _, g := range in.SecurityGroups {
							groups = append(groups, aws.ToString(g.GroupId))
						}
						if w == nil || string(in.State.Name) != w.State || aws.ToString(in.PublicIpAddress) != w.PublicIP || profile != w.InstanceProfileARN ||
							aws.ToString(in.VpcId) != w.VPC || slicesDiffer(groups, w.SecurityGroups) || aws.ToString(r.OwnerId) != a.ID {
							t.Errorf("instance %s = %+v, want %+v", aws.ToString(in.InstanceId), in, w)
						}
					}
				}
			}
			if !denied && n != len(wantInst) {
				t.Errorf("%s %s: %d instances, want %d", a.ID, region, n, len(wantInst))
			}
			if denied {
				continue
			}
			wantSG := map[string]*SecurityGroup{}
			for _, g := range f.truth.SecurityGroups {
				if g.Account == a.ID && g.Region == region {
					wantSG[g.ID] = g
				}
			}
			n = 0
			gp := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
			for gp.HasMorePages() {
				page, err := gp.NextPage(ctx)
				if err != nil {
					t.Fatalf("DescribeSecurityGroups: %v", err)
				}
				for _, g := range page.SecurityGroups {
					n++
					w := wantSG[aws.ToString(g.GroupId)]
					if w == nil || len(g.IpPermissions) != len(w.Ingress) {
						t.Fatalf("group %+v, want %+v", g, w)
					}
					for i, p := range g.IpPermissions {
						wp := w.Ingress[i]
						var cidrs, v6 []string
						for _, r := range p.IpRanges {
							cidrs = append(cidrs, aws.ToString(r.CidrIp))
						}
						for _, r := range p.Ipv6Ranges {
							v6 = append(v6, aws.ToString(r.CidrIpv6))
						}
						from, to := int32(-1), int32(-1)
						if p.FromPort != nil {
							from, to = *p.FromPort, *p.ToPort
						}
						if aws.ToString(p.IpProtocol) != wp.Protocol || int(from) != wp.FromPort || int(to) != wp.ToPort ||
							!slices.Equal(cidrs, wp.CIDRs) || !slices.Equal(v6, wp.IPv6CIDRs) || len(p.UserIdGroupPairs) != len(wp.Groups) {
							t.Errorf("group %s rule %d = %+v, want %+v", w.ID, i, p, wp)
						}
					}
				}
			}
			if n != len(wantSG) {
				t.Errorf("%s %s: %d groups, want %d", a.ID, region, n, len(wantSG))
			}
		}
	}
	// ap-east-1: enabled in the last account only.
	if _, err := ec2.NewFromConfig(f.cfg(f.accounts[0].ID, "ap-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); apiCode(err) != "AuthFailure" {
		t.Errorf("a region not enabled: %v, want AuthFailure", err)
	}
	if _, err := kms.NewFromConfig(f.cfg(f.accounts[0].ID, "ap-east-1")).ListKeys(ctx, &kms.ListKeysInput{}); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("KMS in a region not enabled: %v, want UnrecognizedClientException", err)
	}
	if _, err := ec2.NewFromConfig(f.cfg(last, "ap-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("an opted-in region: %v", err)
	}
	c := ec2.NewFromConfig(f.cfg(last, "us-east-1"))
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(3)}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("MaxResults 3: %v, want InvalidParameterValue", err)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000000a"}}); apiCode(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown instance: %v, want InvalidInstanceID.NotFound", err)
	}
}
