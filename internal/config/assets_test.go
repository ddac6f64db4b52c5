package config

import (
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
	if got := (Assets{Services: []string{"secretsmanager", "all"}}).ServiceList(); !slices.Equal(got, AssetServiceNames) {
		t.Errorf("all = %v", got)
	}
	if got := (Assets{Services: []string{"lambda", "ec2"}}).ServiceList(); !slices.Equal(got, []string{"ec2", "lambda"}) {
		t.Errorf("ServiceList = %v", got)
	}
}
