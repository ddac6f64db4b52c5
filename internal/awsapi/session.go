package awsapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultRegion is used when neither the options nor the SDK's chain name a
// region. IAM and STS's global endpoint live there.
const DefaultRegion = "us-east-1"

// DefaultIAMRate is the default limit on IAM calls per second for one
// account. AWS publishes no IAM read quotas; tools in the field run 15 to 40
// calls a second per account, and 20 stays clear of throttling in practice
// while reading an account of thousands of entities in seconds (warden reads
// whole accounts in a few pages).
const DefaultIAMRate = 20.0

// maxIdleConnsPerHost keeps a connection for every concurrent caller, so the
// per-user calls of a sync reuse connections instead of opening new ones.
const maxIdleConnsPerHost = 64

// Options configure a Session. The zero value uses the SDK's standard chain
// and warden's defaults.
type Options struct {
	// Region is the AWS region; default the chain's (AWS_REGION, the
	// profile), else DefaultRegion.
	Region string
	// Endpoint overrides the endpoint of every service, for example the
	// URL of `warden fake-aws`. The SDK also honours AWS_ENDPOINT_URL.
	Endpoint string
	// Profile names a profile of the shared config files (default
	// AWS_PROFILE, else "default").
	Profile string
	// Credentials, when set, replaces the standard chain (environment,
	// shared files, SSO, web identity, container and instance roles).
	Credentials aws.CredentialsProvider
	// IAMRate is the most IAM calls a second made for one account, retries
	// included; 0 means DefaultIAMRate. Throttling lowers the actual rate
	// temporarily.
	IAMRate float64
	// MaxAttempts is how many times an IAM call is tried; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the random wait between two attempts; 0 means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Logger receives debug records of throttling; nil discards them.
	Logger *slog.Logger
}

// Session holds the AWS configuration of a sync and the state its clients
// share: a rate limiter per account and service, and the call counts.
type Session struct {
	cfg  aws.Config
	opts Options
	log  *slog.Logger
	rec  *recorder

	mu       sync.Mutex
	limiters map[string]*limiter    // by account + "/" + service
	iam      map[string]*iam.Client // by account
	sts      *sts.Client
}

// Load resolves configuration and credentials as the AWS CLI does, applying
// o on top, and returns a Session. Credentials are only fetched by the first
// call, so a missing credential shows up as that call's error (see Explain).
func Load(ctx context.Context, o Options) (*Session, error) {
	if o.IAMRate < 0 {
		return nil, fmt.Errorf("IAM rate %v calls per second is negative: pass a positive rate, or 0 for the default of %v", o.IAMRate, DefaultIAMRate)
	}
	if o.IAMRate == 0 {
		o.IAMRate = DefaultIAMRate
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	})
	loadOpts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.Endpoint != "" {
		loadOpts = append(loadOpts, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return &Session{
		cfg:      cfg,
		opts:     o,
		log:      log,
		rec:      &recorder{},
		limiters: make(map[string]*limiter),
		iam:      make(map[string]*iam.Client),
	}, nil
}

// Region returns the session's region.
func (s *Session) Region() string { return s.cfg.Region }

// IAM returns the IAM client for accountID: its calls are paced by that
// account's IAM limiter, retried by warden's retryer, and counted.
func (s *Session) IAM(accountID string) *iam.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.iam[accountID]; ok {
		return c
	}
	lim := s.limiterLocked(accountID, "iam", s.opts.IAMRate)
	mw := &attemptMiddleware{account: accountID, lim: lim, rec: s.rec, log: s.log}
	c := iam.NewFromConfig(s.cfg, func(o *iam.Options) {
		o.Retryer = newRetryer(s.opts.MaxAttempts, s.opts.MaxBackoff)
		o.APIOptions = append(o.APIOptions, addAttemptMiddleware(mw))
	})
	s.iam[accountID] = c
	return c
}

// STS returns the STS client of the session's own credentials. Its calls
// are counted and retried, but not rate limited: a sync makes one.
func (s *Session) STS() *sts.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sts == nil {
		mw := &attemptMiddleware{rec: s.rec, log: s.log}
		s.sts = sts.NewFromConfig(s.cfg, func(o *sts.Options) {
			o.Retryer = newRetryer(stsMaxAttempts, s.opts.MaxBackoff)
			o.APIOptions = append(o.APIOptions, addAttemptMiddleware(mw))
		})
	}
	return s.sts
}

// CallerIdentity returns the account and ARN of the session's credentials.
func (s *Session) CallerIdentity(ctx context.Context) (account, arn string, err error) {
	out, err := s.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("identify the caller with sts:GetCallerIdentity: %w", err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), nil
}

// Calls returns the calls this session has made so far, attempts included,
// keyed "service:Operation" (for example "iam:ListAccessKeys").
func (s *Session) Calls() map[string]int64 { return s.rec.snapshot() }

// limiterLocked returns the limiter of one account and service, creating it
// at perSecond. s.mu must be held.
func (s *Session) limiterLocked(accountID, service string, perSecond float64) *limiter {
	key := accountID + "/" + service
	l, ok := s.limiters[key]
	if !ok {
		l = newLimiter(perSecond)
		s.limiters[key] = l
	}
	return l
}
