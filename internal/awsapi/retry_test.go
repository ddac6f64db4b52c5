package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/awsfake"
)

const faultAccount = "123456789012"

// faultSession returns a session with warden's default retry policy (but
// millisecond backoffs) on an emulated account answering with faults o.
func faultSession(t *testing.T, o awsfake.Options) (*Session, *awsfake.Server) {
	t.Helper()
	isolate(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	c := srv.AddAccount(awsfake.Estate{AccountID: faultAccount, Users: 2}.Build())
	srv.SetOptions(o)
	s, err := Load(context.Background(), Options{Endpoint: srv.URL(), IAMRate: 1e6, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// TestPersistentServerErrorIsBounded: a call AWS answers 500 every time,
// read or write, is tried DefaultMaxServerErrors times, not for a minute,
// and its error says so.
func TestPersistentServerErrorIsBounded(t *testing.T) {
	calls := map[string]func(*iam.Client) error{
		"iam:ListUsers": func(c *iam.Client) error {
			_, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
			return err
		},
		"iam:CreateLoginProfile": func(c *iam.Client) error {
			_, err := c.CreateLoginProfile(context.Background(), &iam.CreateLoginProfileInput{UserName: aws.String("user-0001"), Password: aws.String("Sup3r-Secret-Passw0rd!")})
			return err
		},
	}
	for action, call := range calls {
		t.Run(action, func(t *testing.T) {
			s, srv := faultSession(t, awsfake.Options{ErrorRate: 1})
			err := call(s.IAM(faultAccount))
			var ex *RetriesExhaustedError
			if !errors.As(err, &ex) {
				t.Fatalf("error = %v, want a RetriesExhaustedError", err)
			}
			if got := srv.Calls()[action]; got != DefaultMaxServerErrors {
				t.Errorf("emulator saw %d attempts, want %d", got, DefaultMaxServerErrors)
			}
			if ex.Attempts != DefaultMaxServerErrors || ex.Throttled != 0 {
				t.Errorf("error reports %d attempts (%d throttled), want %d (0)", ex.Attempts, ex.Throttled, DefaultMaxServerErrors)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" {
				t.Errorf("error %v does not carry AWS's InternalFailure", err)
			}
			problem, fix := Explain(err)
			if !strings.Contains(problem, action) || !strings.Contains(problem, "InternalFailure (HTTP 500) on each of 4 attempts") || fix == "" {
				t.Errorf("Explain = %q / %q", problem, fix)
			}
			if strings.Contains(err.Error(), "Sup3r-Secret") || strings.Contains(problem, "Sup3r-Secret") {
				t.Error("the password reached the error")
			}
		})
	}
}

// TestPersistentThrottlingIsBounded: a call AWS throttles every time is
// tried DefaultMaxAttempts times, then reported as throttling.
func TestPersistentThrottlingIsBounded(t *testing.T) {
	s, srv := faultSession(t, awsfake.Options{ThrottleFraction: 1})
	_, err := s.IAM(faultAccount).ListUsers(context.Background(), &iam.ListUsersInput{})
	var ex *RetriesExhaustedError
	if !errors.As(err, &ex) || ex.Throttled != DefaultMaxAttempts {
		t.Fatalf("error = %v, want a RetriesExhaustedError of %d throttled attempts", err, DefaultMaxAttempts)
	}
	if got := srv.Calls()["iam:ListUsers"]; got != DefaultMaxAttempts {
		t.Errorf("emulator saw %d attempts, want %d", got, DefaultMaxAttempts)
	}
	if problem, fix := Explain(err); !strings.Contains(problem, "kept throttling iam:ListUsers") || !strings.Contains(fix, "--iam-rate") {
		t.Errorf("Explain = %q / %q", problem, fix)
	}
}

// TestFirstCallGetsTheSamePolicy: sts:GetCallerIdentity, the first call
// of every sync, survives as much throttling as any other call (it once
// had the SDK's 3 attempts and failed syncs at 30% throttling).
func TestFirstCallGetsTheSamePolicy(t *testing.T) {
	q := newQueryServer(t, 6)
	s := load(t, Options{Endpoint: q.URL})
	if _, _, err := s.CallerIdentity(context.Background()); err != nil {
		t.Fatalf("CallerIdentity after 6 throttles: %v", err)
	}
	if got := q.count("GetCallerIdentity"); got != 7 {
		t.Errorf("server saw %d attempts, want 7", got)
	}
}

// TestRetryWaitIsBounded: the waits of one call add up to at most
// maxRetryWait, and once they do the call is not retried again.
func TestRetryWaitIsBounded(t *testing.T) {
	p := retryPolicy{maxAttempts: 1000, maxServerErrors: 1000, maxBackoff: time.Hour, maxRetryWait: 50 * time.Millisecond}
	r := newRetryer(p)
	cs := &callState{}
	throttle := &attemptError{err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, state: cs}
	var waited time.Duration
	retries := 0
	for r.IsErrorRetryable(throttle) {
		d, err := r.RetryDelay(retries+1, throttle)
		if err != nil {
			t.Fatal(err)
		}
		waited += d
		retries++
		cs.attempts++
		cs.throttles++
		if retries > 500 {
			t.Fatal("retried 500 times past a 50ms budget")
		}
	}
	if waited > p.maxRetryWait || cs.waited != waited {
		t.Errorf("waited %v (state %v), want at most %v", waited, cs.waited, p.maxRetryWait)
	}
	if !strings.Contains(cs.exhausted, "backoff") {
		t.Errorf("exhausted = %q, want the backoff bound", cs.exhausted)
	}
}

// TestThrottleBackoffIsShort: after throttling the wait is drawn below
// throttleBase·2^(n-1), capped at throttleCap, far below the backoff of
// other failures.
func TestThrottleBackoffIsShort(t *testing.T) {
	r := newRetryer(retryPolicy{maxAttempts: 100, maxServerErrors: 100, maxBackoff: DefaultMaxBackoff, maxRetryWait: time.Hour})
	cs := &callState{}
	throttle := &attemptError{err: &smithy.GenericAPIError{Code: "Throttling"}, state: cs}
	for n := 1; n <= 20; n++ {
		cs.throttles = n
		d, _ := r.RetryDelay(n, throttle)
		if ceiling := min(throttleCap, throttleBase<<(n-1)); d >= ceiling {
			t.Errorf("throttle %d: waited %v, want under %v", n, d, ceiling)
		}
	}
}
