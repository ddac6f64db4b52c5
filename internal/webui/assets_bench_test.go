package webui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// BenchmarkAssetPages times the asset pages, server side, over an
// organization of 11 accounts with assets in two regions (per account:
// 160 instances, 40 security groups, 50 buckets, 60 KMS keys, 80 functions
// and 40 secrets): /assets, the instances list (1,760 instances, capped at
// 200 rows), a filtered list, and an instance's page.
func BenchmarkAssetPages(b *testing.B) {
	s := newAssetStackOf(b, 10, awsfake.AssetEstate{Instances: 80, SecurityGroups: 20, Buckets: 50, Keys: 30, Functions: 40, Secrets: 20})
	c := client(b)
	signIn(b, c, s.url, s.token)
	in := s.truth.Assets.Instances[0]
	pages := map[string]string{
		"assets":           "/assets?c=prod",
		"instances":        "/assets/instances?c=prod",
		"instances-filter": "/assets/instances?c=prod&account=" + in.Account + "&region=" + in.Region,
		"instance":         "/asset?c=prod&id=" + url.QueryEscape("arn:aws:ec2:"+in.Region+":"+in.Account+":instance/"+in.ID),
	}
	for _, name := range []string{"assets", "instances", "instances-filter", "instance"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if code, body, _ := get(b, c, s.url+pages[name]); code != http.StatusOK {
					b.Fatalf("%s: %d %.300s", name, code, body)
				}
			}
		})
	}
}
