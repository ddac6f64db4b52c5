package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/scimsync"
)

// scimFlags name the SCIM endpoint and where its token is.
type scimFlags struct {
	flag      string // the endpoint's flag name, for messages
	endpoint  string
	envName   string // environment variable read when the flag is not given; "" for none
	tokenEnv  string
	tokenFile string
}

func (f *scimFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	f.flag, f.envName = "--endpoint", "WARDEN_SCIM_ENDPOINT"
	fl.StringVar(&f.endpoint, "endpoint", "", "Identity Center's SCIM endpoint, https://scim.<region>.amazonaws.com/<tenant>/scim/v2 (default: WARDEN_SCIM_ENDPOINT)")
	fl.StringVar(&f.tokenEnv, "token-env", "WARDEN_SCIM_TOKEN", "environment variable holding the SCIM access token")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the SCIM access token (instead of --token-env)")
}

// client builds the SCIM client; the token is never printed.
func (f *scimFlags) client() (*scim.Client, error) {
	if f.endpoint == "" && f.envName != "" {
		f.endpoint = os.Getenv(f.envName) // as fake-aws exports it
	}
	if f.endpoint == "" {
		return nil, usageError("no --endpoint", "give --endpoint (or export WARDEN_SCIM_ENDPOINT) the SCIM endpoint shown under Settings → Automatic provisioning in the Identity Center console")
	}
	// The rule warden.yaml applies: https, or http only to this machine.
	if msg := scim.EndpointProblem(f.endpoint); msg != "" {
		return nil, usageError(f.flag+" "+msg, "give the https:// SCIM endpoint shown under Settings → Automatic provisioning (plain http only to localhost, e.g. warden fake-aws)")
	}
	token := strings.TrimSpace(os.Getenv(f.tokenEnv))
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, usageError(fmt.Sprintf("read --token-file: %v", err), "check the path and its permissions")
		}
		token = strings.TrimSpace(string(b))
	}
	c, err := scim.New(f.endpoint, token, nil)
	if err != nil {
		return nil, usageError(err.Error(), "export "+f.tokenEnv+" with the access token, or pass --token-file")
	}
	return c, nil
}

func newSCIMCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scim",
		Short: "Push people and groups into IAM Identity Center through its SCIM endpoint",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSCIMTestCmd(a), newSCIMPushCmd(a))
	return cmd
}

// scimTestResult is the JSON document of `scim test`: every key always
// present (null when unknown).
type scimTestResult struct {
	Endpoint         string   `json:"endpoint"`
	OK               bool     `json:"ok"`
	Status           *int     `json:"status"`             // the HTTP status of a refusal, null when none was answered or on success
	ElapsedMS        int64    `json:"elapsed_ms"`         // how long the request took
	ClockSkewSeconds *float64 `json:"clock_skew_seconds"` // this machine's clock minus the endpoint's (Date header), null when unknown
	Problem          *string  `json:"problem"`
	Fix              *string  `json:"fix"`
}

func newSCIMTestCmd(a *app) *cobra.Command {
	f := &scimFlags{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Make one harmless authenticated SCIM call and report success or the exact problem",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			c.MaxAttempts = 1
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err = c.ListUsers(ctx, `userName eq "warden-connection-test"`, func(scim.User) {})
			res := scimTestResult{Endpoint: f.endpoint, OK: err == nil, ElapsedMS: time.Since(start).Milliseconds()}
			if st := c.ServerTime(); !st.IsZero() {
				skew := time.Since(st)
				secs := skew.Round(time.Second).Seconds()
				res.ClockSkewSeconds = &secs
				if skew > 5*time.Minute || skew < -5*time.Minute {
					fmt.Fprintf(a.stderr, "warning: this machine's clock differs from the endpoint's by %s; fix the clock (NTP), since TLS and tokens depend on it\n", skew.Round(time.Second))
				}
			}
			var problem error
			if err != nil {
				problem = scimProblem(err)
				var se *scim.Error
				if errors.As(err, &se) {
					res.Status = &se.Status
				}
				_, p, fix := explain(problem)
				res.Problem, res.Fix = &p, &fix
			}
			if a.format == render.FormatJSON {
				if err := render.JSON(a.stdout, res); err != nil {
					return err
				}
			} else if problem == nil {
				fmt.Fprintf(a.stdout, "SCIM endpoint %s answered an authenticated request in %dms: the token and tenant are right.\n",
					f.endpoint, res.ElapsedMS)
			}
			return problem
		},
	}
	f.register(cmd)
	return cmd
}

// scimProblem names what a failed SCIM call says about the setup.
func scimProblem(err error) error {
	var se *scim.Error
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case errors.As(err, &se) && se.Status == 401:
		return &cliError{code: exitAuth, problem: "the SCIM endpoint refused the token (401): the token is wrong or expired, or the URL's tenant id is not the token's",
			fix: "generate a new access token under Settings → Automatic provisioning, and copy the endpoint from the same page", err: err}
	case errors.As(err, &se) && se.Status == 403:
		return &cliError{code: exitAuth, problem: "the SCIM endpoint denied the request (403): " + se.Detail,
			fix: "check that automatic provisioning is enabled for this Identity Center instance", err: err}
	case errors.As(err, &dnsErr):
		return &cliError{code: exitError, problem: "cannot resolve the SCIM endpoint's host: " + dnsErr.Name, fix: "check the --endpoint URL (scim.<region>.amazonaws.com)", err: err}
	case errors.As(err, &urlErr) && strings.Contains(err.Error(), "x509"):
		return &cliError{code: exitError, problem: "TLS failed: " + err.Error(),
			fix: "check the machine's clock and CA bundle (AWS_CA_BUNDLE, SSL_CERT_FILE) and any intercepting proxy", err: err}
	}
	// Not the network and not the server's answer: what warden was given.
	return fallbackError(err, "check --endpoint and the network", "correct the source or the flag the message names; `warden scim push --help` describes both")
}

// maxSCIMRate is the most --rate accepts: far above any SCIM endpoint's
// limit, and a typo such as 1e9 is refused rather than obeyed.
const maxSCIMRate = 1000

func newSCIMPushCmd(a *app) *cobra.Command {
	f := &scimFlags{}
	var (
		source, leavers, maxLeavers string
		from                        scimFlags
		groups, mapping             []string
		dryRun, yes                 bool
		rate                        float64
	)
	cmd := &cobra.Command{
		Use:   "push --source FILE",
		Short: "Reconcile Identity Center with a source of people and groups (CSV or JSON)",
		Long: `push reads the source (CSV with a header row, groups separated by ";"; or JSON, a list of people with
a "groups" list), maps its fields to SCIM attributes, validates every row (duplicate user names or
external ids, missing required names, malformed e-mails are reported with their rows before any
write), then reads Identity Center once, plans every write, and writes only the differences:
missing users and groups created, changed attributes patched (added, replaced or removed),
memberships added and removed (at most 100 changes a request), and people no longer in scope
deactivated (active=false; reactivated if they return) or deleted.
Only people this database has pushed to the endpoint before can become leavers: users created by
hand or by another provisioner are never deactivated or deleted. A push that would deactivate or
delete more than 10% of the people this database pushed (and more than 5) stops before any write;
--max-leavers N or P% allows it. A group member warden cannot match to a user it read is reported,
never removed. A second run with no source change writes nothing. --dry-run makes the same plan
and writes nothing, so its report is the real run's.
The report is printed and every write goes to the audit log; a 401 or 403 stops the push at once.

Default mapping (attribute=field): externalId=external_id, userName=user_name,
displayName=display_name (else given and family name), name.givenName=given_name,
name.familyName=family_name, emails=email, active=active, title=title, department=department.
--map attribute=field changes one.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if (source == "") == (from.endpoint == "") {
				return usageError("name one source: --source FILE, or --source-endpoint URL (another SCIM server)", "pass --source people.csv (or .json)")
			}
			if cmd.Flags().Changed("rate") && !(rate > 0 && rate <= maxSCIMRate) {
				return usageError(fmt.Sprintf("--rate %v is not a number of requests a second above 0 and at most %d", rate, maxSCIMRate),
					"pass --rate 20 (the default), or leave it out")
			}
			limit := scimsync.DefaultLeaverLimit
			if cmd.Flags().Changed("max-leavers") {
				var err error
				if limit, err = scimsync.ParseLeaverLimit(maxLeavers); err != nil {
					return usageError(err.Error(), "write --max-leavers 25 (people) or --max-leavers 30% (of the people this database pushed)")
				}
			}
			var err error
			m := scimsync.DefaultMapping()
			for _, kv := range mapping {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return usageError(fmt.Sprintf("--map %q is not attribute=field", kv), "write --map userName=email")
				}
				m[k] = v
			}
			policy := scimsync.LeaverPolicy(leavers)
			if policy != scimsync.Deactivate && policy != scimsync.Delete {
				return usageError(fmt.Sprintf("--leavers %q is not a leaver policy", leavers), "use --leavers deactivate (the default) or --leavers delete")
			}
			if policy == scimsync.Delete && !dryRun && !yes {
				return usageError("--leavers delete deletes users", "check with --dry-run first, then pass --yes")
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			if rate > 0 {
				c.SetRate(rate)
			}
			var src *scimsync.Source
			if source != "" {
				if src, err = scimsync.LoadSource(source); err != nil {
					return usageError(err.Error(), "check the source file's format (see `warden scim push --help`)")
				}
			} else {
				sc, err := from.client()
				if err != nil {
					return err
				}
				if src, err = scimsync.LoadSCIMSource(ctx, sc); err != nil {
					return scimProblem(err)
				}
			}
			people, err := scimsync.Map(src, m)
			if err != nil {
				return usageError(err.Error(), "correct the rows named, or the --map flags")
			}
			st, err := a.openStore(ctx, a.dbPath())
			if err != nil {
				return err
			}
			defer st.Close()
			o := scimsync.Options{Groups: groups, Leavers: policy, MaxLeavers: limit, DryRun: dryRun,
				Ledger: scimsync.StoreLedger(st, f.endpoint, a.connection)}
			pr := a.progressReporter()
			if pr != nil {
				o.Progress = func(stage string, done, total int) { pr.Update("scim push", stage, done, total) }
			}
			rep, err := scimsync.Push(ctx, c, people, o)
			if pr != nil {
				pr.Done() // the live line ends before the report
			}
			if rep == nil {
				return scimPushProblem(err)
			}
			if perr := a.print(rep, scimReportTables(rep)...); perr != nil {
				return perr
			}
			switch {
			case err != nil:
				return scimPushProblem(err)
			case len(rep.Failed) > 0:
				return &cliError{code: exitPartial, problem: fmt.Sprintf("%d write(s) failed (listed above); everything else was pushed", len(rep.Failed)),
					fix: "correct the causes, then push again: only what is still different is written"}
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&source, "source", "", "the source file: .csv or .json")
	from.flag = "--source-endpoint"
	fl.StringVar(&from.endpoint, "source-endpoint", "", "read the source from another SCIM 2.0 server instead of a file")
	fl.StringVar(&from.tokenEnv, "source-token-env", "WARDEN_SOURCE_SCIM_TOKEN", "environment variable holding the source SCIM server's token")
	fl.StringSliceVar(&groups, "group", nil, "push only members of these source groups (and these groups); default everyone")
	fl.StringArrayVar(&mapping, "map", nil, "attribute=field, repeatable, over the default mapping")
	fl.StringVar(&leavers, "leavers", "deactivate", "what happens to people no longer in scope: deactivate or delete")
	fl.StringVar(&maxLeavers, "max-leavers", "", "most people one push may deactivate or delete: N, or P% of the people this database pushed (default 10%, at least 5)")
	fl.BoolVar(&dryRun, "dry-run", false, "plan exactly as a real push and write nothing")
	fl.BoolVarP(&yes, "yes", "y", false, "confirm --leavers delete")
	fl.Float64Var(&rate, "rate", 0, fmt.Sprintf("most SCIM requests a second, above 0 and at most %d (default 20)", maxSCIMRate))
	return cmd
}

// scimReportTables lays out a push report.
func scimReportTables(rep *scimsync.Report) []*render.Table {
	title := "SCIM push"
	if rep.DryRun {
		title = "SCIM push (dry run: nothing written)"
	}
	t := &render.Table{Title: title}
	for _, row := range []struct {
		k string
		v int
	}{{"users created", rep.Created}, {"users updated", rep.Updated}, {"users deactivated", rep.Deactivated}, {"users deleted", rep.Deleted},
		{"users unchanged", rep.Unchanged}, {"groups created", rep.GroupsCreated}, {"members added", rep.MembersAdded},
		{"members removed", rep.MembersRemoved}, {"unmatched members kept", len(rep.Unmatched)}, {"write calls", rep.Writes}, {"failed", len(rep.Failed)}} {
		t.Add(row.k, strconv.Itoa(row.v))
	}
	if rep.Stopped != nil {
		t.Add("stopped", *rep.Stopped)
	}
	tables := []*render.Table{t}
	if len(rep.Failed) > 0 {
		ft := &render.Table{Title: "Failed", Header: []string{"WHAT", "REASON"}}
		for _, fl := range rep.Failed {
			ft.Add(fl.What, fl.Reason)
		}
		tables = append(tables, ft)
	}
	if len(rep.Unmatched) > 0 {
		ut := &render.Table{Title: "Members not matched to a user read (kept, not removed)", Header: []string{"GROUP", "MEMBER ID"}}
		for _, u := range rep.Unmatched {
			ut.Add(u.Group, u.Member)
		}
		tables = append(tables, ut)
	}
	return tables
}

// scimPushProblem names what stopped a push.
func scimPushProblem(err error) error {
	var limit *scimsync.LeaverLimitError
	var incomplete *scim.IncompleteError
	var ledger *scimsync.LedgerError
	var input *scimsync.InputError
	switch {
	case errors.Is(err, context.Canceled):
		return &cliError{code: exitError, problem: err.Error(), fix: "push again: only what is still different is written", err: err}
	case errors.As(err, &input):
		return &cliError{code: exitUsage, problem: input.Problem, fix: input.Fix, err: err}
	case errors.As(err, &limit):
		return &cliError{code: exitUsage, problem: err.Error(),
			fix: "check the source (is it cut short?) and --group; if these people did leave, push again with --max-leavers " + strconv.Itoa(limit.Leavers), err: err}
	case errors.As(err, &incomplete):
		return &cliError{code: exitError, problem: err.Error(),
			fix: "push again; if it persists, the endpoint does not page as SCIM defines (cursor, or startIndex with totalResults)", err: err}
	case errors.As(err, &ledger):
		return storeError(err, err.Error(), "check the database file and its disk; push again to finish, only what is still different is written")
	}
	return scimProblem(err)
}
