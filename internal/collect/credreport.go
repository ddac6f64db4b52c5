package collect

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The credential report (https://docs.aws.amazon.com/IAM/latest/UserGuide/
// id_credentials_getting-report.html) is a CSV of 22 columns with one row
// per IAM user and one for the root user, named <root_account>. Columns a
// value does not apply to hold N/A (no password, no key, never used),
// no_information (a password never used, or last used before AWS tracked
// it) or, in the root row, not_supported.

// rootRowName is the user column of the root user's row.
const rootRowName = "<root_account>"

// Cell values that mean "no value".
var noValue = map[string]bool{"N/A": true, "no_information": true, "not_supported": true, "": true}

// reportColumns are the columns warden reads; the report has 22, in this
// order among others (cert_1_active … cert_2_last_rotated, password_next_rotation).
var reportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
}

// credentialReport is a parsed credential report.
type credentialReport struct {
	GeneratedAt time.Time
	Root        *reportRow
	Users       map[string]*reportRow // by user name
}

// reportRow is one user's row.
type reportRow struct {
	User                string
	ARN                 string
	CreatedAt           *time.Time
	PasswordEnabled     bool
	PasswordLastUsed    *time.Time
	PasswordLastChanged *time.Time
	MFAActive           bool
	Keys                [2]reportKey // access_key_1, access_key_2
}

// reportKey is what the report says of one of a user's two access-key
// slots.
type reportKey struct {
	Active          bool
	LastRotated     *time.Time // creation of the key in the slot; nil when the slot is empty
	LastUsed        *time.Time
	LastUsedRegion  string // "" for N/A
	LastUsedService string // "" for N/A
}

// exists reports whether the slot holds a key, active or not.
func (k reportKey) exists() bool { return k.Active || k.LastRotated != nil }

// hasKeys reports whether the report shows the user with any access key.
func (r *reportRow) hasKeys() bool { return r.Keys[0].exists() || r.Keys[1].exists() }

// parseCredentialReport reads the CSV of a credential report. Columns are
// found by name, so a report with more or reordered columns still parses.
func parseCredentialReport(content []byte, generatedAt time.Time) (*credentialReport, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read credential report header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range reportColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("credential report has no %q column (columns: %s)", c, strings.Join(header, ","))
		}
	}
	rep := &credentialReport{GeneratedAt: generatedAt, Users: make(map[string]*reportRow)}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read credential report line %d: %w", line, err)
		}
		row, err := parseReportRow(rec, col)
		if err != nil {
			return nil, fmt.Errorf("credential report line %d: %w", line, err)
		}
		if row.User == rootRowName {
			rep.Root = row
		} else {
			rep.Users[row.User] = row
		}
	}
	return rep, nil
}

// parseReportRow reads one row, given the column index by name.
func parseReportRow(rec []string, col map[string]int) (*reportRow, error) {
	var firstErr error
	cell := func(name string) string {
		if i := col[name]; i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	when := func(name string) *time.Time {
		t, err := parseReportTime(cell(name))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("column %s: %w", name, err)
		}
		return t
	}
	flag := func(name string) bool { return cell(name) == "true" }
	text := func(name string) string {
		if v := cell(name); !noValue[v] {
			return v
		}
		return ""
	}
	row := &reportRow{
		User:                cell("user"),
		ARN:                 cell("arn"),
		CreatedAt:           when("user_creation_time"),
		PasswordEnabled:     flag("password_enabled"),
		PasswordLastUsed:    when("password_last_used"),
		PasswordLastChanged: when("password_last_changed"),
		MFAActive:           flag("mfa_active"),
	}
	for i := range row.Keys {
		p := fmt.Sprintf("access_key_%d_", i+1)
		row.Keys[i] = reportKey{
			Active:          flag(p + "active"),
			LastRotated:     when(p + "last_rotated"),
			LastUsed:        when(p + "last_used_date"),
			LastUsedRegion:  text(p + "last_used_region"),
			LastUsedService: text(p + "last_used_service"),
		}
	}
	if row.User == "" {
		return nil, errors.New("empty user column")
	}
	return row, firstErr
}

// parseReportTime reads an ISO 8601 time of the report ("2024-05-01T10:00:00+00:00"),
// or nil for N/A, no_information and not_supported.
func parseReportTime(v string) (*time.Time, error) {
	if noValue[v] {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("not an ISO 8601 time: %q", v)
	}
	t = t.UTC()
	return &t, nil
}

// Credential report defaults.
const (
	// DefaultReportPoll is the first wait for a report being generated;
	// each later wait doubles, up to maxReportPoll.
	DefaultReportPoll = time.Second
	// DefaultReportWait bounds the whole wait for a report.
	DefaultReportWait = 2 * time.Minute
	maxReportPoll     = 10 * time.Second
	// maxRegenerations bounds how often a report that vanished or expired
	// while being fetched is asked for again.
	maxRegenerations = 2
)

// Credential report error codes (types.CredentialReport*Exception).
const (
	codeReportInProgress = "ReportInProgress"
	codeReportNotPresent = "ReportNotPresent"
	codeReportExpired    = "ReportExpired"
)

// errReportNotReady is returned when the report was still being generated
// when the wait ran out.
var errReportNotReady = errors.New("credential report still being generated")

// getCredentialReport asks AWS for the credential report and returns it
// parsed. GenerateCredentialReport answers COMPLETE at once when AWS holds
// a report under four hours old, so a sync usually needs exactly one
// Generate and one Get; otherwise the report is polled with Get, waiting
// o.ReportPoll, then twice as long each time, within o.ReportWait. A report
// AWS calls expired (or lost) is generated again, at most twice.
func getCredentialReport(ctx context.Context, client IAMAPI, o IAMOptions) (*credentialReport, error) {
	deadline := time.Now().Add(o.ReportWait)
	poll := o.ReportPoll
	regenerations := 0
	needGenerate := true
	ready := false
	for {
		if needGenerate {
			out, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			if err != nil {
				return nil, fmt.Errorf("generate credential report: %w", err)
			}
			needGenerate = false
			ready = out.State == types.ReportStateTypeComplete
		}
		if !ready {
			if err := waitUntil(ctx, deadline, poll); err != nil {
				return nil, err
			}
			poll = min(2*poll, maxReportPoll)
		}
		out, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if err == nil {
			var generated time.Time
			if out.GeneratedTime != nil {
				generated = out.GeneratedTime.UTC()
			}
			return parseCredentialReport(out.Content, generated)
		}
		switch apiErrorCode(err) {
		case codeReportInProgress:
			ready = false
		case codeReportNotPresent, codeReportExpired:
			if regenerations >= maxRegenerations {
				return nil, fmt.Errorf("get credential report after generating it %d times: %w", regenerations+1, err)
			}
			regenerations++
			needGenerate = true
		default:
			return nil, fmt.Errorf("get credential report: %w", err)
		}
	}
}

// waitUntil sleeps d, unless that would pass deadline (errReportNotReady)
// or ctx ends first (its error).
func waitUntil(ctx context.Context, deadline time.Time, d time.Duration) error {
	if time.Now().Add(d).After(deadline) {
		return errReportNotReady
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// apiErrorCode returns the AWS error code in err, or "".
func apiErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
