package awsapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
)

// tally is what an observer saw of one call key.
type tally struct{ attempts, throttles, retries int64 }

// recordingObserver counts what the middleware tells it, by "service:action".
type recordingObserver struct {
	mu   sync.Mutex
	seen map[string]tally
}

func (o *recordingObserver) Attempt(service, action string, throttled, retry bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]tally{}
	}
	t := o.seen[service+":"+action]
	t.attempts++
	if throttled {
		t.throttles++
	}
	if retry {
		t.retries++
	}
	o.seen[service+":"+action] = t
}

func (o *recordingObserver) get(key string) tally {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[key]
}

// observedSession is faultSession with an observer.
func observedSession(t *testing.T, o awsfake.Options) (*Session, *awsfake.Server, *recordingObserver) {
	t.Helper()
	isolate(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	c := srv.AddAccount(awsfake.Estate{AccountID: faultAccount, Users: 2}.Build())
	srv.SetOptions(o)
	obs := &recordingObserver{}
	s, err := Load(context.Background(), Options{Endpoint: srv.URL(), IAMRate: 1e6, MaxBackoff: time.Millisecond, Observer: obs,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv, obs
}

// TestObserverCountsThrottlesAndRetries: under a deterministic throttling
// storm (every other call of the account throttled) the observer hears of
// every attempt the emulator answered, of each throttle it injected, and of
// each attempt after a call's first as a retry.
func TestObserverCountsThrottlesAndRetries(t *testing.T) {
	s, srv, obs := observedSession(t, awsfake.Options{AccountFaults: map[string]awsfake.Faults{faultAccount: {ThrottleEvery: 2}}})
	const calls = 5
	for i := 0; i < calls; i++ {
		if _, err := s.IAM(faultAccount).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	got := obs.get("iam:ListUsers")
	attempts := srv.Calls()["iam:ListUsers"]
	want := tally{attempts: attempts, throttles: srv.FaultsFor(faultAccount), retries: attempts - calls}
	if got != want {
		t.Errorf("observer saw %+v, want %+v (the emulator's counts)", got, want)
	}
	// Every call but the first is throttled once and retried once.
	if want != (tally{attempts: 2*calls - 1, throttles: calls - 1, retries: calls - 1}) {
		t.Errorf("emulator counts %+v are not the storm's: every other call throttled", want)
	}
}

// TestObserverCountsServerErrorRetries: a call AWS answers 500 every time
// is retried until the server-error bound, each retry observed, none as a
// throttle.
func TestObserverCountsServerErrorRetries(t *testing.T) {
	s, srv, obs := observedSession(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"iam:ListRoles": {}}})
	if _, err := s.IAM(faultAccount).ListRoles(context.Background(), &iam.ListRolesInput{}); err == nil {
		t.Fatal("ListRoles succeeded through a persistent fault")
	}
	attempts := srv.Calls()["iam:ListRoles"]
	if attempts != DefaultMaxServerErrors {
		t.Fatalf("emulator saw %d attempts, want %d", attempts, DefaultMaxServerErrors)
	}
	if got, want := obs.get("iam:ListRoles"), (tally{attempts: attempts, retries: attempts - 1}); got != want {
		t.Errorf("observer saw %+v, want %+v", got, want)
	}
}

// TestObserverNamesSTSCalls: calls of the session's own clients are
// observed too, named as IAM policies name them.
func TestObserverNamesSTSCalls(t *testing.T) {
	s, srv, obs := observedSession(t, awsfake.Options{})
	if _, _, err := s.CallerIdentity(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := obs.get("sts:GetCallerIdentity"), (tally{attempts: srv.Calls()["sts:GetCallerIdentity"]}); got != want || got.attempts != 1 {
		t.Errorf("observer saw %+v, want %+v (one attempt)", got, want)
	}
}
