package awsapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
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

// DefaultOrganizationsRate is the default limit on AWS Organizations calls
// per second. AWS publishes no number; Organizations answers
// TooManyRequestsException under bursts, and then the limiter halves its
// rate. An organization's tree and SCPs take about two calls per OU.
const DefaultOrganizationsRate = 20.0

// DefaultIdentityCenterRate is the default limit on IAM Identity Center
// calls per second: AWS allows 20 for an instance, shared by the Identity
// Store and SSO Admin APIs.
const DefaultIdentityCenterRate = 20.0

// DefaultCloudTrailRate is AWS's limit on CloudTrail LookupEvents: 2 calls
// a second per account and region.
const DefaultCloudTrailRate = 2.0

// DefaultSTSRate is the default limit on STS calls per second made with one
// account's credentials (one sts:AssumeRole per member account).
const DefaultSTSRate = 50.0

// DefaultSessionName is the role session name warden uses when assuming
// roles, so CloudTrail shows its calls as warden's.
const DefaultSessionName = "warden"

// assumedDuration is how long assumed-role credentials are asked for, and
// refreshWindow how long before they expire they are renewed.
const (
	assumedDuration = time.Hour
	refreshWindow   = 5 * time.Minute
)

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
	// RoleARN, when set, is assumed with the credentials of the chain (or
	// Credentials) and its credentials are the session's: a single account
	// reached through a role, with no Organization.
	RoleARN string
	// ExternalID is passed when assuming RoleARN.
	ExternalID string
	// SessionName is the role session name for RoleARN and member roles;
	// "" means DefaultSessionName.
	SessionName string
	// OrganizationsRate is the most AWS Organizations calls a second; 0
	// means DefaultOrganizationsRate.
	OrganizationsRate float64
	// IdentityCenterRate is the most Identity Center calls a second (SSO
	// Admin and Identity Store together); 0 means DefaultIdentityCenterRate.
	IdentityCenterRate float64
	// CloudTrailRate is the most CloudTrail LookupEvents attempts a second
	// for one account and region; 0 means DefaultCloudTrailRate (AWS's
	// limit). Tests against the emulator raise it with the emulator's.
	CloudTrailRate float64
	// MaxAttempts is the most attempts of one call, of any client; 0
	// means DefaultMaxAttempts.
	MaxAttempts int
	// MaxServerErrors is how many attempts of one call may fail with a
	// server or network error before the call fails; 0 means
	// DefaultMaxServerErrors.
	MaxServerErrors int
	// MaxBackoff caps one random wait between two attempts; 0 means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRetryWait caps the waits of one call between its attempts, added
	// up; 0 means DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// Logger receives a debug record of every AWS call (see callMiddleware)
	// and of throttling, and the SDK's own log messages at debug level;
	// nil discards them.
	Logger *slog.Logger
	// Observer, when set, is told of every attempt of every call of the
	// session's clients, throttled and retried ones too (observe.go).
	Observer Observer
}

// Session holds the AWS configuration of a sync and the state its clients
// share: a rate limiter per account and service, and the call counts.
type Session struct {
	cfg     aws.Config
	opts    Options
	policy  retryPolicy
	log     *slog.Logger
	rec     *recorder
	iamWait *waitClock             // time calls waited on the IAM limiters
	caller  atomic.Pointer[string] // the account of the credentials, once known

	mu       sync.Mutex
	limiters map[string]*limiter                // by account + "/" + service
	iam      map[string]*iam.Client             // by account
	members  map[string]aws.CredentialsProvider // by account: assumed-role credentials
	sts      *sts.Client
	org      *organizations.Client
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
	if o.OrganizationsRate < 0 {
		return nil, fmt.Errorf("organizations rate %v calls per second is negative: pass a positive rate, or 0 for the default of %v", o.OrganizationsRate, DefaultOrganizationsRate)
	}
	if o.OrganizationsRate == 0 {
		o.OrganizationsRate = DefaultOrganizationsRate
	}
	if o.IdentityCenterRate < 0 {
		return nil, fmt.Errorf("identity center rate %v calls per second is negative: pass a positive rate, or 0 for the default of %v", o.IdentityCenterRate, DefaultIdentityCenterRate)
	}
	if o.IdentityCenterRate == 0 {
		o.IdentityCenterRate = DefaultIdentityCenterRate
	}
	if o.CloudTrailRate < 0 {
		return nil, fmt.Errorf("CloudTrail rate %v calls per second is negative: pass a positive rate, or 0 for AWS's %v", o.CloudTrailRate, DefaultCloudTrailRate)
	}
	if o.CloudTrailRate == 0 {
		o.CloudTrailRate = DefaultCloudTrailRate
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxServerErrors <= 0 {
		o.MaxServerErrors = DefaultMaxServerErrors
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = DefaultMaxRetryWait
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	})
	loadOpts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient), config.WithLogger(sdkLogger{log})}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.Credentials))
	}
	if staticCredentials(o) {
		// The instance metadata service has nothing to give a caller with
		// credentials of its own; not asking it also keeps its client's
		// warnings ("falling back to IMDSv1") away.
		loadOpts = append(loadOpts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
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
	// Loading needed the buildable client (it applies AWS_CA_BUNDLE to it);
	// the clients made from cfg send through it with buffered bodies.
	cfg.HTTPClient = bufferedBodyClient{next: cfg.HTTPClient}
	if o.SessionName == "" {
		o.SessionName = DefaultSessionName
	}
	s := &Session{
		cfg:  cfg,
		opts: o,
		policy: retryPolicy{maxAttempts: o.MaxAttempts, maxServerErrors: o.MaxServerErrors,
			maxBackoff: o.MaxBackoff, maxRetryWait: o.MaxRetryWait},
		log:      log,
		rec:      &recorder{},
		iamWait:  &waitClock{},
		limiters: make(map[string]*limiter),
		iam:      make(map[string]*iam.Client),
		members:  make(map[string]aws.CredentialsProvider),
	}
	if o.RoleARN != "" {
		// This STS client keeps the chain's credentials to assume the role;
		// every client made afterwards uses the role's.
		base := s.STS()
		s.cfg.Credentials = s.roleCredentials(base, o.RoleARN, o.ExternalID)
		s.sts = nil
	}
	return s, nil
}

// roleCredentials returns cached credentials of roleARN assumed through
// client, renewed refreshWindow before they expire.
func (s *Session) roleCredentials(client *sts.Client, roleARN, externalID string) aws.CredentialsProvider {
	p := stscreds.NewAssumeRoleProvider(client, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = s.opts.SessionName
		o.Duration = assumedDuration
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = refreshWindow })
}

// AssumeMember assumes roleARN in accountID with the session's
// credentials (and externalID, when not empty) and makes every later client
// of that account, such as IAM(accountID), use the role's credentials,
// renewed before they expire. It fails when AWS refuses the role.
func (s *Session) AssumeMember(ctx context.Context, accountID, roleARN, externalID string) error {
	creds := s.roleCredentials(s.STS(), roleARN, externalID)
	if _, err := creds.Retrieve(ctx); err != nil {
		return &AssumeRoleError{AccountID: accountID, RoleARN: roleARN, Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[accountID] = creds
	delete(s.iam, accountID)
	return nil
}

// AssumeRoleError is a member account whose role could not be assumed.
type AssumeRoleError struct {
	AccountID string
	RoleARN   string
	Err       error
}

// Error implements error.
func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("assume role %s in account %s: %v", e.RoleARN, e.AccountID, e.Err)
}

// Unwrap returns the cause.
func (e *AssumeRoleError) Unwrap() error { return e.Err }

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
	mw := &clientMiddleware{account: func() string { return accountID }, lim: s.limiterLocked(accountID, "iam", s.opts.IAMRate, s.iamWait),
		rec: s.rec, log: s.log, obs: s.opts.Observer}
	c := iam.NewFromConfig(s.cfg, func(o *iam.Options) {
		o.Retryer = newRetryer(s.policy)
		o.APIOptions = append(o.APIOptions, mw.apply)
		if creds, ok := s.members[accountID]; ok {
			o.Credentials = creds
		}
	})
	s.iam[accountID] = c
	return c
}

// CloudTrail returns a CloudTrail client for accountID in region, with the
// account's credentials (its member role's after AssumeMember): its calls
// are paced by that account's and region's own limiter at
// Options.CloudTrailRate (LookupEvents' limit is per account and region,
// apart from IAM's), retried by warden's retryer, and counted.
func (s *Session) CloudTrail(accountID, region string) *cloudtrail.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	mw := &clientMiddleware{account: func() string { return accountID }, lim: s.limiterLocked(accountID, "cloudtrail/"+region, s.opts.CloudTrailRate, nil),
		rec: s.rec, log: s.log, obs: s.opts.Observer}
	creds, member := s.members[accountID]
	return cloudtrail.NewFromConfig(s.cfg, func(o *cloudtrail.Options) {
		o.Retryer = newRetryer(s.policy)
		o.APIOptions = append(o.APIOptions, mw.apply)
		o.Region = region
		if member {
			o.Credentials = creds
		}
	})
}

// STS returns the STS client of the session's credentials (the role's when
// Options.RoleARN is set). Its calls are counted, retried as every other
// client's and paced at DefaultSTSRate: one sts:AssumeRole per member
// account.
func (s *Session) STS() *sts.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sts == nil {
		mw := s.sessionMiddlewareLocked("sts", DefaultSTSRate)
		s.sts = sts.NewFromConfig(s.cfg, func(o *sts.Options) {
			o.Retryer = newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, mw.apply)
		})
	}
	return s.sts
}

// Organizations returns the AWS Organizations client of the session's
// credentials, paced at Options.OrganizationsRate and retried like IAM.
func (s *Session) Organizations() *organizations.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org == nil {
		mw := s.sessionMiddlewareLocked("organizations", s.opts.OrganizationsRate)
		s.org = organizations.NewFromConfig(s.cfg, func(o *organizations.Options) {
			o.Retryer = newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, mw.apply)
		})
	}
	return s.org
}

// IdentityCenter returns the SSO Admin and Identity Store clients of the
// session's credentials in region ("" for the session's), sharing one
// limiter: AWS's quota is for the instance, whichever API is called.
func (s *Session) IdentityCenter(region string) (*ssoadmin.Client, *identitystore.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mw := s.sessionMiddlewareLocked("identitycenter", s.opts.IdentityCenterRate)
	sso := ssoadmin.NewFromConfig(s.cfg, func(o *ssoadmin.Options) {
		o.Retryer = newRetryer(s.policy)
		o.APIOptions = append(o.APIOptions, mw.apply)
		if region != "" {
			o.Region = region
		}
	})
	ids := identitystore.NewFromConfig(s.cfg, func(o *identitystore.Options) {
		o.Retryer = newRetryer(s.policy)
		o.APIOptions = append(o.APIOptions, mw.apply)
		if region != "" {
			o.Region = region
		}
	})
	return sso, ids
}

// CallerIdentity returns the account and ARN of the session's credentials
// (the role's, when Options.RoleARN is set).
func (s *Session) CallerIdentity(ctx context.Context) (account, arn string, err error) {
	out, err := s.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("identify the caller with sts:GetCallerIdentity: %w", err)
	}
	account = aws.ToString(out.Account)
	s.caller.Store(&account)
	return account, aws.ToString(out.Arn), nil
}

// Calls returns the calls this session has made so far, attempts included,
// keyed "service:Operation" (for example "iam:ListAccessKeys").
func (s *Session) Calls() map[string]int64 { return s.rec.snapshot() }

// IAMRateWait returns how long, so far, calls of this session waited on
// warden's own IAM rate limit (Options.IAMRate): the wall-clock time during
// which at least one IAM call of any account was held back by its account's
// limiter, overlapping waits counted once. Compared with a sync's duration
// it says how much of the sync the limit set the pace.
func (s *Session) IAMRateWait() time.Duration { return s.iamWait.elapsed() }

// callerAccount is the account of the session's credentials, "" until
// CallerIdentity has found it.
func (s *Session) callerAccount() string {
	if p := s.caller.Load(); p != nil {
		return *p
	}
	return ""
}

// sessionMiddlewareLocked returns the middleware of a client of the
// session's own credentials, paced by the session-wide limiter of service.
// s.mu must be held.
func (s *Session) sessionMiddlewareLocked(service string, perSecond float64) *clientMiddleware {
	return &clientMiddleware{account: s.callerAccount, lim: s.limiterLocked("", service, perSecond, nil), rec: s.rec, log: s.log, obs: s.opts.Observer}
}

// limiterLocked returns the limiter of one account and service, creating it
// at perSecond with its waits counted on clock (nil: not counted). s.mu
// must be held.
func (s *Session) limiterLocked(accountID, service string, perSecond float64, clock *waitClock) *limiter {
	key := accountID + "/" + service
	l, ok := s.limiters[key]
	if !ok {
		l = newLimiter(perSecond, clock)
		s.limiters[key] = l
	}
	return l
}
