package awsfake

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// readLastAccessed generates a job for arn with c and reads it to the end
// through the SDK, MaxItems 3 a page: what it answered, converted to the
// ground truth's type, and how many Get calls answered IN_PROGRESS.
func readLastAccessed(t *testing.T, c *iam.Client, arn string, gran iamtypes.AccessAdvisorUsageGranularityType) ([]ServiceAccess, int) {
	t.Helper()
	ctx := context.Background()
	gen, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: gran})
	if err != nil {
		t.Fatalf("Generate %s: %v", arn, err)
	}
	if n := len(aws.ToString(gen.JobId)); n != 36 {
		t.Fatalf("JobId %q has %d characters, AWS's have 36", aws.ToString(gen.JobId), n)
	}
	var out []ServiceAccess
	waits := 0
	in := &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId, MaxItems: aws.Int32(3)}
	for {
		page, err := c.GetServiceLastAccessedDetails(ctx, in)
		if err != nil {
			t.Fatalf("Get %s: %v", arn, err)
		}
		if page.JobStatus == iamtypes.JobStatusTypeInProgress {
			if page.JobCompletionDate != nil || len(page.ServicesLastAccessed) != 0 {
				t.Fatalf("an IN_PROGRESS job answered a completion date or services: %+v", page)
			}
			waits++
			continue
		}
		if page.JobStatus != iamtypes.JobStatusTypeCompleted || page.JobCompletionDate == nil || page.JobType != gran {
			t.Fatalf("job answered status %s, type %s, completion %v", page.JobStatus, page.JobType, page.JobCompletionDate)
		}
		for _, s := range page.ServicesLastAccessed {
			sa := ServiceAccess{Namespace: aws.ToString(s.ServiceNamespace), Name: aws.ToString(s.ServiceName),
				Entity: aws.ToString(s.LastAuthenticatedEntity), Region: aws.ToString(s.LastAuthenticatedRegion), TotalEntities: int(aws.ToInt32(s.TotalAuthenticatedEntities))}
			if s.LastAuthenticated != nil {
				tt := s.LastAuthenticated.UTC()
				sa.LastAuthenticated = &tt
			}
			for _, a := range s.TrackedActionsLastAccessed {
				aa := ActionAccess{Name: aws.ToString(a.ActionName), Entity: aws.ToString(a.LastAccessedEntity), Region: aws.ToString(a.LastAccessedRegion)}
				if a.LastAccessedTime != nil {
					tt := a.LastAccessedTime.UTC()
					aa.LastAccessed = &tt
				}
				sa.Actions = append(sa.Actions, aa)
			}
			out = append(out, sa)
		}
		if !page.IsTruncated {
			return out, waits
		}
		in.Marker = page.Marker
	}
}

// TestLastAccessedGroundTruth reads every user's, role's and group's last
// accessed data through the SDK, at both levels and in pages, and finds
// exactly the ground truth; the estate has used and unused services, and
// action-level data only where AWS tracks actions.
func TestLastAccessedGroundTruth(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	a := Estate{AccountID: "123456789012", Users: 12, Groups: 3, Roles: 6, Policies: 4, Seed: 7}.Build()
	c := iamClient(srv, srv.AddAccount(a))
	srv.SetLastAccessedPolls(2)
	var arns []string
	for _, u := range a.IAM.Users {
		arns = append(arns, u.ARN)
	}
	for _, r := range a.IAM.Roles {
		arns = append(arns, r.ARN)
	}
	for _, g := range a.IAM.Groups {
		arns = append(arns, g.ARN)
	}
	used, unused, tracked := 0, 0, 0
	for _, arn := range arns {
		for _, gran := range []iamtypes.AccessAdvisorUsageGranularityType{iamtypes.AccessAdvisorUsageGranularityTypeServiceLevel, iamtypes.AccessAdvisorUsageGranularityTypeActionLevel} {
			got, waits := readLastAccessed(t, c, arn, gran)
			if waits != 2 {
				t.Errorf("%s: %d IN_PROGRESS answers, want 2", arn, waits)
			}
			want, ok := srv.LastAccessed("123456789012", arn, gran == iamtypes.AccessAdvisorUsageGranularityTypeActionLevel)
			if !ok {
				t.Fatalf("no ground truth for %s", arn)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %s:\n got %+v\nwant %+v", arn, gran, got, want)
			}
			for _, s := range got {
				switch {
				case s.LastAuthenticated != nil:
					used++
				default:
					unused++
				}
				if len(s.Actions) > 0 {
					tracked++
					if s.Namespace != "s3" && s.Namespace != "ec2" && s.Namespace != "iam" && s.Namespace != "lambda" {
						t.Errorf("%s: tracked actions for %s, which AWS tracks at service level only", arn, s.Namespace)
					}
					if gran == iamtypes.AccessAdvisorUsageGranularityTypeServiceLevel {
						t.Errorf("%s: tracked actions in a SERVICE_LEVEL job", arn)
					}
				}
			}
		}
	}
	if used == 0 || unused == 0 || tracked == 0 {
		t.Fatalf("estate's data has %d used, %d unused services, %d with tracked actions: want some of each", used, unused, tracked)
	}
	// Deterministic: another server over the same estate answers the same.
	other := NewServer(Options{})
	defer other.Close()
	other.AddAccount(a)
	for _, arn := range arns {
		x, _ := srv.LastAccessed("123456789012", arn, true)
		y, _ := other.LastAccessed("123456789012", arn, true)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("%s: two servers over one estate disagree", arn)
		}
	}
}

// TestLastAccessedConsistentWithEstate checks the data against the
// principals' own activity: a role never used used nothing, and no service
// was used after its principal's last activity.
func TestLastAccessedConsistentWithEstate(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	a := Estate{AccountID: "123456789012", Users: 10, Roles: 10, Policies: 4, Seed: 3}.Build()
	srv.AddAccount(a)
	for _, r := range a.IAM.Roles {
		got, _ := srv.LastAccessed(a.ID, r.ARN, true)
		for _, s := range got {
			if s.LastAuthenticated != nil && (r.LastUsed == nil || s.LastAuthenticated.After(*r.LastUsed)) {
				t.Errorf("role %s (last used %v) used %s at %v", r.Name, r.LastUsed, s.Namespace, s.LastAuthenticated)
			}
			if s.LastAuthenticated != nil && (s.Entity != r.ARN || s.TotalEntities != 1) {
				t.Errorf("role %s: %s last used by %s (%d entities)", r.Name, s.Namespace, s.Entity, s.TotalEntities)
			}
		}
	}
	// A role granted nothing has no services; "*" grants the catalogue.
	role := &Role{Name: "all", ARN: "arn:aws:iam::123456789012:role/all", InlinePolicies: map[string]string{
		"admin": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`}}
	bare := &Role{Name: "bare", ARN: "arn:aws:iam::123456789012:role/bare"}
	srv2 := NewServer(Options{})
	defer srv2.Close()
	srv2.AddAccount(accountWithRoles("123456789012", role, bare))
	if got, _ := srv2.LastAccessed("123456789012", role.ARN, false); len(got) != len(LastAccessedCatalog) {
		t.Errorf(`"*" grants %d services, want the catalogue's %d`, len(got), len(LastAccessedCatalog))
	}
	if got, ok := srv2.LastAccessed("123456789012", bare.ARN, false); !ok || len(got) != 0 {
		t.Errorf("a role with no policy: %v, %v; want no services", got, ok)
	}
}

// TestLastAccessedJobBoundToSession: a JobId read by another caller, or by
// the same role in another session, is refused with NoSuchEntity; the
// session that created it reads it.
func TestLastAccessedJobBoundToSession(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(Options{})
	defer srv.Close()
	reader := trustRole("123456789012", "/", "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, 3600)
	admin := srv.AddAccount(accountWithRoles("123456789012", reader))
	adminIAM := iamClient(srv, admin)
	stsc := sts.NewFromConfig(sdkConfig(srv, admin))
	session := func(name string) *iam.Client {
		out, err := assume(ctx, stsc, reader.ARN, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		cr := out.Credentials
		return iamClient(srv, Credentials{AccessKeyID: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretAccessKey), SessionToken: aws.ToString(cr.SessionToken)})
	}
	one, two, sameName := session("one"), session("two"), session("one")
	gen, err := one.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(reader.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*iam.Client{"the admin user": adminIAM, "another session": two, "a new session of the same name": sameName} {
		_, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId})
		if apiCode(err) != "NoSuchEntity" {
			t.Errorf("%s read the job: err = %v, want NoSuchEntity", name, err)
		}
	}
	if _, err := one.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId}); err != nil {
		t.Errorf("the session that created the job: %v", err)
	}
	// And a user's job is the user's, in any call.
	gen, err = adminIAM.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(reader.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("a role session read a user's job: %v", err)
	}
	if _, err := adminIAM.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId}); err != nil {
		t.Errorf("the user who created the job: %v", err)
	}
}

// TestLastAccessedErrors: an entity that does not exist, a malformed ARN,
// a granularity AWS does not have, an unknown JobId, bad paging.
func TestLastAccessedErrors(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(Options{Now: func() time.Time { return defaultEstateNow }})
	defer srv.Close()
	c := iamClient(srv, srv.AddAccount(Estate{AccountID: "123456789012", Users: 1, Seed: 1}.Build()))
	cases := []struct {
		arn, gran, code string
	}{
		{"arn:aws:iam::123456789012:role/nobody", "", "NoSuchEntity"},
		{"arn:aws:iam::123456789012:user/nobody", "ACTION_LEVEL", "NoSuchEntity"},
		{"not-an-arn", "", "InvalidInput"},
		{"arn:aws:iam::123456789012:user/warden-admin", "PER_CALL", "ValidationError"},
	}
	for _, tc := range cases {
		_, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(tc.arn), Granularity: iamtypes.AccessAdvisorUsageGranularityType(tc.gran)})
		if apiCode(err) != tc.code {
			t.Errorf("Generate %s %s: err = %v, want %s", tc.arn, tc.gran, err, tc.code)
		}
	}
	if _, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("unknown JobId: %v", err)
	}
	if _, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("short")}); apiCode(err) != "ValidationError" {
		t.Errorf("a JobId of 5 characters: %v", err)
	}
}
