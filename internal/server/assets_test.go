package server

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/inventory"
)

// TestAssetRoutes syncs an account with assets in two regions and walks
// every GET /api/v1/assets/{kind} a small page at a time: the pages
// together are exactly the rows `warden show KIND -o json` prints (the same
// inventory function), every asset of the estate once; account and region
// filter; each page matches the OpenAPI document. /api/v1/findings lists
// exactly the planted exposures.
func TestAssetRoutes(t *testing.T) {
	e := newEnv(t, awsfake.Estate{AccountID: testAccount, Users: 4, Roles: 4, Seed: 3}, Config{})
	truth := awsfake.AssetEstate{Seed: 3}.Build([]*awsfake.Account{e.truth})
	e.fake.SetAssets(truth.Assets)
	e.conn.Sync.Assets = config.Assets{Services: []string{"all"}, Regions: []string{"us-east-1", "eu-west-1"}}
	snap := e.sync(t)
	g, err := e.st.Subgraph(context.Background(), snap, inventory.AssetsPart, "")
	if err != nil {
		t.Fatal(err)
	}
	customerKeys := 0
	for _, k := range truth.Keys {
		if k.Manager == "CUSTOMER" {
			customerKeys++
		}
	}
	kinds := []struct {
		kind string
		want int
		rows func(account, region string) any
	}{
		{"instances", len(truth.Instances), func(a, r string) any { return inventory.Instances(inventory.InRegion(g, r), a) }},
		{"security-groups", len(truth.SecurityGroups), func(a, r string) any { return inventory.SecurityGroups(inventory.InRegion(g, r), a) }},
		{"buckets", len(truth.Buckets), func(a, r string) any { return inventory.Buckets(inventory.InRegion(g, r), a) }},
		{"keys-kms", customerKeys, func(a, r string) any { return inventory.KMSKeys(inventory.InRegion(g, r), a) }},
		{"functions", len(truth.Functions), func(a, r string) any { return inventory.Functions(inventory.InRegion(g, r), a) }},
		{"secrets", len(truth.Secrets), func(a, r string) any { return inventory.Secrets(inventory.InRegion(g, r), a) }},
	}
	walk := func(t *testing.T, kind, query string) []json.RawMessage {
		t.Helper()
		var all []json.RawMessage
		next := ""
		for range 100 {
			q, _ := url.ParseQuery(query)
			q.Set("limit", "3")
			if next != "" {
				q.Set("cursor", next)
			}
			status, _, body := e.do(t, "GET", "/api/v1/assets/"+kind+"?"+q.Encode(), e.read, nil)
			if status != 200 {
				t.Fatalf("%s %s: %d %s", kind, query, status, body)
			}
			validate(t, e.srv, "GET", "/api/v1/assets/"+kind, status, body)
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > 3 {
				t.Fatalf("a page of %d, limit 3", len(page.Items))
			}
			all = append(all, page.Items...)
			if next = page.NextCursor; next == "" {
				return all
			}
		}
		t.Fatal("the walk never ended")
		return nil
	}
	same := func(t *testing.T, what string, got []json.RawMessage, want any) {
		t.Helper()
		w, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if gb == nil || string(gb) == "null" {
			gb = []byte("[]")
		}
		var a, b any
		_ = json.Unmarshal(w, &a)
		_ = json.Unmarshal(gb, &b)
		wj, _ := json.Marshal(a)
		gj, _ := json.Marshal(b)
		if string(wj) != string(gj) {
			t.Errorf("%s: the pages are not show's rows\n got %s\nwant %s", what, gj, wj)
		}
	}
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			all := walk(t, k.kind, "")
			if len(all) != k.want || k.want == 0 {
				t.Fatalf("%d %s, the estate has %d", len(all), k.kind, k.want)
			}
			same(t, k.kind, all, k.rows("", ""))
			same(t, k.kind+" in eu-west-1", walk(t, k.kind, "region=eu-west-1"), k.rows("", "eu-west-1"))
			same(t, k.kind+" of the account", walk(t, k.kind, "account="+testAccount), k.rows(testAccount, ""))
			if n := len(walk(t, k.kind, "account=444455556666")); n != 0 {
				t.Errorf("%d %s in an account with none", n, k.kind)
			}
		})
	}
	status, _, body := e.do(t, "GET", "/api/v1/findings?effective=false", e.read, nil)
	if status != 200 {
		t.Fatalf("findings: %d %s", status, body)
	}
	var f struct {
		AssetsRead bool                `json:"assets_read"`
		Exposures  []findings.Exposure `json:"exposures"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, x := range f.Exposures {
		got = append(got, x.AssetID+" "+string(x.Kind))
	}
	for _, x := range truth.Exposures {
		want = append(want, x.ARN+" "+x.Kind)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !f.AssetsRead || len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("findings: assets_read %v, exposures\n got %v\nwant %v", f.AssetsRead, got, want)
	}
}
