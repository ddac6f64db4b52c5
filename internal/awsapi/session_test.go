package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// queryServer answers IAM and STS query-protocol requests: a caller-chosen
// number of Throttling errors for each request before its success. It
// stands in for AWS so these tests exercise the SDK's real retry loop.
type queryServer struct {
	*httptest.Server
	throttleFirst int // Throttling responses before each call succeeds

	mu       sync.Mutex
	attempts map[string]int // by action
	perCall  map[string]int // attempts by the SDK's invocation id, one per call
}

func newQueryServer(t *testing.T, throttleFirst int) *queryServer {
	t.Helper()
	q := &queryServer{throttleFirst: throttleFirst, attempts: map[string]int{}, perCall: map[string]int{}}
	q.Server = httptest.NewServer(http.HandlerFunc(q.serve))
	t.Cleanup(q.Close)
	return q
}

func (q *queryServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.PostForm.Get("Action")
	// The SDK sends the same invocation id on every attempt of one call.
	inv := r.Header.Get("Amz-Sdk-Invocation-Id")
	q.mu.Lock()
	q.attempts[action]++
	q.perCall[inv]++
	throttle := q.perCall[inv] <= q.throttleFirst
	q.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if throttle {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
		return
	}
	switch action {
	case "ListAccessKeys":
		fmt.Fprint(w, `<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccessKeysResult><AccessKeyMetadata/><IsTruncated>false</IsTruncated></ListAccessKeysResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListAccessKeysResponse>`)
	case "GetCallerIdentity":
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/auditor</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, action)
	}
}

func (q *queryServer) count(action string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attempts[action]
}

// isolate keeps the machine's AWS configuration out of a test.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func load(t *testing.T, o Options) *Session {
	t.Helper()
	isolate(t)
	if o.Credentials == nil {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-real-secret", "")
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = time.Millisecond
	}
	s, err := Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestLoadDefaults(t *testing.T) {
	s := load(t, Options{})
	if s.Region() != DefaultRegion {
		t.Errorf("region = %q, want %q", s.Region(), DefaultRegion)
	}
	if s.opts.IAMRate != DefaultIAMRate || s.opts.MaxAttempts != DefaultMaxAttempts {
		t.Errorf("defaults: rate %v attempts %d, want %v and %d", s.opts.IAMRate, s.opts.MaxAttempts, DefaultIAMRate, DefaultMaxAttempts)
	}
	if s.IAM("111122223333") != s.IAM("111122223333") {
		t.Error("IAM returned two clients for one account")
	}
	if s.IAM("111122223333") == s.IAM("444455556666") {
		t.Error("IAM shared a client between accounts")
	}
	if _, err := Load(context.Background(), Options{IAMRate: -1}); err == nil {
		t.Error("Load accepted a negative IAM rate")
	}
}

func TestLoadRegionFromOptions(t *testing.T) {
	s := load(t, Options{Region: "eu-west-1"})
	if s.Region() != "eu-west-1" {
		t.Errorf("region = %q, want eu-west-1", s.Region())
	}
}

func TestCallerIdentityThroughEndpoint(t *testing.T) {
	q := newQueryServer(t, 0)
	s := load(t, Options{Endpoint: q.URL})
	acct, arn, err := s.CallerIdentity(context.Background())
	if err != nil {
		t.Fatalf("CallerIdentity: %v", err)
	}
	if acct != "111122223333" || arn != "arn:aws:iam::111122223333:user/auditor" {
		t.Errorf("CallerIdentity = %q, %q", acct, arn)
	}
	if got := s.Calls()["sts:GetCallerIdentity"]; got != 1 {
		t.Errorf("calls = %v, want sts:GetCallerIdentity 1", s.Calls())
	}
}

// TestRetriesThrottlingAndCountsAttempts: a call throttled more times than
// the SDK's default of 3 attempts still succeeds, and every attempt counts.
func TestRetriesThrottlingAndCountsAttempts(t *testing.T) {
	q := newQueryServer(t, 6)
	s := load(t, Options{Endpoint: q.URL, IAMRate: 1e6})
	if _, err := s.IAM("111122223333").ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("ListAccessKeys after 6 throttles: %v", err)
	}
	if got, want := s.Calls()["iam:ListAccessKeys"], int64(7); got != want {
		t.Errorf("session counted %d attempts, want %d", got, want)
	}
	if got := q.count("ListAccessKeys"); got != 7 {
		t.Errorf("server saw %d attempts, want 7", got)
	}
}

func TestThrottlingPastMaxAttemptsIsExplained(t *testing.T) {
	q := newQueryServer(t, 100)
	s := load(t, Options{Endpoint: q.URL, IAMRate: 1e6, MaxAttempts: 4})
	_, err := s.IAM("111122223333").ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err == nil {
		t.Fatal("ListAccessKeys succeeded against a server that always throttles")
	}
	if got := q.count("ListAccessKeys"); got != 4 {
		t.Errorf("server saw %d attempts, want MaxAttempts 4", got)
	}
	problem, fix := Explain(err)
	if !strings.Contains(problem, "throttling iam:ListAccessKeys") || !strings.Contains(fix, "--iam-rate") {
		t.Errorf("Explain = %q / %q", problem, fix)
	}
}

// TestRetryQuotaNeverRunsOut makes far more throttled retries than the
// SDK's default retry quota allows (500 tokens at 5 a retry: 100 retries);
// every call must still succeed.
func TestRetryQuotaNeverRunsOut(t *testing.T) {
	q := newQueryServer(t, 3)
	s := load(t, Options{Endpoint: q.URL, IAMRate: 1e6})
	c := s.IAM("111122223333")
	const calls = 60 // 180 throttled retries
	for i := range calls {
		if _, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got, want := s.Calls()["iam:ListAccessKeys"], int64(calls*4); got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

// TestRateLimitCoversRetries: the limiter paces every attempt, so calls
// that are each throttled once take at least (attempts-burst)/rate.
func TestRateLimitCoversRetries(t *testing.T) {
	q := newQueryServer(t, 1)
	const rate = 100.0
	s := load(t, Options{Endpoint: q.URL, IAMRate: rate})
	c := s.IAM("111122223333")
	const calls = 20
	start := time.Now()
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if _, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
				t.Errorf("ListAccessKeys: %v", err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	attempts := q.count("ListAccessKeys")
	if attempts != 2*calls {
		t.Fatalf("server saw %d attempts, want %d", attempts, 2*calls)
	}
	burst := int(rate / 10)
	if min := time.Duration(float64(attempts-burst) / rate * float64(time.Second)); elapsed < min*9/10 {
		t.Errorf("%d attempts at %v/s took %v, want at least %v", attempts, rate, elapsed, min)
	}
}

func TestAccountsHaveTheirOwnLimiter(t *testing.T) {
	s := load(t, Options{IAMRate: 10})
	s.IAM("111122223333")
	s.IAM("444455556666")
	if len(s.limiters) != 2 {
		t.Fatalf("limiters = %d, want one per account", len(s.limiters))
	}
	a, b := s.limiters["111122223333/iam"], s.limiters["444455556666/iam"]
	observeWindows(a, 1, adaptWindow)
	if a.rate() >= 10 || b.rate() != 10 {
		t.Errorf("after throttling one account: rates %v and %v, want the other untouched at 10", a.rate(), b.rate())
	}
}
