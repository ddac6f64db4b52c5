package collect

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/warden-iam/warden/internal/model"
)

// CloudTrail management events answer "is this access still used?": who
// signed in, who assumed which role, who changed what. ReadActivity reads
// them through LookupEvents, incrementally: each read starts at the cursor
// of its account and region (the time and IDs of the newest event already
// read) and skips what it read before, so calls are proportional to the
// new events, not to principals.

// LookupEventsRate is AWS's LookupEvents limit: 2 calls a second per
// account and region.
const LookupEventsRate = 2

// MaxLookback is how far back CloudTrail's event history goes.
const MaxLookback = 90 * 24 * time.Hour

// SettleWindow is how late CloudTrail may deliver an event to its event
// history after the call (AWS delivers most within minutes and guarantees
// no time). A read's cursor never moves past now - SettleWindow: the next
// read looks at the last SettleWindow again, skipping the events it
// already read by ID, so an event delivered late is still read once.
const SettleWindow = 15 * time.Minute

// DefaultLookback is how far back the first read of a region looks.
const DefaultLookback = 7 * 24 * time.Hour

// CloudTrailAPI is the part of the CloudTrail client ReadActivity uses.
type CloudTrailAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// ActivityEvent is one management event as warden keeps it.
type ActivityEvent struct {
	ID      string    `json:"id"`
	Account string    `json:"account"` // the account whose history holds it
	Region  string    `json:"region"`
	Time    time.Time `json:"time"`
	Name    string    `json:"name"`   // ConsoleLogin, AssumeRole, CreateUser, …
	Source  string    `json:"source"` // signin.amazonaws.com, …
	// ActorType, ActorARN and ActorAccount are the event's userIdentity.
	ActorType    string `json:"actor_type"`
	ActorARN     string `json:"actor_arn"`
	ActorAccount string `json:"actor_account"`
	Username     string `json:"username"`
	// RoleARN is the role assumed, for AssumeRole*; Resources the event's
	// resources' names.
	RoleARN   string   `json:"role_arn,omitempty"`
	Resources []string `json:"resources,omitempty"`
	ReadOnly  bool     `json:"read_only"`
	// SourceIP is where the call came from (sourceIPAddress: an address,
	// or an AWS service's name).
	SourceIP string `json:"source_ip,omitempty"`
	// OnBehalfOf is the Identity Center user ID the event was made for
	// (userIdentity.onBehalfOf.userId of an IdentityCenterUser identity,
	// as sign-in events record it), "" for others.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// Failed is true for a sign-in step that failed: a ConsoleLogin whose
	// responseElements say Failure, or a sign-in event whose
	// serviceEventDetails do (an Identity Center CredentialVerification
	// with a wrong password).
	Failed bool `json:"failed,omitempty"`
	// Params are the event's requestParameters that are strings
	// (userName, groupName, policyArn, permissionSetArn, …): what a
	// change acted on, to match it with a diff's rows.
	Params map[string]string `json:"params,omitempty"`
}

// Cursor is where the next read of one account's and region's history
// starts: the second of the newest event read, or now - SettleWindow when
// that is earlier, and the IDs of the events read at or after it
// (CloudTrail's times have second precision, so the next read starts at
// that second and skips them).
type Cursor struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Last    time.Time `json:"last"`
	LastIDs []string  `json:"last_ids"`
}

// Limiters hands out one LookupEvents limiter per account and region,
// separate from IAM's.
type Limiters struct {
	mu   sync.Mutex
	rate float64
	m    map[string]*rate.Limiter
}

// NewLimiters returns limiters of perSecond calls a second (0: AWS's 2).
func NewLimiters(perSecond float64) *Limiters {
	if perSecond <= 0 {
		perSecond = LookupEventsRate
	}
	return &Limiters{rate: perSecond, m: map[string]*rate.Limiter{}}
}

// For returns the limiter of an account and region.
func (l *Limiters) For(account, region string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := account + "/" + region
	if l.m[k] == nil {
		l.m[k] = rate.NewLimiter(rate.Limit(l.rate), max(1, int(l.rate)))
	}
	return l.m[k]
}

// ActivitySummary is what a sync read of activity.
type ActivitySummary struct {
	// AccountRegions is how many account and region histories were read.
	AccountRegions int `json:"account_regions"`
	// Events is how many events were read; New how many of them the
	// store did not hold yet (a read from the cursor reads none twice, so
	// they are equal unless a failed read is retried).
	Events int `json:"events"`
	New    int `json:"new"`
	// Calls is how many LookupEvents calls were made.
	Calls int `json:"calls"`
	// Failed is how many account and region histories could not be read
	// whole (each is a partial failure of the snapshot).
	Failed int `json:"failed"`
	// LastAccessed is what the sync read of IAM last accessed data
	// (lastaccessed.go); absent when the connection asks for none.
	LastAccessed *LastAccessedSummary `json:"last_accessed,omitempty"`
}

// ActivityRead is the result of reading one account's and region's
// history.
type ActivityRead struct {
	Events []ActivityEvent // oldest first
	Cursor Cursor
	Calls  int
	Errors []model.SourceError
}

// ReadActivity reads the events of one account and region after cursor
// (the zero cursor: the last lookback, at most 90 days). A refused or
// throttled read is recorded as a partial failure with its fix, and the
// cursor stays where it was, so the next sync reads those events; the
// events read before the failure are returned but do not move the cursor.
func ReadActivity(ctx context.Context, client CloudTrailAPI, lim *rate.Limiter, account, region string, cursor Cursor, lookback time.Duration, now time.Time) ActivityRead {
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	lookback = min(lookback, MaxLookback)
	start := now.Add(-lookback)
	if !cursor.Last.IsZero() && cursor.Last.After(start) {
		start = cursor.Last
	}
	seen := map[string]bool{}
	for _, id := range cursor.LastIDs {
		seen[id] = true
	}
	out := ActivityRead{Cursor: cursor}
	out.Cursor.Account, out.Cursor.Region = account, region
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(start), EndTime: aws.Time(now), MaxResults: aws.Int32(50)}
	var evs []ActivityEvent
	times := map[string]time.Time{} // every event returned, read before or not
	newest := time.Time{}
	for {
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				out.Errors = append(out.Errors, partFailure(account, "cloudtrail", "LookupEvents in "+region, err, "activity of this region not read"))
				return out
			}
		}
		out.Calls++
		page, err := client.LookupEvents(ctx, in)
		if err != nil {
			out.Errors = append(out.Errors, cloudTrailFailure(account, region, err))
			out.Events = sortEvents(evs)
			return out
		}
		for _, e := range page.Events {
			id, at := aws.ToString(e.EventId), aws.ToTime(e.EventTime).UTC()
			times[id] = at
			if at.After(newest) {
				newest = at
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			evs = append(evs, parseEvent(account, region, e.CloudTrailEvent, id, aws.ToString(e.EventName),
				aws.ToString(e.EventSource), aws.ToString(e.Username), aws.ToTime(e.EventTime), e.Resources))
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	out.Events = sortEvents(evs)
	out.Cursor.Last, out.Cursor.LastIDs = nextCursor(cursor, times, newest, now)
	return out
}

// nextCursor is where the read after one that returned the events times
// (by ID, those read before too) starts: at the newest event's second, but
// never past now - SettleWindow nor before the cursor it started from;
// with the IDs of every event returned at or after that time (they are
// skipped next time). A read that returned nothing keeps its cursor.
func nextCursor(cur Cursor, times map[string]time.Time, newest, now time.Time) (time.Time, []string) {
	if len(times) == 0 {
		return cur.Last, cur.LastIDs
	}
	last := newest
	if horizon := now.Add(-SettleWindow).Truncate(time.Second); horizon.Before(last) {
		last = horizon
	}
	if last.Before(cur.Last) {
		last = cur.Last
	}
	ids := []string{}
	if last.Equal(cur.Last) {
		// Events at the cursor's second that this read did not return
		// (none, as CloudTrail keeps them) stay skipped.
		for _, id := range cur.LastIDs {
			if _, ok := times[id]; !ok {
				ids = append(ids, id)
			}
		}
	}
	for id, t := range times {
		if !t.Before(last) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return last, ids
}

// cloudTrailFailure explains a failed LookupEvents: refused (the sync's
// role lacks cloudtrail:LookupEvents), throttled, or another failure.
func cloudTrailFailure(account, region string, err error) model.SourceError {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch {
		case api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "UnauthorizedOperation":
			return model.SourceError{AccountID: account, Source: "cloudtrail",
				Message: "LookupEvents in " + region + " refused: " + api.ErrorMessage() + "; activity of this region not read",
				Fix:     "allow cloudtrail:LookupEvents to the sync's role in account " + account + " (warden setup policy)"}
		case strings.Contains(api.ErrorCode(), "Throttl"):
			return model.SourceError{AccountID: account, Source: "cloudtrail",
				Message: "LookupEvents in " + region + " throttled (AWS allows 2 calls a second per account and region); the rest of this region's activity is read at the next sync",
				Fix:     "nothing to do: the next sync continues from where this one stopped; lower activity.regions or sync less often if it persists"}
		}
	}
	return partFailure(account, "cloudtrail", "LookupEvents in "+region, err, "activity of this region not read")
}

// sortEvents sorts events oldest first, by ID within a second.
func sortEvents(evs []ActivityEvent) []ActivityEvent {
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].Time.Equal(evs[j].Time) {
			return evs[i].Time.Before(evs[j].Time)
		}
		return evs[i].ID < evs[j].ID
	})
	return evs
}

// ctRecord is the part of a CloudTrailEvent record warden reads.
type ctRecord struct {
	UserIdentity struct {
		Type      string `json:"type"`
		ARN       string `json:"arn"`
		AccountID string `json:"accountId"`
		InvokedBy string `json:"invokedBy"`
		UserName  string `json:"userName"`
		// OnBehalfOf is an IdentityCenterUser identity's user.
		OnBehalfOf struct {
			UserID string `json:"userId"`
		} `json:"onBehalfOf"`
	} `json:"userIdentity"`
	SourceIP          string            `json:"sourceIPAddress"`
	ReadOnly          bool              `json:"readOnly"`
	RequestParameters map[string]any    `json:"requestParameters"`
	Resources         []json.RawMessage `json:"resources"`
	// ResponseElements is a ConsoleLogin's {"ConsoleLogin": "Success"};
	// ServiceEventDetails a sign-in step's outcome.
	ResponseElements    map[string]any  `json:"responseElements"`
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
}

// failed reports whether a record says its sign-in step failed.
func (r *ctRecord) failed() bool {
	if v, _ := r.ResponseElements["ConsoleLogin"].(string); v == "Failure" {
		return true
	}
	var details map[string]any
	if json.Unmarshal(r.ServiceEventDetails, &details) == nil {
		for _, v := range details {
			if v == "Failure" {
				return true
			}
		}
	}
	return false
}

// parseEvent builds an ActivityEvent from LookupEvents' fields and its
// CloudTrailEvent record.
func parseEvent(account, region string, record *string, id, name, source, username string, t time.Time, res []cttypes.Resource) ActivityEvent {
	e := ActivityEvent{ID: id, Account: account, Region: region, Time: t.UTC(), Name: name, Source: source, Username: username}
	var rec ctRecord
	if record != nil && json.Unmarshal([]byte(*record), &rec) == nil {
		e.ActorType, e.ActorARN, e.ActorAccount, e.ReadOnly = rec.UserIdentity.Type, rec.UserIdentity.ARN, rec.UserIdentity.AccountID, rec.ReadOnly
		if e.ActorType == "AWSService" {
			e.ActorARN = rec.UserIdentity.InvokedBy
		}
		e.SourceIP, e.OnBehalfOf, e.Failed = rec.SourceIP, rec.UserIdentity.OnBehalfOf.UserID, rec.failed()
		if e.Username == "" {
			e.Username = rec.UserIdentity.UserName
		}
		if v, ok := rec.RequestParameters["roleArn"].(string); ok && strings.HasPrefix(name, "AssumeRole") {
			e.RoleARN = v
		}
		for k, v := range rec.RequestParameters {
			if sv, ok := v.(string); ok && sv != "" {
				if e.Params == nil {
					e.Params = map[string]string{}
				}
				e.Params[k] = sv
			}
		}
	}
	for _, r := range res {
		e.Resources = append(e.Resources, aws.ToString(r.ResourceName))
	}
	return e
}

// IsIdentityCenterSignIn reports whether an event is an IAM Identity
// Center user's successful sign-in: signin.amazonaws.com's
// UserAuthentication, as AWS records it once every credential challenge
// of the sign-in succeeded (CredentialChallenge and CredentialVerification
// are its steps, and a failed attempt ends at a CredentialVerification
// whose serviceEventDetails say Failure); one that says Failure is not.
func (e ActivityEvent) IsIdentityCenterSignIn() bool {
	return e.Source == "signin.amazonaws.com" && e.Name == "UserAuthentication" && !e.Failed
}

// IsAssumption reports whether an event assumed a role (AssumeRole,
// AssumeRoleWithSAML, AssumeRoleWithWebIdentity) and names it.
func (e ActivityEvent) IsAssumption() bool {
	return strings.HasPrefix(e.Name, "AssumeRole") && e.RoleARN != ""
}

// ReservedPermissionSet returns the permission set and account of an
// assumption of a role IAM Identity Center made for a permission set
// (AWSReservedSSO_<set>_<suffix>): an Identity Center user's use of the
// account through it; ok is false for any other event.
func (e ActivityEvent) ReservedPermissionSet() (permissionSet, account string, ok bool) {
	if !e.IsAssumption() {
		return "", "", false
	}
	name := e.RoleARN[strings.LastIndexByte(e.RoleARN, '/')+1:]
	permissionSet, ok = model.ReservedRolePermissionSet(name)
	account = e.Account
	if f := strings.Split(e.RoleARN, ":"); len(f) >= 5 && f[4] != "" {
		account = f[4]
	}
	return permissionSet, account, ok
}
