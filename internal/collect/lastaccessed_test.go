package collect

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// laFixture is an account of the emulator with users and roles, a session
// on it, and every user and role as a target, never read.
func laFixture(t *testing.T, o awsfake.Options) (*awsfake.Server, *awsfake.Account, func(string) LastAccessedAPI, []LastAccessedTarget) {
	t.Helper()
	srv := awsfake.NewServer(o)
	t.Cleanup(srv.Close)
	acct := awsfake.Estate{AccountID: "123456789012", Users: 14, Groups: 3, Roles: 12, Policies: 4, Seed: 11}.Build()
	creds := srv.AddAccount(acct)
	cfg := fakeConfig(t, srv, creds, "us-east-1")
	sess, err := awsapi.Load(context.Background(), awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 10000, MaxBackoff: time.Millisecond,
		Credentials: cfg.Credentials})
	if err != nil {
		t.Fatal(err)
	}
	var targets []LastAccessedTarget
	for _, u := range acct.IAM.Users {
		targets = append(targets, LastAccessedTarget{Account: acct.ID, ARN: u.ARN})
	}
	for _, r := range acct.IAM.Roles {
		targets = append(targets, LastAccessedTarget{Account: acct.ID, ARN: r.ARN})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].ARN < targets[j].ARN })
	return srv, acct, func(a string) LastAccessedAPI { return sess.IAM(a) }, targets
}

// truthOf converts awsfake's ground truth to the collector's values.
func truthOf(srv *awsfake.Server, account, arn string) []ServiceLastAccessed {
	sa, _ := srv.LastAccessed(account, arn, true)
	out := []ServiceLastAccessed{}
	for _, s := range sa {
		v := ServiceLastAccessed{Namespace: s.Namespace, Name: s.Name, LastAuthenticated: s.LastAuthenticated, Entity: s.Entity, Region: s.Region, TotalEntities: s.TotalEntities}
		for _, a := range s.Actions {
			v.Actions = append(v.Actions, ActionLastAccessed{Name: a.Name, LastAccessed: a.LastAccessed, Entity: a.Entity, Region: a.Region})
		}
		out = append(out, v)
	}
	return out
}

var fastPoll = LastAccessedOptions{Poll: time.Millisecond, MaxPoll: 4 * time.Millisecond}

// TestReadLastAccessedGroundTruth reads every principal within a large
// budget and finds exactly awsfake's data, at 3 calls a principal (the
// job, one poll IN_PROGRESS, one COMPLETED page), counted as awsfake
// counts them.
func TestReadLastAccessedGroundTruth(t *testing.T) {
	srv, acct, client, targets := laFixture(t, awsfake.Options{})
	o := fastPoll
	o.Budget = 1000
	got := ReadLastAccessed(context.Background(), client, targets, o)
	if len(got.Errors) > 0 || len(got.Left) > 0 || got.Wanted != len(targets) {
		t.Fatalf("errors %v, left %d of %d", got.Errors, len(got.Left), got.Wanted)
	}
	if len(got.Principals) != len(targets) {
		t.Fatalf("read %d principals, want %d", len(got.Principals), len(targets))
	}
	used := 0
	for i, p := range got.Principals {
		if p.ARN != targets[i].ARN || p.Account != acct.ID || p.Granularity != "ACTION_LEVEL" || p.ReadAt.IsZero() {
			t.Fatalf("principal %d = %s %s %s, want %s in order", i, p.ARN, p.Account, p.Granularity, targets[i].ARN)
		}
		if want := truthOf(srv, acct.ID, p.ARN); !reflect.DeepEqual(p.Services, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", p.ARN, p.Services, want)
		}
		for _, s := range p.Services {
			if s.LastAuthenticated != nil {
				used++
			}
		}
	}
	if used == 0 {
		t.Fatal("no principal used any service: the test proves nothing")
	}
	calls := srv.Calls()
	gen, get := calls["iam:GenerateServiceLastAccessedDetails"], calls["iam:GetServiceLastAccessedDetails"]
	if gen != int64(len(targets)) || get != 2*int64(len(targets)) || int64(got.Calls) != gen+get {
		t.Errorf("calls: %d generate, %d get, %d counted; want %d, %d, %d", gen, get, got.Calls, len(targets), 2*len(targets), 3*len(targets))
	}
	if s := got.Summary(); !strings.Contains(s, "covered 26 of 26 principals in 78 calls") {
		t.Errorf("summary %q", s)
	}
}

// TestReadLastAccessedBudget: a budget smaller than the account covers
// what it can, never spends more than it has, leaves the rest; the next
// read, oldest-read first, takes the principals not yet read, and the
// syncs together cover every principal exactly once.
func TestReadLastAccessedBudget(t *testing.T) {
	srv, _, client, targets := laFixture(t, awsfake.Options{})
	srv.SetLastAccessedPolls(2) // 4 calls a principal: the reservation of 3 and one more
	o := fastPoll
	o.Budget = 30
	o.Concurrency = 3
	lastRead := map[string]time.Time{}
	seen := map[string]int{}
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for sync := 0; len(seen) < len(targets); sync++ {
		if sync > 10 {
			t.Fatalf("not covered after 10 syncs: %d of %d", len(seen), len(targets))
		}
		clock = clock.Add(time.Hour)
		o.Now = func() time.Time { return clock }
		g := &model.Graph{}
		for _, tg := range targets {
			typ := model.TypeIAMUser
			if strings.Contains(tg.ARN, ":role/") {
				typ = model.TypeIAMRole
			}
			g.Resources = append(g.Resources, model.Resource{ID: tg.ARN, ARN: tg.ARN, Type: typ, AccountID: tg.Account})
		}
		order := SelectLastAccessed(g, LastAccessedAll, lastRead)
		srv.ResetCalls()
		got := ReadLastAccessed(context.Background(), client, order, o)
		if got.Calls > o.Budget || srv.TotalCalls() != int64(got.Calls) {
			t.Fatalf("sync %d: %d calls counted, %d made, budget %d", sync, got.Calls, srv.TotalCalls(), o.Budget)
		}
		if len(got.Principals)+len(got.Left) != len(targets) || len(got.Errors) > 0 {
			t.Fatalf("sync %d: %d read + %d left of %d, errors %v", sync, len(got.Principals), len(got.Left), len(targets), got.Errors)
		}
		if len(seen)+len(got.Principals) < len(targets) && len(got.Principals) != o.Budget/4 {
			t.Errorf("sync %d read %d principals with %d calls, want %d", sync, len(got.Principals), o.Budget, o.Budget/4)
		}
		for _, p := range got.Principals {
			if seen[p.ARN] > 0 && len(seen) < len(targets) {
				t.Errorf("sync %d read %s again before every principal was read once", sync, p.ARN)
			}
			seen[p.ARN]++
			lastRead[p.ARN] = p.ReadAt
		}
	}
}

// switchingClient sends the first Generate through one session and every
// other call through another, as when credentials are renewed between a
// job's creation and its read.
type switchingClient struct {
	first, rest LastAccessedAPI
	used        bool
}

func (c *switchingClient) GenerateServiceLastAccessedDetails(ctx context.Context, in *iam.GenerateServiceLastAccessedDetailsInput, f ...func(*iam.Options)) (*iam.GenerateServiceLastAccessedDetailsOutput, error) {
	if !c.used {
		c.used = true
		return c.first.GenerateServiceLastAccessedDetails(ctx, in, f...)
	}
	return c.rest.GenerateServiceLastAccessedDetails(ctx, in, f...)
}

func (c *switchingClient) GetServiceLastAccessedDetails(ctx context.Context, in *iam.GetServiceLastAccessedDetailsInput, f ...func(*iam.Options)) (*iam.GetServiceLastAccessedDetailsOutput, error) {
	return c.rest.GetServiceLastAccessedDetails(ctx, in, f...)
}

// TestReadLastAccessedSessionRenewed: awsfake refuses a job read by
// another session; the collector makes one new job and reads it.
func TestReadLastAccessedSessionRenewed(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	acct := awsfake.Estate{AccountID: "123456789012", Users: 2, Roles: 1, Seed: 2}.Build()
	role := "arn:aws:iam::123456789012:role/reader"
	acct.IAM.Roles["reader"] = &awsfake.Role{Name: "reader", ID: "AROAFAKEREADER", Path: "/", ARN: role, MaxSessionDuration: 3600,
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`,
		InlinePolicies:   map[string]string{"s3": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}
	cfg := fakeConfig(t, srv, srv.AddAccount(acct), "us-east-1")
	a := iam.NewFromConfig(cfg)
	// The same role in another session: another caller.
	out, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("renewed")})
	if err != nil {
		t.Fatal(err)
	}
	b := iam.NewFromConfig(fakeConfig(t, srv, awsfake.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}, "us-east-1"))
	c := &switchingClient{first: a, rest: b}
	got := ReadLastAccessed(context.Background(), func(string) LastAccessedAPI { return c }, []LastAccessedTarget{{Account: acct.ID, ARN: role}}, fastPoll)
	if len(got.Principals) != 1 || len(got.Errors) > 0 {
		t.Fatalf("read %d, errors %v", len(got.Principals), got.Errors)
	}
	if !reflect.DeepEqual(got.Principals[0].Services, truthOf(srv, acct.ID, role)) {
		t.Errorf("services %+v", got.Principals[0].Services)
	}
	if n := srv.LastAccessedJobs(); n != 2 || got.Calls != 5 {
		t.Errorf("%d jobs, %d calls; want 2 jobs (the first unreadable), 5 calls", n, got.Calls)
	}
}

// TestReadLastAccessedDenied: an account refusing the actions is one
// recorded failure with the fix, its principals left for later, and no
// more jobs tried there.
func TestReadLastAccessedDenied(t *testing.T) {
	srv, _, client, targets := laFixture(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"iam:GenerateServiceLastAccessedDetails": {Status: http.StatusForbidden, Code: "AccessDenied", Message: "not authorized"}}})
	o := fastPoll
	o.Concurrency = 1
	got := ReadLastAccessed(context.Background(), client, targets, o)
	if len(got.Principals) != 0 || len(got.Left) != len(targets) || len(got.Errors) != 1 {
		t.Fatalf("read %d, left %d, errors %+v", len(got.Principals), len(got.Left), got.Errors)
	}
	if e := got.Errors[0]; !strings.Contains(e.Fix, "iam:GenerateServiceLastAccessedDetails") || e.AccountID != "123456789012" {
		t.Errorf("failure %+v", e)
	}
	if n := srv.Calls()["iam:GenerateServiceLastAccessedDetails"]; n != 1 {
		t.Errorf("%d jobs tried in a refusing account, want 1", n)
	}
}

// TestSelectLastAccessed: which principals and in what order.
func TestSelectLastAccessed(t *testing.T) {
	g := &model.Graph{Resources: []model.Resource{
		{ARN: "arn:aws:iam::1:user/b", Type: model.TypeIAMUser, AccountID: "1"},
		{ARN: "arn:aws:iam::1:user/a", Type: model.TypeIAMUser, AccountID: "1"},
		{ARN: "arn:aws:iam::1:role/r", Type: model.TypeIAMRole, AccountID: "1"},
		{ARN: "arn:aws:iam::1:role/aws-service-role/x/slr", Path: "/aws-service-role/x/", Type: model.TypeIAMRole, AccountID: "1"},
		{ARN: "arn:aws:iam::1:group/g", Type: model.TypeIAMGroup, AccountID: "1"},
	}}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	arns := func(ts []LastAccessedTarget) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ARN)
		}
		return out
	}
	read := map[string]time.Time{"arn:aws:iam::1:user/a": old.Add(time.Hour), "arn:aws:iam::1:user/b": old}
	cases := map[string][]string{
		LastAccessedAll:   {"arn:aws:iam::1:role/r", "arn:aws:iam::1:user/b", "arn:aws:iam::1:user/a"},
		LastAccessedUsers: {"arn:aws:iam::1:user/b", "arn:aws:iam::1:user/a"},
		LastAccessedRoles: {"arn:aws:iam::1:role/r"},
		LastAccessedNone:  nil,
		"":                nil,
	}
	for which, want := range cases {
		if got := arns(SelectLastAccessed(g, which, read)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v, want %v", which, got, want)
		}
	}
}

// BenchmarkReadLastAccessedBudget reads one account of the benchmark
// organization's shape (300 users, 120 roles) within the default budget
// of 200 calls, awsfake answering each job IN_PROGRESS once (the job, two
// polls): principals covered and calls a sync, and the time of the read
// without AWS's job latency (polls 1 ms apart).
func BenchmarkReadLastAccessedBudget(b *testing.B) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	acct := awsfake.Estate{AccountID: "123456789012", Users: 300, Groups: 40, Roles: 120, Policies: 60, Seed: 2}.Build()
	creds := srv.AddAccount(acct)
	sess, err := awsapi.Load(context.Background(), awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 10000,
		Credentials: fakeConfig(b, srv, creds, "us-east-1").Credentials})
	if err != nil {
		b.Fatal(err)
	}
	var targets []LastAccessedTarget
	for _, u := range acct.IAM.Users {
		targets = append(targets, LastAccessedTarget{Account: acct.ID, ARN: u.ARN})
	}
	for _, r := range acct.IAM.Roles {
		targets = append(targets, LastAccessedTarget{Account: acct.ID, ARN: r.ARN})
	}
	o := LastAccessedOptions{Poll: time.Millisecond, MaxPoll: time.Millisecond}
	var got LastAccessedRead
	for b.Loop() {
		got = ReadLastAccessed(context.Background(), func(string) LastAccessedAPI { return sess.IAM(acct.ID) }, targets, o)
	}
	b.ReportMetric(float64(len(got.Principals)), "principals/sync")
	b.ReportMetric(float64(got.Calls), "calls/sync")
	b.ReportMetric(float64(got.Calls)/float64(len(got.Principals)), "calls/principal")
	b.ReportMetric(float64(len(targets)), "principals/account")
}
