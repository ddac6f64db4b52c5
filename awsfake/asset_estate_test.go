package awsfake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// assetFixture is an emulator holding three accounts with assets in two
// regions, the last account opted in to ap-east-1 and denied eu-west-1 by
// an SCP.
type assetFixture struct {
	srv      *Server
	truth    *AssetTruth
	accounts []*Account
	creds    map[string]Credentials
	mu       sync.Mutex
	hosts    []string // host and path of the requests of virtualHostConfig's clients
}

func newAssetFixture(t *testing.T, e AssetEstate) *assetFixture {
	t.Helper()
	srv := NewServer(Options{})
	t.Cleanup(srv.Close)
	var accounts []*Account
	for i := 0; i < 3; i++ {
		accounts = append(accounts, Estate{AccountID: fmt.Sprintf("%012d", 300000000000+i), Roles: 4, Users: 1, Seed: int64(i + 1)}.Build())
	}
	truth := e.Build(accounts)
	f := &assetFixture{srv: srv, truth: truth, accounts: accounts, creds: map[string]Credentials{}}
	for _, a := range accounts {
		f.creds[a.ID] = srv.AddAccount(a)
	}
	srv.SetAssets(truth.Assets)
	return f
}

// cfg is an SDK config acting in an account, signed for a region.
func (f *assetFixture) cfg(account, region string) aws.Config {
	c := sdkConfig(f.srv, f.creds[account])
	c.Region = region
	return c
}

// virtualHostConfig is cfg with a client that dials the emulator whatever
// the host, and the endpoint http://s3.awsfake.test:PORT to give the S3
// client (Options.BaseEndpoint: the config's own comes back from its
// sources), so the SDK's virtual-hosted addressing
// (BUCKET.s3.awsfake.test) reaches the emulator.
func (f *assetFixture) virtualHostConfig(account, region string) (aws.Config, string) {
	c := f.cfg(account, region)
	addr := strings.TrimPrefix(f.srv.URL(), "http://")
	_, port, _ := net.SplitHostPort(addr)
	ep := "http://s3.awsfake.test:" + port
	next := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	})
	c.HTTPClient = hostRecorder{next: next, f: f}
	return c, ep
}

// hostRecorder records the hosts requests go to.
type hostRecorder struct {
	next aws.HTTPClient
	f    *assetFixture
}

// Do implements aws.HTTPClient.
func (h hostRecorder) Do(r *http.Request) (*http.Response, error) {
	h.f.mu.Lock()
	h.f.hosts = append(h.f.hosts, r.URL.Host+r.URL.Path)
	h.f.mu.Unlock()
	return h.next.Do(r)
}

func TestAssetEstateDeterministic(t *testing.T) {
	build := func() (*AssetTruth, []*Account) {
		var accounts []*Account
		for i := 0; i < 2; i++ {
			accounts = append(accounts, Estate{AccountID: fmt.Sprintf("%012d", 300000000000+i), Roles: 3, Seed: int64(i)}.Build())
		}
		return AssetEstate{Seed: 5}.Build(accounts), accounts
	}
	a, accounts := build()
	b, _ := build()
	if fmt.Sprint(a.Exposures) != fmt.Sprint(b.Exposures) || len(a.Buckets) != len(b.Buckets) || a.Keys[3].ID != b.Keys[3].ID || a.Instances[2].ID != b.Instances[2].ID {
		t.Fatal("two builds of one AssetEstate differ")
	}
	kinds := map[string]int{}
	for _, x := range a.Exposures {
		kinds[x.Type+"/"+x.Kind]++
	}
	for _, k := range []string{"bucket/public", "bucket/cross-account", "kms-key/account-manage", "kms-key/cross-account", "function/public",
		"function/cross-account", "secret/cross-account", "security-group/open-admin-port"} {
		if kinds[k] == 0 {
			t.Errorf("no %s exposure planted (%v)", k, kinds)
		}
	}
	// Every instance profile an instance names is in its account's IAM,
	// with a role of that account.
	byID := map[string]*Account{}
	for _, acct := range accounts {
		byID[acct.ID] = acct
	}
	profiles := 0
	for _, in := range a.Instances {
		if in.InstanceProfileARN == "" {
			continue
		}
		profiles++
		name := in.InstanceProfileARN[strings.LastIndexByte(in.InstanceProfileARN, '/')+1:]
		p := byID[in.Account].IAM.InstanceProfiles[name]
		if p == nil || p.ARN != in.InstanceProfileARN || p.ID != in.InstanceProfileID || len(p.Roles) != 1 || byID[in.Account].IAM.Roles[p.Roles[0]] == nil {
			t.Errorf("instance %s names profile %s, not in its account's IAM with a role: %+v", in.ID, in.InstanceProfileARN, p)
		}
	}
	if profiles == 0 {
		t.Error("no instance has an instance profile")
	}
	// An OrgEstate without Assets has none, and its IAM is the same as
	// before assets existed.
	plain := OrgEstate{Accounts: 2, PerAccount: Estate{Roles: 3}, Seed: 1}.Build()
	if plain.Assets != nil {
		t.Fatal("an OrgEstate without Assets placed assets")
	}
	for _, m := range plain.Members {
		if len(m.IAM.InstanceProfiles) != 0 {
			t.Fatalf("%s: instance profiles without assets", m.ID)
		}
	}
	with := OrgEstate{Accounts: 2, PerAccount: Estate{Roles: 3}, Seed: 1, Assets: &AssetEstate{}}.Build()
	if with.Assets == nil || len(with.Assets.Buckets) != 15 {
		t.Fatalf("OrgEstate with Assets: %v", with.Assets)
	}
	if len(with.Members[0].IAM.Users) != len(plain.Members[0].IAM.Users) || len(with.Members[0].IAM.Roles) != len(plain.Members[0].IAM.Roles) {
		t.Fatal("assets changed the accounts' users or roles")
	}
}

// sortedNames returns names sorted.
func sortedNames(names []string) []string {
	out := slices.Clone(names)
	sort.Strings(out)
	return out
}
