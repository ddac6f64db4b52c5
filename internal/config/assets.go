package config

import (
	"fmt"
	"slices"
)

// AssetServiceNames are the services `sync.assets.services` may name, in
// the order the docs list them; "all" names every one.
var AssetServiceNames = []string{"ec2", "s3", "kms", "lambda", "secretsmanager"}

// Assets says which assets a sync reads (EC2 instances and security
// groups, S3 buckets, KMS keys, Lambda functions, Secrets Manager secrets,
// with their resource policies) and where; the zero Assets (no `assets:`
// key, or no services) reads none.
type Assets struct {
	// Services are the services read: names of AssetServiceNames, or
	// "all".
	Services []string `yaml:"services"`
	// Regions are the regions read; empty means each account's enabled
	// regions, learned once per sync with ec2:DescribeRegions.
	Regions []string `yaml:"regions"`
}

// Enabled reports whether the sync reads assets.
func (a Assets) Enabled() bool { return len(a.Services) > 0 }

// ServiceList returns the services read, "all" expanded, in
// AssetServiceNames' order.
func (a Assets) ServiceList() []string {
	var out []string
	for _, s := range AssetServiceNames {
		if slices.Contains(a.Services, s) || slices.Contains(a.Services, "all") {
			out = append(out, s)
		}
	}
	return out
}

func (a Assets) validate(r *reporter, p string) {
	seen := map[string]bool{}
	for i, s := range a.Services {
		q := fmt.Sprintf("%s.services[%d]", p, i)
		switch {
		case s != "all" && !slices.Contains(AssetServiceNames, s):
			r.add(q, "%q is not a service warden reads assets of: use ec2, s3, kms, lambda, secretsmanager or all", s)
		case seen[s]:
			r.add(q, "%q is listed twice", s)
		}
		seen[s] = true
	}
	if len(a.Regions) > 0 && len(a.Services) == 0 {
		r.add(p+".regions", "lists regions but no services: add services (ec2, s3, kms, lambda, secretsmanager or all), or remove the assets key")
	}
	seenRegion := map[string]bool{}
	for i, region := range a.Regions {
		q := fmt.Sprintf("%s.regions[%d]", p, i)
		if region == "" {
			r.add(q, "is empty: name a region such as us-east-1, or leave regions out to read every enabled region")
			continue
		}
		checkRegion(r, q, region)
		if seenRegion[region] {
			r.add(q, "%q is listed twice", region)
		}
		seenRegion[region] = true
	}
}

// inheritAssets sets s to def unless path was written in the file.
func inheritAssets(src *source, path string, s *Assets, def Assets) {
	if src != nil && (src.has(path) || src.has(path+".services") || src.has(path+".regions")) {
		return
	}
	*s = Assets{Services: slices.Clone(def.Services), Regions: slices.Clone(def.Regions)}
}
