package collect

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// sampleReport is a credential report as AWS writes it: the 22 columns, the
// root row with not_supported, N/A for what does not apply, no_information
// for a password never used.
const sampleReport = `user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2024-04-01T10:00:00+00:00,not_supported,not_supported,true,true,2020-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111122223333:user/alice,2021-02-03T04:05:06+00:00,true,no_information,2021-02-03T04:05:06+00:00,N/A,false,true,2021-03-01T00:00:00+00:00,2024-04-30T12:00:00+00:00,eu-west-1,s3,false,2022-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
bob,arn:aws:iam::111122223333:user/ops/bob,2022-01-01T00:00:00+00:00,false,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
`

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParseCredentialReport(t *testing.T) {
	generated := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	rep, err := parseCredentialReport([]byte(sampleReport), generated)
	if err != nil {
		t.Fatal(err)
	}
	want := &credentialReport{
		GeneratedAt: generated,
		Root: &reportRow{User: rootRowName, ARN: "arn:aws:iam::111122223333:root", CreatedAt: at("2020-01-01T00:00:00Z"),
			PasswordLastUsed: at("2024-04-01T10:00:00Z"), MFAActive: true,
			Keys: [2]reportKey{{Active: true, LastRotated: at("2020-02-01T00:00:00Z")}, {}}},
		Users: map[string]*reportRow{
			"alice": {User: "alice", ARN: "arn:aws:iam::111122223333:user/alice", CreatedAt: at("2021-02-03T04:05:06Z"),
				PasswordEnabled: true, PasswordLastChanged: at("2021-02-03T04:05:06Z"),
				Keys: [2]reportKey{
					{Active: true, LastRotated: at("2021-03-01T00:00:00Z"), LastUsed: at("2024-04-30T12:00:00Z"), LastUsedRegion: "eu-west-1", LastUsedService: "s3"},
					{Active: false, LastRotated: at("2022-01-01T00:00:00Z")},
				}},
			"bob": {User: "bob", ARN: "arn:aws:iam::111122223333:user/ops/bob", CreatedAt: at("2022-01-01T00:00:00Z"), MFAActive: true},
		},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("parsed report:\n got %+v\nwant %+v", rep, want)
		for name, row := range rep.Users {
			if !reflect.DeepEqual(row, want.Users[name]) {
				t.Errorf("user %s:\n got %+v\nwant %+v", name, row, want.Users[name])
			}
		}
	}
	if !rep.Users["alice"].hasKeys() {
		t.Error("alice has an active and an inactive key, hasKeys = false")
	}
	if rep.Users["bob"].hasKeys() {
		t.Error("bob has no key, hasKeys = true")
	}
}

func TestParseCredentialReportErrors(t *testing.T) {
	header := strings.SplitN(sampleReport, "\n", 2)[0]
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "header"},
		{"missing column", strings.Replace(sampleReport, "mfa_active", "mfa", 1), `no "mfa_active" column`},
		{"bad time", header + "\nalice,arn,yesterday,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n", "user_creation_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCredentialReport([]byte(tc.content), time.Time{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// reportAPI scripts the credential report calls; the other IAMAPI methods
// are not called by getCredentialReport.
type reportAPI struct {
	IAMAPI
	generate []generateStep
	get      []getStep
	calls    []string
}

type generateStep struct {
	state types.ReportStateType
	err   error
}

type getStep struct {
	content string
	err     error
}

func (r *reportAPI) GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	r.calls = append(r.calls, "Generate")
	if len(r.generate) == 0 {
		return nil, errors.New("unexpected GenerateCredentialReport")
	}
	s := r.generate[0]
	r.generate = r.generate[1:]
	if s.err != nil {
		return nil, s.err
	}
	return &iam.GenerateCredentialReportOutput{State: s.state}, nil
}

func (r *reportAPI) GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	r.calls = append(r.calls, "Get")
	if len(r.get) == 0 {
		return nil, errors.New("unexpected GetCredentialReport")
	}
	s := r.get[0]
	r.get = r.get[1:]
	if s.err != nil {
		return nil, s.err
	}
	return &iam.GetCredentialReportOutput{Content: []byte(s.content), GeneratedTime: aws.Time(time.Now())}, nil
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func TestGetCredentialReport(t *testing.T) {
	ok := getStep{content: sampleReport}
	tests := []struct {
		name      string
		generate  []generateStep
		get       []getStep
		wantCalls string
		wantErr   string
	}{
		{"fresh report: one Generate, one Get", []generateStep{{state: types.ReportStateTypeComplete}}, []getStep{ok}, "Generate Get", ""},
		{"started, then ready", []generateStep{{state: types.ReportStateTypeStarted}}, []getStep{ok}, "Generate Get", ""},
		{"polls while in progress", []generateStep{{state: types.ReportStateTypeInprogress}},
			[]getStep{{err: apiErr(codeReportInProgress)}, {err: apiErr(codeReportInProgress)}, ok}, "Generate Get Get Get", ""},
		{"expired report is generated again", []generateStep{{state: types.ReportStateTypeComplete}, {state: types.ReportStateTypeStarted}},
			[]getStep{{err: apiErr(codeReportExpired)}, ok}, "Generate Get Generate Get", ""},
		{"gives up on a report that keeps expiring", []generateStep{{state: types.ReportStateTypeComplete}, {state: types.ReportStateTypeComplete}, {state: types.ReportStateTypeComplete}},
			[]getStep{{err: apiErr(codeReportExpired)}, {err: apiErr(codeReportExpired)}, {err: apiErr(codeReportExpired)}}, "Generate Get Generate Get Generate Get", codeReportExpired},
		{"generate refused", []generateStep{{err: apiErr("AccessDenied")}}, nil, "Generate", "AccessDenied"},
		{"get refused", []generateStep{{state: types.ReportStateTypeComplete}}, []getStep{{err: apiErr("AccessDenied")}}, "Generate Get", "AccessDenied"},
		{"wait runs out", []generateStep{{state: types.ReportStateTypeStarted}},
			[]getStep{{err: apiErr(codeReportInProgress)}, {err: apiErr(codeReportInProgress)}, {err: apiErr(codeReportInProgress)}, {err: apiErr(codeReportInProgress)}},
			"Generate Get Get Get", errReportNotReady.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &reportAPI{generate: tc.generate, get: tc.get}
			// Waits of 20, 40 and 80 ms fit in 200 ms, the next 160 ms does
			// not: three polls, then the deadline.
			o := IAMOptions{ReportPoll: 20 * time.Millisecond, ReportWait: 200 * time.Millisecond}.withDefaults()
			rep, err := getCredentialReport(context.Background(), api, o)
			if got := strings.Join(api.calls, " "); got != tc.wantCalls {
				t.Errorf("calls = %q, want %q", got, tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil || rep == nil || rep.Users["alice"] == nil {
					t.Errorf("report = %v, err = %v; want alice's report", rep, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestGetCredentialReportStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	api := &reportAPI{generate: []generateStep{{state: types.ReportStateTypeStarted}}}
	cancel()
	_, err := getCredentialReport(ctx, api, IAMOptions{ReportPoll: time.Hour, ReportWait: 2 * time.Hour}.withDefaults())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
