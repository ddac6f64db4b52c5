package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAssetsValidate(t *testing.T) {
	cases := []struct {
		a    Assets
		want string // a fragment of the one problem, "" for none
	}{
		{Assets{}, ""},
		{Assets{Services: []string{"ec2", "s3"}, Regions: []string{"us-east-1"}}, ""},
		{Assets{Services: []string{"all"}}, ""},
		{Assets{Services: []string{"rds"}}, `"rds" is not a service warden reads assets of: use ec2, s3, kms, lambda, secretsmanager or all`},
		{Assets{Services: []string{"kms", "kms"}}, `"kms" is listed twice`},
		{Assets{Regions: []string{"us-east-1"}}, "lists regions but no services"},
		{Assets{Services: []string{"s3"}, Regions: []string{"mars-1"}}, "is not an AWS region name"},
		{Assets{Services: []string{"s3"}, Regions: []string{""}}, "is empty"},
		{Assets{Services: []string{"all"}, Source: "config", Aggregator: "org-aggregator", AggregatorAccount: "123456789012", AggregatorRegion: "eu-west-1"}, ""},
		{Assets{Services: []string{"all"}, Source: "auto"}, ""},
		{Assets{Services: []string{"all"}, Source: "services"}, ""},
		{Assets{Services: []string{"all"}, Source: "cloudquery"}, `"cloudquery" is not an asset source: use auto`},
		{Assets{Services: []string{"all"}, Source: "services", Aggregator: "org"}, "is services, which reads no AWS Config aggregator"},
		{Assets{Services: []string{"all"}, Aggregator: "my aggregator!"}, "is not an AWS Config aggregator name"},
		{Assets{Services: []string{"all"}, AggregatorAccount: "12345"}, `"12345" is not an AWS account id`},
		{Assets{Services: []string{"all"}, AggregatorRegion: "mars-1"}, "is not an AWS region name"},
	}
	for _, c := range cases {
		r := &reporter{}
		c.a.validate(r, "connections[0].sync.assets")
		var got []string
		for _, p := range r.problems {
			got = append(got, p.String())
		}
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%+v: %v, want no problem", c.a, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want) || !strings.Contains(got[0], "connections[0].sync.assets")):
			t.Errorf("%+v: %v, want one problem with %q", c.a, got, c.want)
		}
	}
	if (Assets{}).SourceMode() != "auto" || (Assets{Source: "services"}).SourceMode() != "services" {
		t.Error("SourceMode: the default is auto")
	}
	if got := (Assets{Services: []string{"secretsmanager", "all"}}).ServiceList(); !slices.Equal(got, AssetServiceNames) {
		t.Errorf("all = %v", got)
	}
	if got := (Assets{Services: []string{"lambda", "ec2"}}).ServiceList(); !slices.Equal(got, []string{"ec2", "lambda"}) {
		t.Errorf("ServiceList = %v", got)
	}
}

// TestAssetsFromFile: a connection inherits defaults.sync.assets whole
// unless it writes sync.assets, and a mistake is reported at its line.
func TestAssetsFromFile(t *testing.T) {
	yaml := fmt.Sprintf(`version: %d
defaults:
  sync:
    assets:
      services: [all]
      regions: [eu-west-1]
connections:
  - id: inherits
  - id: own
    sync:
      assets:
        services: [s3]
`, CurrentVersion)
	f, err := Parse([]byte(yaml), "warden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := f.Connections[0].Sync.Assets; !slices.Equal(a.ServiceList(), AssetServiceNames) || !slices.Equal(a.Regions, []string{"eu-west-1"}) {
		t.Errorf("inherited %+v", a)
	}
	if a := f.Connections[1].Sync.Assets; !slices.Equal(a.Services, []string{"s3"}) || len(a.Regions) != 0 {
		t.Errorf("own %+v, want s3 in every region", a)
	}
	bad := strings.Replace(yaml, "services: [s3]", "services: [s3, rds]", 1)
	_, err = Parse([]byte(bad), "warden.yaml")
	if err == nil || !strings.Contains(err.Error(), "warden.yaml:12") || !strings.Contains(err.Error(), `connections[1].sync.assets.services[1] "rds" is not a service`) {
		t.Errorf("bad service: %v", err)
	}
}
