package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/awsfake"
)

// fakeAWSAccount is the account fake-aws generates.
const fakeAWSAccount = "123456789012"

func newFakeAWSCmd(a *app) *cobra.Command {
	var (
		listen   string
		users    int
		accounts int
		icUsers  int
		seed     int64
		empty    bool
		ic       bool
		paging   string
		opts     awsfake.Options
	)
	cmd := &cobra.Command{
		Use:   "fake-aws",
		Short: "Run the built-in AWS emulator (IAM, STS, Organizations, CloudTrail) with a generated estate and its activity until interrupted",
		Long: `fake-aws serves the AWS emulator over HTTP with one generated account, or with --accounts N an
AWS Organization of N member accounts besides the management account, or with --empty one account
with nothing in it to build through the API (aws iam create-user, Terraform, …), with --identity-center
as the management account of an organization with IAM Identity Center enabled and empty, and prints the environment
to point warden (or any AWS SDK or the aws CLI) at it. The estate comes with its activity: CloudTrail
events (console and Identity Center sign-ins, role assumptions; every write made through the API adds
one) and IAM last accessed data for every user and role. The credentials it prints are the emulator's
own and work nowhere else. Stop it with Ctrl-C.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if users < 1 {
				return usageError(fmt.Sprintf("--users must be at least 1, got %d", users), "pass --users 300 or leave it out")
			}
			if opts.Latency < 0 {
				return usageError(fmt.Sprintf("--latency must not be negative, got %s", opts.Latency), "pass for example --latency 20ms, or leave it out for none")
			}
			if !(opts.ThrottleFraction >= 0 && opts.ThrottleFraction <= 1) { // false for NaN too
				return usageError(fmt.Sprintf("--throttle-fraction must be between 0 and 1, got %g", opts.ThrottleFraction), "pass for example --throttle-fraction 0.3")
			}
			if icUsers > 0 && accounts == 0 {
				return usageError("--identity-center-users needs --accounts", "pass --accounts 3 --identity-center-users 50")
			}
			if accounts < 0 {
				return usageError(fmt.Sprintf("--accounts must not be negative, got %d", accounts), "pass --accounts 20 for an organization, or leave it out for one account")
			}
			if ic && !empty {
				return usageError("--identity-center goes with --empty (an empty Identity Center to build through the API)",
					"pass --empty --identity-center, or --accounts 3 --identity-center-users 50 for a generated one")
			}
			if err := fakeSCIMFlags(cmd, &opts.SCIM, paging, ic || icUsers > 0); err != nil {
				return err
			}
			opts.Seed = seed
			if empty {
				if accounts > 0 || cmd.Flags().Changed("users") {
					return usageError("--empty serves one account with nothing in it; it does not go with --accounts or --users",
						"pass --empty alone, or leave it out for a generated estate")
				}
				return a.fakeAWS(cmd.Context(), listen, opts, func(srv *awsfake.Server) (awsfake.Credentials, string, error) {
					creds := srv.AddAccount(awsfake.NewAccount(fakeAWSAccount))
					if !ic {
						return creds, "account " + fakeAWSAccount + " (empty: build it through the API)", nil
					}
					// The console's Enable in a standalone account: an
					// organization of all features, then its instance.
					if _, err := srv.CreateOrganization(fakeAWSAccount); err != nil {
						return creds, "", err
					}
					if _, err := srv.EnableIdentityCenter(); err != nil {
						return creds, "", err
					}
					return creds, "account " + fakeAWSAccount + " (empty: build it through the API), the management account of an organization " +
						"with no members and IAM Identity Center enabled with nothing in it\n# sync it with: warden sync --identity-center", nil
				})
			}
			est := estate(fakeAWSAccount, "warden-fake", users, seed)
			if accounts == 0 {
				return a.fakeAWS(cmd.Context(), listen, opts, func(srv *awsfake.Server) (awsfake.Credentials, string, error) {
					return srv.AddAccount(est.Build()), fmt.Sprintf("account %s (%d users, %d groups, %d roles, %d policies, seed %d)",
						est.AccountID, est.Users, est.Groups, est.Roles, est.Policies, est.Seed), nil
				})
			}
			org := awsfake.OrgEstate{Accounts: accounts, SCPs: 4, Seed: seed, ExternalID: fakeAWSExternalID, PerAccount: est}
			if icUsers > 0 {
				org.IdentityCenter = &awsfake.IdentityCenterEstate{Users: icUsers, Groups: max(1, icUsers/10), PermissionSets: 6}
			}
			return a.fakeAWS(cmd.Context(), listen, opts, func(srv *awsfake.Server) (awsfake.Credentials, string, error) {
				hint := "warden sync --organization --member-external-id " + fakeAWSExternalID
				if icUsers > 0 {
					hint += " --identity-center"
				}
				return org.Build().Install(srv), fmt.Sprintf("an organization: management account 111111111111 and %d member accounts "+
					"(%d users each, seed %d, Identity Center users %d); member role %s requires ExternalId %s\n# sync it with: %s",
					accounts, users, seed, icUsers, awsfake.DefaultMemberRoleName, fakeAWSExternalID, hint), nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on (port 0 picks a free one)")
	f.IntVar(&users, "users", demoUsers, "users in the generated account (groups, roles and policies scale with it)")
	f.IntVar(&accounts, "accounts", 0, "serve an organization with this many member accounts (each with --users users)")
	f.IntVar(&icUsers, "identity-center-users", 0, "with --accounts: an Identity Center of this many users (groups and permission sets scale with it)")
	f.BoolVar(&empty, "empty", false, "serve one account with nothing in it, to build through the API")
	f.BoolVar(&ic, "identity-center", false, "with --empty: the account manages an organization with IAM Identity Center enabled, empty")
	f.StringVar(&paging, "scim-paging", "cursor", "SCIM listings page as Identity Center does (cursor) or by RFC 7644 startIndex and count (index)")
	f.IntVar(&opts.SCIM.PageSize, "scim-page-size", 0, "with --scim-paging index: the most resources a page holds whatever count asks (default 100)")
	f.BoolVar(&opts.SCIM.GroupMembers, "scim-group-members", false, "SCIM groups list their members, as most SCIM servers do (Identity Center lists none)")
	f.DurationVar(&opts.SCIM.RetryAfter, "scim-retry-after", 0, "SCIM's 429s (with --throttle-fraction) carry Retry-After of this, in whole seconds rounded up")
	f.Int64Var(&seed, "seed", demoSeed, "seed of the generated account: the same seed gives the same account")
	f.DurationVar(&opts.Latency, "latency", 0, "delay added to every call, e.g. 20ms")
	f.Float64Var(&opts.ThrottleFraction, "throttle-fraction", 0, "fraction of calls answered with a Throttling error (0 to 1)")
	return cmd
}

// fakeAWSExternalID is the ExternalId the member roles of `fake-aws
// --accounts` require. It guards nothing: the emulator is local.
const fakeAWSExternalID = "warden-fake-aws-external-id-0000000000"

// fakeSCIMFlags checks the flags that change the SCIM endpoint from Identity
// Center's behaviour, which only an emulator with Identity Center serves
// (hasIC), and sets them in o.
func fakeSCIMFlags(cmd *cobra.Command, o *awsfake.SCIMOptions, paging string, hasIC bool) error {
	for _, name := range []string{"scim-paging", "scim-page-size", "scim-group-members", "scim-retry-after"} {
		if cmd.Flags().Changed(name) && !hasIC {
			return usageError("--"+name+" changes the SCIM endpoint, which only an emulator with IAM Identity Center serves",
				"add --empty --identity-center, or --accounts 3 --identity-center-users 50")
		}
	}
	switch paging {
	case "cursor":
	case "index":
		o.IndexPaging = true
	default:
		return usageError(fmt.Sprintf("--scim-paging must be cursor or index, got %q", paging),
			"pass --scim-paging index for RFC 7644 startIndex paging, or leave it out for Identity Center's cursor")
	}
	if o.RetryAfter < 0 {
		return usageError(fmt.Sprintf("--scim-retry-after must not be negative, got %s", o.RetryAfter), "pass for example --scim-retry-after 2s, or leave it out for none")
	}
	if cmd.Flags().Changed("scim-page-size") {
		if !o.IndexPaging {
			return usageError("--scim-page-size goes with --scim-paging index (Identity Center's pages hold at most 100)",
				"add --scim-paging index, or leave --scim-page-size out")
		}
		if o.PageSize < 1 {
			return usageError(fmt.Sprintf("--scim-page-size must be at least 1, got %d", o.PageSize), "pass for example --scim-page-size 40")
		}
	}
	return nil
}

// fakeAWS serves an emulator filled by install, which returns the
// credentials to print and a description of what it holds.
func (a *app) fakeAWS(ctx context.Context, listen string, opts awsfake.Options, install func(*awsfake.Server) (awsfake.Credentials, string, error)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := awsfake.NewHandler(opts)
	creds, what, err := install(srv)
	if err != nil {
		return fmt.Errorf("emulator not started: %w", err)
	}
	// The estate's activity: CloudTrail events (sign-ins, role
	// assumptions, and every write made through the API from now on), and
	// IAM last accessed data, which the emulator derives from each
	// principal's policies and last use whenever it is asked.
	events := srv.GenerateActivity()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError(fmt.Sprintf("cannot listen on %s: %v", listen, err), "pass another --listen address, e.g. 127.0.0.1:0 for a free port")
	}
	url := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	fmt.Fprintf(a.stdout, `# AWS emulator at %s for %s
# activity: %d CloudTrail events (LookupEvents, 2 calls a second per account and region) and IAM last accessed
# data for every user and role; read them with a connection's activity: key (lookback: 90d, last_accessed: all)
# These are the emulator's own credentials: they work only against it.
export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
`, url, what, len(events), creds.AccessKeyID, creds.SecretAccessKey)
	if creds.SessionToken != "" {
		fmt.Fprintf(a.stdout, "export AWS_SESSION_TOKEN=%s\n", creds.SessionToken)
	}
	if ic := srv.IdentityCenter(); ic != nil {
		// The emulator's own SCIM endpoint and token, for `warden scim`.
		fmt.Fprintf(a.stdout, "export WARDEN_SCIM_ENDPOINT=%s/%s/scim/v2\nexport WARDEN_SCIM_TOKEN=%s\n", url, ic.SCIMTenant, ic.SCIMToken)
	}
	fmt.Fprintf(a.stdout, `export AWS_REGION=%s
export AWS_ENDPOINT_URL=%s
# then, in that shell: warden sync   (stop the emulator with Ctrl-C)
`, demoRegion, url)

	select {
	case err := <-served:
		return fmt.Errorf("emulator stopped: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Clients still mid-request after the grace period: an emulator
		// stops anyway.
		a.log.Warn("emulator stopped with requests in flight", "err", err)
		hs.Close()
	}
	a.log.Info("emulator stopped", "calls", srv.Calls())
	return nil
}
