package awsfake

import (
	"encoding/json"
	"sort"
	"time"
)

// This file generates the configuration items an aggregator holds, from
// the asset state, in the shapes AWS Config records them (the property
// names of AWS Config's resource schema, awslabs/aws-config-resource-schema):
//
//   - AWS::S3::Bucket: configuration name, owner, creationDate;
//     supplementaryConfiguration BucketPolicy.policyText (null when the
//     bucket has none), PublicAccessBlockConfiguration (absent when none
//     is set), AccessControlList (a JSON string, as Config encodes it:
//     {"grantSet":null,"grantList":[{"grantee":{"id":…,"displayName":null},
//     "permission":"FullControl"},{"grantee":"AllUsers","permission":"Read"}],
//     "owner":{"displayName":null,"id":…},"isRequesterCharged":false}, a
//     group grantee the bare AllUsers, AuthenticatedUsers or LogDelivery,
//     permissions FullControl, Read, Write, ReadAcp, WriteAcp; S3's default
//     ACL for a bucket with none set) and BucketOwnershipControls
//     {"ownershipControls":{"rules":[{"objectOwnership":…}]}}, in the
//     bucket's region.
//   - AWS::S3::AccountPublicAccessBlock: the account's S3 Block Public
//     Access settings, recorded in us-east-1 (the emulator's choice: one
//     item per account), absent when the account has none.
//   - AWS::KMS::Key: the key's metadata, AWS managed keys included; no key
//     policy and no grants (Config does not record them).
//   - AWS::Lambda::Function: the function's configuration (role, runtime,
//     handler…); no resource policy (Config does not record it).
//   - AWS::SecretsManager::Secret: name, ARN, description, KMS key, tags;
//     never the value, and no resource policy (Config does not record it).
//   - AWS::EC2::Instance: DescribeInstances' fields, camel-cased, with
//     iamInstanceProfile {arn, id} (null without one) and securityGroups.
//   - AWS::EC2::SecurityGroup: groupId, groupName, description, vpcId,
//     ownerId, ipPermissions and ipPermissionsEgress (ipv4Ranges, ipRanges,
//     ipv6Ranges, userIdGroupPairs; no ports for protocol -1).
//
// Items are ordered by account, region, resource type, then resource ID.

// configTime is a timestamp as Config's items write it.
func configTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// configTags are a resource's tags as Config's items hold them.
func configTags(tags []Tag) []any {
	out := []any{}
	for _, t := range tags {
		out = append(out, map[string]any{"key": t.Key, "value": t.Value, "tag": t.Key + "=" + t.Value})
	}
	return out
}

// configItem returns the common fields of an item.
func configItem(typ, account, region, id, name, arn string, created time.Time, conf, supp map[string]any, tags []Tag) map[string]any {
	item := map[string]any{"resourceType": typ, "accountId": account, "awsRegion": region, "resourceId": id, "resourceName": name,
		"availabilityZone": "Regional", "configurationItemStatus": "OK", "version": "1.3", "configuration": conf,
		"supplementaryConfiguration": supp, "tags": configTags(tags), "relationships": []any{}}
	if supp == nil {
		item["supplementaryConfiguration"] = map[string]any{}
	}
	if arn != "" {
		item["arn"] = arn
	}
	if !created.IsZero() {
		item["resourceCreationTime"] = configTime(created)
	}
	return item
}

func configPAB(p *PublicAccessBlock) map[string]any {
	return map[string]any{"blockPublicAcls": p.BlockPublicAcls, "ignorePublicAcls": p.IgnorePublicAcls,
		"blockPublicPolicy": p.BlockPublicPolicy, "restrictPublicBuckets": p.RestrictPublicBuckets}
}

func configPerms(ps []IPPermission) []any {
	out := []any{}
	for _, p := range ps {
		v4, legacy, v6, pairs := []any{}, []any{}, []any{}, []any{}
		for _, c := range p.CIDRs {
			v4 = append(v4, map[string]any{"cidrIp": c})
			legacy = append(legacy, c)
		}
		for _, c := range p.IPv6CIDRs {
			v6 = append(v6, map[string]any{"cidrIpv6": c})
		}
		for _, g := range p.Groups {
			pairs = append(pairs, map[string]any{"groupId": g})
		}
		m := map[string]any{"ipProtocol": p.Protocol, "ipv4Ranges": v4, "ipRanges": legacy, "ipv6Ranges": v6, "userIdGroupPairs": pairs, "prefixListIds": []any{}}
		if p.Protocol != "-1" {
			m["fromPort"], m["toPort"] = p.FromPort, p.ToPort
		}
		out = append(out, m)
	}
	return out
}

// normalise round-trips an item through JSON, so numbers and nested
// values have the types a query sees (float64, []any, map[string]any).
func normalise(item map[string]any) map[string]any {
	b, _ := json.Marshal(item)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// configItems returns the items the aggregator holds.
func (s *Server) configItems(agg *ConfigAggregator) []map[string]any {
	s.mu.Lock()
	accounts := map[string]bool{}
	for id := range s.accounts {
		accounts[id] = true
	}
	s.mu.Unlock()
	covers := func(account, region string) bool { return accounts[account] && agg.covers(account, region) }
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	var items []map[string]any
	add := func(item map[string]any) { items = append(items, normalise(item)) }
	for _, b := range st.a.Buckets {
		if !covers(b.Account, b.Region) {
			continue
		}
		var policy any
		if b.Policy != "" {
			policy = b.Policy
		}
		supp := map[string]any{"BucketPolicy": map[string]any{"policyText": policy}, "IsRequesterPaysEnabled": false,
			"BucketVersioningConfiguration": map[string]any{"status": "Off"}}
		if b.PublicAccessBlock != nil {
			supp["PublicAccessBlockConfiguration"] = configPAB(b.PublicAccessBlock)
		}
		supp["AccessControlList"] = configACL(b) // s3_acl.go
		supp["BucketOwnershipControls"] = map[string]any{"ownershipControls": map[string]any{"rules": []any{map[string]any{"objectOwnership": b.objectOwnership()}}}}
		conf := map[string]any{"name": b.Name, "owner": map[string]any{"id": CanonicalUserID(b.Account)}, "creationDate": configTime(b.CreatedAt)}
		add(configItem("AWS::S3::Bucket", b.Account, b.Region, b.Name, b.Name, "arn:aws:s3:::"+b.Name, b.CreatedAt, conf, supp, nil))
	}
	for _, account := range sortedKeys(st.a.AccountPublicAccessBlocks) {
		if p := st.a.AccountPublicAccessBlocks[account]; p != nil && covers(account, "us-east-1") {
			add(configItem("AWS::S3::AccountPublicAccessBlock", account, "us-east-1", account, account, "", time.Time{}, configPAB(p), nil, nil))
		}
	}
	for _, k := range st.a.Keys {
		if !covers(k.Account, k.Region) {
			continue
		}
		conf := map[string]any{"keyId": k.ID, "arn": k.ARN, "awsaccountId": k.Account, "creationDate": configTime(k.CreatedAt),
			"enabled": k.State == "Enabled", "description": k.Description, "keyUsage": "ENCRYPT_DECRYPT", "keyState": k.State,
			"origin": "AWS_KMS", "keyManager": k.Manager, "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keySpec": "SYMMETRIC_DEFAULT",
			"encryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "multiRegion": false}
		add(configItem("AWS::KMS::Key", k.Account, k.Region, k.ID, "", k.ARN, k.CreatedAt, conf, map[string]any{"KeyRotationStatus": false}, nil))
	}
	for _, f := range st.a.Functions {
		if !covers(f.Account, f.Region) {
			continue
		}
		conf := map[string]any{"functionName": f.Name, "functionArn": f.ARN, "runtime": f.Runtime, "role": f.Role, "handler": f.Handler,
			"description": f.Description, "lastModified": configTime(f.LastModified), "packageType": "Zip", "version": "$LATEST",
			"memorySize": 128, "timeout": 3, "architectures": []string{"x86_64"}, "tracingConfig": map[string]any{"mode": "PassThrough"}}
		add(configItem("AWS::Lambda::Function", f.Account, f.Region, f.Name, f.Name, f.ARN, time.Time{}, conf, map[string]any{}, nil))
	}
	for _, x := range st.a.Secrets {
		if !covers(x.Account, x.Region) {
			continue
		}
		conf := map[string]any{"Name": x.Name, "ARN": x.ARN, "Description": x.Description, "RotationEnabled": false, "Deleted": false}
		if x.KMSKeyID != "" {
			conf["KMSKeyId"] = x.KMSKeyID
		}
		add(configItem("AWS::SecretsManager::Secret", x.Account, x.Region, x.ARN, x.Name, x.ARN, x.CreatedAt, conf, nil, x.Tags))
	}
	for _, in := range st.a.Instances {
		if !covers(in.Account, in.Region) {
			continue
		}
		groups := []any{}
		for _, g := range in.SecurityGroups {
			groups = append(groups, map[string]any{"groupId": g, "groupName": groupName(st.a.SecurityGroups, g)})
		}
		var profile, public any
		if in.InstanceProfileARN != "" {
			profile = map[string]any{"arn": in.InstanceProfileARN, "id": in.InstanceProfileID}
		}
		if in.PublicIP != "" {
			public = in.PublicIP
		}
		conf := map[string]any{"instanceId": in.ID, "instanceType": in.Type, "imageId": in.ImageID, "state": map[string]any{"code": instanceStateCode(in.State), "name": in.State},
			"vpcId": in.VPC, "subnetId": in.Subnet, "privateIpAddress": in.PrivateIP, "publicIpAddress": public, "iamInstanceProfile": profile,
			"securityGroups": groups, "launchTime": configTime(in.LaunchedAt), "tags": configTagPairs(in.Tags)}
		arn := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
		add(configItem("AWS::EC2::Instance", in.Account, in.Region, in.ID, "", arn, in.LaunchedAt, conf, map[string]any{}, in.Tags))
	}
	for _, g := range st.a.SecurityGroups {
		if !covers(g.Account, g.Region) {
			continue
		}
		conf := map[string]any{"groupId": g.ID, "groupName": g.Name, "description": g.Description, "vpcId": g.VPC, "ownerId": g.Account,
			"ipPermissions": configPerms(g.Ingress), "ipPermissionsEgress": configPerms(g.Egress), "tags": configTagPairs(g.Tags)}
		arn := "arn:aws:ec2:" + g.Region + ":" + g.Account + ":security-group/" + g.ID
		add(configItem("AWS::EC2::SecurityGroup", g.Account, g.Region, g.ID, g.Name, arn, time.Time{}, conf, map[string]any{}, g.Tags))
	}
	sort.SliceStable(items, func(i, j int) bool {
		for _, k := range []string{"accountId", "awsRegion", "resourceType", "resourceId"} {
			a, b := items[i][k].(string), items[j][k].(string)
			if a != b {
				return a < b
			}
		}
		return false
	})
	return items
}

// configTagPairs are tags as the EC2 configuration holds them.
func configTagPairs(tags []Tag) []any {
	out := []any{}
	for _, t := range tags {
		out = append(out, map[string]any{"key": t.Key, "value": t.Value})
	}
	return out
}

func groupName(groups []*SecurityGroup, id string) string {
	for _, g := range groups {
		if g.ID == id {
			return g.Name
		}
	}
	return ""
}

// instanceStateCode is EC2's numeric code of an instance state.
func instanceStateCode(state string) int {
	return map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}[state]
}
