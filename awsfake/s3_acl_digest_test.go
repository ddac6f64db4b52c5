package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// aclDigestEstates are the fixed-seed estates whose digests
// TestBucketACLEstateUnchanged pins.
func aclDigestEstates() []AssetEstate {
	return []AssetEstate{
		{Seed: 2, Buckets: 5},
		{Seed: 5, Buckets: 12, AccountBlockPublicAccess: map[string]*PublicAccessBlock{"300000000001": {BlockPublicPolicy: true, RestrictPublicBuckets: true}, "300000000002": {IgnorePublicAcls: true}}},
	}
}

// estateDigest is a digest of everything an AssetEstate generated before
// buckets had ACLs: every bucket's fields but ACL and ObjectOwnership,
// every function's fields but Aliases, every other asset, the accounts'
// instance profiles and the exposures of the kinds planted before ACLs,
// but for the aliases'.
func estateDigest(e AssetEstate) string {
	var accounts []*Account
	for i := 0; i < 3; i++ {
		accounts = append(accounts, Estate{AccountID: fmt.Sprintf("%012d", 300000000000+i), Roles: 4, Users: 1, Seed: int64(i + 1)}.Build())
	}
	t := e.Build(accounts)
	type oldBucket struct {
		Name, Account, Region, CreatedAt, Policy string
		PublicAccessBlock                        *PublicAccessBlock
	}
	var buckets []oldBucket
	for _, b := range t.Buckets {
		buckets = append(buckets, oldBucket{b.Name, b.Account, b.Region, b.CreatedAt.String(), b.Policy, b.PublicAccessBlock})
	}
	// Functions as they were before aliases: every field but Aliases;
	// and no exposure of a function without a policy of its own, which
	// is an alias's (aliases draw nothing from the generator).
	type oldFunction struct {
		Name, ARN, Account, Region, Runtime, Handler, Role, Description string
		LastModified                                                    time.Time
		Policy                                                          string
	}
	var functions []oldFunction
	aliasOnly := map[string]bool{}
	for _, f := range t.Functions {
		functions = append(functions, oldFunction{f.Name, f.ARN, f.Account, f.Region, f.Runtime, f.Handler, f.Role, f.Description, f.LastModified, f.Policy})
		aliasOnly[f.ARN] = f.Policy == ""
	}
	var exposures []Exposure
	for _, x := range t.Exposures {
		if x.Kind != "public-acl" && x.Kind != "cross-account-acl" && !(x.Type == "function" && aliasOnly[x.ARN]) {
			exposures = append(exposures, x)
		}
	}
	var profiles []any
	for _, a := range accounts {
		for _, n := range sortedKeys(a.IAM.InstanceProfiles) {
			profiles = append(profiles, a.IAM.InstanceProfiles[n])
		}
	}
	b, err := json.Marshal([]any{buckets, t.Keys, functions, t.Secrets, t.Instances, t.SecurityGroups, profiles, exposures})
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
