package awsapi

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// AssetRates are the most calls a second warden makes to each asset
// service, per account and region (AWS's quotas are per account and
// region), at or below AWS's published rates for the read APIs warden
// calls: EC2's Describe* refill 20 a second; KMS's ListKeys and ListGrants
// 100 (DescribeKey, GetKeyPolicy more); Lambda's GetPolicy 100 (ListFunctions,
// one page per 50 functions, 15); Secrets Manager's ListSecrets 100; S3
// thousands. AWS Config is paced at 10 a second (a sync calls it a handful
// of times, one page after another) and S3 Control at 20 (once per
// account). Throttling lowers a limiter's rate for a while
// (limiter.go).
var AssetRates = map[string]float64{"ec2": 20, "s3": 100, "kms": 50, "lambda": 50, "secretsmanager": 50, "config": 10, "s3control": 20}

// AssetClients are the clients of the asset services in one account and
// region, each paced by its own limiter, retried and counted like every
// client of the session.
type AssetClients struct {
	EC2            *ec2.Client
	S3             *s3.Client
	KMS            *kms.Client
	Lambda         *lambda.Client
	SecretsManager *secretsmanager.Client
	// Config reads AWS Config aggregators (the Config source of assets).
	Config *configservice.Client
	// S3Control reads the account-level S3 Block Public Access settings.
	S3Control *s3control.Client
}

// fixedEndpoint resolves every S3 Control call to one custom endpoint
// (warden fake-aws, a test's emulator): S3 Control's own rules would put
// the account ID in front of the host, which has no DNS there; the account
// still goes in the x-amz-account-id header.
type fixedEndpoint struct{ u url.URL }

// ResolveEndpoint implements s3control.EndpointResolverV2.
func (f fixedEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return smithyendpoints.Endpoint{URI: f.u}, nil
}

// Assets returns the asset service clients of accountID in region: the
// member's assumed-role credentials once AssumeMember has run for it, else
// the session's own.
func (s *Session) Assets(accountID, region string) AssetClients {
	s.mu.Lock()
	defer s.mu.Unlock()
	mw := func(service string) *clientMiddleware {
		return &clientMiddleware{account: func() string { return accountID }, lim: s.limiterLocked(accountID, service+"@"+region, AssetRates[service], nil),
			rec: s.rec, log: s.log, obs: s.opts.Observer}
	}
	creds, member := s.members[accountID]
	ec2mw, s3mw, kmsmw, lmw, smmw := mw("ec2"), mw("s3"), mw("kms"), mw("lambda"), mw("secretsmanager")
	cfgmw, s3cmw := mw("config"), mw("s3control")
	return AssetClients{
		EC2: ec2.NewFromConfig(s.cfg, func(o *ec2.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, ec2mw.apply)
			if member {
				o.Credentials = creds
			}
		}),
		S3: s3.NewFromConfig(s.cfg, func(o *s3.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, s3mw.apply)
			// A custom endpoint (warden fake-aws, a test's emulator) has no
			// DNS for BUCKET.host: address it path-style.
			o.UsePathStyle = s.opts.Endpoint != ""
			if member {
				o.Credentials = creds
			}
		}),
		KMS: kms.NewFromConfig(s.cfg, func(o *kms.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, kmsmw.apply)
			if member {
				o.Credentials = creds
			}
		}),
		Lambda: lambda.NewFromConfig(s.cfg, func(o *lambda.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, lmw.apply)
			if member {
				o.Credentials = creds
			}
		}),
		SecretsManager: secretsmanager.NewFromConfig(s.cfg, func(o *secretsmanager.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, smmw.apply)
			if member {
				o.Credentials = creds
			}
		}),
		Config: configservice.NewFromConfig(s.cfg, func(o *configservice.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, cfgmw.apply)
			if member {
				o.Credentials = creds
			}
		}),
		S3Control: s3control.NewFromConfig(s.cfg, func(o *s3control.Options) {
			o.Region, o.Retryer = region, newRetryer(s.policy)
			o.APIOptions = append(o.APIOptions, s3cmw.apply)
			if u, err := url.Parse(s.opts.Endpoint); s.opts.Endpoint != "" && err == nil {
				o.EndpointResolverV2 = fixedEndpoint{u: *u}
			}
			if member {
				o.Credentials = creds
			}
		}),
	}
}
