package config

import (
	"fmt"
	"regexp"
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
	// Source is where assets are read from: auto (default: an AWS Config
	// aggregator when the account holds one, else the service listings),
	// config (the aggregator, noting its absence) or services (the service
	// listings only). AssetSources lists them.
	Source string `yaml:"source"`
	// Aggregator names the AWS Config aggregator; empty takes the
	// account's organization aggregator.
	Aggregator string `yaml:"aggregator"`
	// AggregatorAccount is the account holding the aggregator (a delegated
	// administrator), read through its member role; empty is the
	// connection's own account.
	AggregatorAccount string `yaml:"aggregator_account"`
	// AggregatorRegion is the aggregator's region; empty is the
	// connection's region.
	AggregatorRegion string `yaml:"aggregator_region"`
}

// AssetSources are the values of `sync.assets.source`.
var AssetSources = []string{"auto", "config", "services"}

// SourceMode returns Source, "auto" when unset.
func (a Assets) SourceMode() string {
	if a.Source == "" {
		return "auto"
	}
	return a.Source
}

// aggregatorName is AWS Config's pattern of aggregator names.
var aggregatorName = regexp.MustCompile(`^[\w\-]{1,256}$`)

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
	switch {
	case a.Source != "" && !slices.Contains(AssetSources, a.Source):
		r.add(p+".source", "%q is not an asset source: use auto (an AWS Config aggregator when there is one, else the service listings), config or services", a.Source)
	case a.Source == "services" && (a.Aggregator != "" || a.AggregatorAccount != "" || a.AggregatorRegion != ""):
		r.add(p+".source", "is services, which reads no AWS Config aggregator, but an aggregator is configured: set source to auto or config, or remove aggregator, aggregator_account and aggregator_region")
	}
	if a.Aggregator != "" && !aggregatorName.MatchString(a.Aggregator) {
		r.add(p+".aggregator", "%q is not an AWS Config aggregator name: 1 to 256 letters, digits, '_' or '-'", a.Aggregator)
	}
	if a.AggregatorAccount != "" && !accountIDPattern.MatchString(a.AggregatorAccount) {
		r.add(p+".aggregator_account", "%q is not an AWS account id; write the 12 digits of the account holding the aggregator", a.AggregatorAccount)
	}
	if a.AggregatorRegion != "" {
		checkRegion(r, p+".aggregator_region", a.AggregatorRegion)
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
	*s = def
	s.Services, s.Regions = slices.Clone(def.Services), slices.Clone(def.Regions)
}
