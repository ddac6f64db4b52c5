package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file serves CloudTrail's LookupEvents (JSON 1.1, X-Amz-Target
// com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents) over
// the emulator's event history: one history per account and region, the
// management events of the last 90 days, newest first, as AWS keeps it.
// AWS's limits hold: 2 calls a second per account and region
// (ThrottlingException above), one lookup attribute a call
// (InvalidLookupAttributesException), MaxResults 1..50
// (InvalidMaxResultsException), StartTime not after EndTime
// (InvalidTimeRangeException).

// cloudTrailRetention is how far back LookupEvents sees.
const cloudTrailRetention = 90 * 24 * time.Hour

// cloudTrailMaxResults is LookupEvents' largest page.
const cloudTrailMaxResults = 50

// Event is one CloudTrail management event of the emulated history, the
// ground truth a reader of LookupEvents must find.
type Event struct {
	ID      string
	Name    string // ConsoleLogin, AssumeRole, CreateUser, …
	Source  string // signin.amazonaws.com, sts.amazonaws.com, iam.amazonaws.com, …
	Time    time.Time
	Account string // the account whose history holds the event
	Region  string
	// Username is what LookupEvents answers as Username: the IAM user's
	// name, the role session's name, or "root".
	Username string
	// IdentityType and IdentityARN are the event's userIdentity: IAMUser,
	// AssumedRole, Root, SAMLUser, AWSService, AWSAccount.
	IdentityType string
	IdentityARN  string
	// IdentityAccount is the account of the caller (another account's
	// principal for a cross-account AssumeRole).
	IdentityAccount string
	AccessKeyID     string
	ReadOnly        bool
	// Resources are the event's resources (type AWS::IAM::Role, …).
	Resources []EventResource
	// Request is the event's requestParameters (nil for ConsoleLogin).
	Request map[string]string
	// UserID and IdentityStoreARN are the onBehalfOf of an
	// IdentityCenterUser identity: the identity store user who signed in.
	UserID           string
	IdentityStoreARN string
	// IdentityProvider is a WebIdentityUser's provider (its host, as
	// token.actions.githubusercontent.com), whose identity has no ARN.
	IdentityProvider string
	// Additional is the event's additionalEventData (an Identity Center
	// sign-in's AuthWorkflowID, CredentialType and UserName).
	Additional map[string]string
	// Failed marks a ConsoleLogin that failed: its responseElements say
	// Failure and its errorMessage "Failed authentication", as CloudTrail
	// records a wrong password.
	Failed bool
	// Details is the event's serviceEventDetails (a sign-in step's
	// outcome: {"CredentialVerification": "Failure"}); nil for none (a
	// UserAuthentication without it is recorded as a success).
	Details map[string]string
}

// EventResource is one resource of an event.
type EventResource struct {
	Type string
	Name string
}

// trailState is the event history and LookupEvents' rate limiter.
type trailState struct {
	mu      sync.Mutex
	events  map[string][]Event // account/region → events, in the order recorded
	buckets map[string]*bucket // account/region → LookupEvents tokens
	rate    float64            // calls a second per account and region; 0 means AWS's 2
	next    int64
}

// trail returns the server's event history, its maps made.
func (s *Server) trail() *trailState {
	t := &s.ct
	t.mu.Lock()
	if t.events == nil {
		t.events, t.buckets = map[string][]Event{}, map[string]*bucket{}
	}
	t.mu.Unlock()
	return t
}

// SetCloudTrailRate changes LookupEvents' limit, calls a second per account
// and region (AWS's is 2); tests that are not about throttling raise it.
func (s *Server) SetCloudTrailRate(perSecond float64) {
	t := s.trail()
	t.mu.Lock()
	t.rate = perSecond
	t.buckets = map[string]*bucket{}
	t.mu.Unlock()
}

// RecordEvent appends an event to its account's and region's history,
// giving it an ID when it has none, and returns it.
func (s *Server) RecordEvent(e Event) Event {
	t := s.trail()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	if e.ID == "" {
		e.ID = fmt.Sprintf("e0e0%04x-0000-4000-8000-%012d", t.next%0xffff, t.next)
	}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	e.Time = e.Time.UTC().Truncate(time.Second)
	k := e.Account + "/" + e.Region
	t.events[k] = append(t.events[k], e)
	return e
}

// Events returns the ground truth: the events of an account's and region's
// history that LookupEvents can still see (the last 90 days), oldest first.
func (s *Server) Events(account, region string) []Event {
	t := s.trail()
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Event
	for _, e := range t.events[account+"/"+region] {
		if !e.Time.Before(now.Add(-cloudTrailRetention)) && !e.Time.After(now) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// EventRegions returns the regions where an account has events, sorted.
func (s *Server) EventRegions(account string) []string {
	t := s.trail()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k := range t.events {
		if a, r, _ := strings.Cut(k, "/"); a == account {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// GenerateActivity records the events the estate implies, at the times it
// records: a ConsoleLogin for every IAM user whose password was used
// (PasswordLastUsed), and for one in four of them a failed one
// (consoleLoginFailure), and an AssumeRole (or AssumeRoleWithSAML for a role
// trusting a SAML provider, as AWSReservedSSO_ roles do, or
// AssumeRoleWithWebIdentity for a role trusting an OIDC provider) for every
// role used (LastUsed), by the first principal its trust policy names, in
// the region it was last used in; and Identity Center sign-ins (see
// identityCenterSignIns). Times older than the 90 days are kept but
// LookupEvents does not see them.
func (s *Server) GenerateActivity() []Event {
	s.mu.Lock()
	var evs []Event
	for _, id := range sortedKeys(s.accounts) {
		a := s.accounts[id]
		if a.IAM == nil {
			continue
		}
		for _, name := range sortedKeys(a.IAM.Users) {
			u := a.IAM.Users[name]
			if u.PasswordLastUsed == nil {
				continue
			}
			login := Event{Name: "ConsoleLogin", Source: "signin.amazonaws.com", Time: *u.PasswordLastUsed,
				Account: id, Region: "us-east-1", Username: u.Name, IdentityType: "IAMUser", IdentityARN: u.ARN,
				IdentityAccount: id, Request: nil}
			evs = append(evs, login)
			if at, ok := consoleLoginFailure(u, s.now()); ok {
				login.Time, login.Failed = at, true
				evs = append(evs, login)
			}
		}
		for _, name := range sortedKeys(a.IAM.Roles) {
			r := a.IAM.Roles[name]
			if r.LastUsed == nil {
				continue
			}
			kind, who := trustedPrincipal(r.AssumeRolePolicy)
			e := Event{Name: "AssumeRole", Source: "sts.amazonaws.com", Time: *r.LastUsed, Account: id,
				Region: r.LastUsedRegion, Resources: []EventResource{{Type: "AWS::IAM::Role", Name: r.ARN}},
				Request: map[string]string{"roleArn": r.ARN, "roleSessionName": "warden-fake"}}
			switch {
			case kind == "Federated" && strings.Contains(who, ":oidc-provider/"):
				host := who[strings.Index(who, ":oidc-provider/")+len(":oidc-provider/"):]
				sub := "repo:example/" + r.Name + ":ref:refs/heads/main"
				e.Name, e.IdentityType, e.Username, e.IdentityProvider = "AssumeRoleWithWebIdentity", "WebIdentityUser", sub, host
				e.Request["roleSessionName"] = "warden-fake"
			case kind == "Federated":
				e.Name, e.IdentityType, e.IdentityARN, e.Username = "AssumeRoleWithSAML", "SAMLUser", who, "warden-fake"
				e.Request["principalArn"] = who
			case kind == "Service":
				e.IdentityType, e.IdentityARN, e.Username = "AWSService", who, who
			default:
				e.IdentityType, e.IdentityARN, e.Username = identityOf(who)
				e.IdentityAccount = arnAccount(who)
			}
			if e.IdentityAccount == "" && kind != "Service" {
				// An AWS service's userIdentity names no account.
				e.IdentityAccount = id
			}
			evs = append(evs, e)
		}
	}
	evs = append(evs, s.identityCenterSignIns()...)
	s.mu.Unlock()
	for i := range evs {
		evs[i] = s.RecordEvent(evs[i])
	}
	return evs
}

// consoleLoginFailure is when an IAM user mistyped their password, the
// ground truth of GenerateActivity's failed ConsoleLogins: one in four
// users whose password was used, half an hour after that last use (a later
// failure leaves PasswordLastUsed as it was), or before it when that
// would be in the future.
func consoleLoginFailure(u *User, now time.Time) (time.Time, bool) {
	if u.PasswordLastUsed == nil || mix64(hash64("consolelogin-failure|"+u.ARN))%4 != 0 {
		return time.Time{}, false
	}
	at := u.PasswordLastUsed.Add(30 * time.Minute)
	if at.After(now) {
		at = u.PasswordLastUsed.Add(-30 * time.Minute)
	}
	return at.UTC().Truncate(time.Second), true
}

// IAMConsoleLoginFailures returns the ground truth of the failed
// ConsoleLogins GenerateActivity records: by user ARN, the time of the
// failure.
func (s *Server) IAMConsoleLoginFailures() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	now := s.now()
	for _, a := range s.accounts {
		if a.IAM == nil {
			continue
		}
		for _, u := range a.IAM.Users {
			if at, ok := consoleLoginFailure(u, now); ok {
				out[u.ARN] = at
			}
		}
	}
	return out
}

// identityCenterSignIns returns the sign-in events of the Identity Center
// users, as CloudTrail records them ("Understanding IAM Identity Center
// sign-in events") in the instance's account (signin.amazonaws.com, the
// userIdentity an IdentityCenterUser on behalf of the identity store user,
// every step of one sign-in sharing an AuthWorkflowID in
// additionalEventData):
//
//   - a user of the Identity Center directory is challenged for a
//     password (CredentialChallenge, CredentialType PASSWORD, with the
//     UserName of a successful sign-in), answers it (CredentialVerification,
//     serviceEventDetails Success or Failure), and only when it succeeded
//     is signed in (UserAuthentication, serviceEventDetails Success): a
//     failed attempt logs no UserAuthentication;
//   - a user from an external IdP is authenticated by the IdP, so AWS logs
//     only the UserAuthentication, with CredentialType EXTERNAL_IDP and
//     the UserName.
//
// Of the enabled users, one in four never signed in; the others last
// signed in up to 100 days ago (a hash of the user ID, so the same estate
// and clock give the same events), so some are past LookupEvents' 90 days.
// One in three directory users who signed in mistyped their password
// first, ten minutes before; one in two who never signed in tried and
// failed, a day ago. The caller holds s.mu.
func (s *Server) identityCenterSignIns() []Event {
	ic := s.ic
	if ic == nil || ic.OwnerAccountID == "" {
		return nil
	}
	now := s.now()
	store := "arn:aws:identitystore::" + ic.OwnerAccountID + ":identitystore/" + ic.IdentityStoreID
	var evs []Event
	step := func(u *SSOUser, name string, at time.Time, flow string, extra map[string]string, details map[string]string) {
		add := map[string]string{"AuthWorkflowID": flow}
		for k, v := range extra {
			add[k] = v
		}
		evs = append(evs, Event{Name: name, Source: "signin.amazonaws.com", Time: at, Account: ic.OwnerAccountID,
			Region: "us-east-1", Username: u.UserName, IdentityType: "IdentityCenterUser", IdentityAccount: ic.OwnerAccountID,
			UserID: u.ID, IdentityStoreARN: store, Additional: add, Details: details})
	}
	attempt := func(u *SSOUser, at time.Time, ok bool) {
		flow := workflowID(u.ID, at)
		if u.ExternalID != "" {
			// The IdP authenticates; a failure there leaves no AWS event.
			if ok {
				step(u, "UserAuthentication", at, flow, map[string]string{"CredentialType": "EXTERNAL_IDP", "UserName": u.UserName},
					map[string]string{"UserAuthentication": "Success"})
			}
			return
		}
		challenge := map[string]string{"CredentialType": "PASSWORD"}
		outcome := "Failure"
		if ok {
			challenge["UserName"], outcome = u.UserName, "Success"
		}
		step(u, "CredentialChallenge", at.Add(-2*time.Second), flow, challenge, map[string]string{"CredentialChallenge": "Success"})
		step(u, "CredentialVerification", at.Add(-time.Second), flow, map[string]string{"CredentialType": "PASSWORD"},
			map[string]string{"CredentialVerification": outcome})
		if ok {
			step(u, "UserAuthentication", at, flow, map[string]string{"CredentialType": "PASSWORD"}, map[string]string{"UserAuthentication": "Success"})
		}
	}
	for _, id := range sortedKeys(ic.Users) {
		u := ic.Users[id]
		at, ok := identityCenterLastSignIn(u, now)
		failedFirst := u.Status != "DISABLED" && identityCenterFailedAttempt(u)
		switch {
		case ok:
			if failedFirst && u.ExternalID == "" {
				attempt(u, at.Add(-10*time.Minute), false)
			}
			attempt(u, at, true)
		case failedFirst:
			attempt(u, now.Add(-24*time.Hour).UTC().Truncate(time.Second), false)
		}
	}
	return evs
}

// identityCenterFailedAttempt reports whether a user mistyped a password
// (identityCenterSignIns): one in three of those who signed in, one in two
// of those who never did.
func identityCenterFailedAttempt(u *SSOUser) bool {
	h := mix64(hash64("signin-failure|" + u.ID))
	if hash64("signin|"+u.ID)%4 == 0 {
		return h%2 == 0
	}
	return h%3 == 0
}

// mix64 spreads a hash's bits (splitmix64's finalizer): FNV's low bits
// follow a string's last bytes, so two hashes of one ID would agree.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// workflowID is the AuthWorkflowID of a user's sign-in at a time: a UUID
// from their hash.
func workflowID(user string, at time.Time) string {
	h := hash64("workflow|" + user + "|" + at.String())
	g := hash64("workflow2|" + user + "|" + at.String())
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>48)&0xfff, uint16(g)&0xfff, g>>16&0xffffffffffff)
}

// IdentityCenterFailedSignIns returns the ground truth of failed Identity
// Center sign-ins at the server's clock: by user ID, the time of each
// attempt that ended in a failed CredentialVerification (no
// UserAuthentication), oldest first. GenerateActivity records these.
func (s *Server) IdentityCenterFailedSignIns() map[string][]time.Time {
	s.mu.Lock()
	evs := s.identityCenterSignIns()
	s.mu.Unlock()
	out := map[string][]time.Time{}
	for _, e := range evs {
		if e.Name == "CredentialVerification" && e.Details["CredentialVerification"] == "Failure" {
			out[e.UserID] = append(out[e.UserID], e.Time.Add(time.Second).UTC().Truncate(time.Second))
		}
	}
	return out
}

// IdentityCenterLastSignIns returns the ground truth of Identity Center
// sign-ins at the server's clock: every user who signed in, by user ID, at
// their last sign-in (including those older than LookupEvents' 90 days);
// a user absent never signed in. GenerateActivity records these.
func (s *Server) IdentityCenterLastSignIns() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	if s.ic == nil {
		return out
	}
	now := s.now()
	for id, u := range s.ic.Users {
		if at, ok := identityCenterLastSignIn(u, now); ok {
			out[id] = at
		}
	}
	return out
}

// identityCenterLastSignIn is when an Identity Center user last signed in,
// the ground truth of identityCenterSignIns: ok is false for a disabled
// user and one in four of the others, who never signed in.
func identityCenterLastSignIn(u *SSOUser, now time.Time) (time.Time, bool) {
	if u.Status == "DISABLED" {
		return time.Time{}, false
	}
	h := hash64("signin|" + u.ID)
	if h%4 == 0 {
		return time.Time{}, false
	}
	at := now.Add(-time.Duration((h>>8)%(100*24*60)) * time.Minute).UTC().Truncate(time.Second)
	if !u.CreatedAt.IsZero() && at.Before(u.CreatedAt) {
		at = u.CreatedAt.UTC().Truncate(time.Second)
	}
	return at, true
}

// trustedPrincipal returns the first principal of a trust policy's Allow
// statements: its kind (AWS, Service, Federated) and value.
func trustedPrincipal(doc string) (kind, who string) {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return "", ""
	}
	var sts []trustStatement
	if json.Unmarshal(d.Statement, &sts) != nil {
		var one trustStatement
		if json.Unmarshal(d.Statement, &one) != nil {
			return "", ""
		}
		sts = []trustStatement{one}
	}
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		var p map[string]json.RawMessage
		if json.Unmarshal(st.Principal, &p) != nil {
			continue
		}
		for _, k := range []string{"AWS", "Federated", "Service"} {
			if l := stringList(p[k]); len(l) > 0 {
				return k, l[0]
			}
		}
	}
	return "", ""
}

// identityOf returns the userIdentity type, ARN and username of an AWS
// principal named in a trust policy (an account ID means its root).
func identityOf(who string) (kind, arn, username string) {
	switch {
	case strings.Contains(who, ":user/"):
		return "IAMUser", who, who[strings.LastIndexByte(who, '/')+1:]
	case strings.Contains(who, ":role/"):
		name := who[strings.LastIndexByte(who, '/')+1:]
		acct := arnAccount(who)
		return "AssumedRole", "arn:aws:sts::" + acct + ":assumed-role/" + name + "/warden-fake", "warden-fake"
	case strings.HasSuffix(who, ":root"):
		return "Root", who, "root"
	case len(who) == 12:
		return "Root", "arn:aws:iam::" + who + ":root", "root"
	}
	return "AWSAccount", who, who
}

// arnAccount returns the account of an ARN, or the string itself when it is
// an account ID.
func arnAccount(arn string) string {
	f := strings.Split(arn, ":")
	if len(f) >= 5 {
		return f[4]
	}
	if len(arn) == 12 {
		return arn
	}
	return ""
}

// recordWrite appends the event of a successful write call (an action that
// is not Get, List, Describe, Generate, Lookup or an STS read) to the
// caller's history, with the caller's identity; AssumeRole goes to the
// assumed role's account. params reads the call's parameters.
func (s *Server) recordWrite(service, region, action string, c caller, params func(string) string) {
	for _, p := range []string{"Get", "List", "Describe", "Generate", "Lookup", "Search", "Simulate"} {
		if strings.HasPrefix(action, p) {
			return
		}
	}
	source, account := service+".amazonaws.com", c.account
	switch service {
	case "iam", "organizations":
		region = "us-east-1"
	case "sts":
		if action != "AssumeRole" {
			return
		}
		account = arnAccount(params("RoleArn"))
	case "sso", "identitystore":
	default:
		return
	}
	e := Event{Name: action, Source: source, Time: s.now(), Account: account, Region: region, Request: map[string]string{}}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	e.IdentityType, e.IdentityARN, e.IdentityAccount, e.Username = callerIdentity(c)
	for _, k := range []string{"UserName", "GroupName", "RoleName", "PolicyArn", "PolicyName", "RoleArn", "RoleSessionName",
		"AccountId", "PermissionSetArn", "PrincipalId", "TargetId", "PolicyId", "InstanceArn", "SourceParentId", "DestinationParentId", "ParentId", "Name", "OrganizationalUnitId"} {
		if v := params(k); v != "" {
			e.Request[lowerFirst(k)] = v
			switch k {
			case "UserName":
				e.Resources = append(e.Resources, EventResource{Type: "AWS::IAM::User", Name: v})
			case "GroupName":
				e.Resources = append(e.Resources, EventResource{Type: "AWS::IAM::Group", Name: v})
			case "RoleName", "RoleArn":
				e.Resources = append(e.Resources, EventResource{Type: "AWS::IAM::Role", Name: v})
			case "PolicyArn":
				e.Resources = append(e.Resources, EventResource{Type: "AWS::IAM::Policy", Name: v})
			}
		}
	}
	if account == "" {
		return
	}
	s.RecordEvent(e)
}

// callerIdentity is a caller as an event's userIdentity records it: its
// type (AssumedRole, IAMUser or Root), ARN and account, and the event's
// Username (the session's name, the user's, or "root").
func callerIdentity(c caller) (kind, arn, account, username string) {
	username = c.arn[strings.LastIndexByte(c.arn, '/')+1:]
	switch {
	case c.roleARN != "":
		kind = "AssumedRole"
	case strings.HasSuffix(c.arn, ":root"):
		kind, username = "Root", "root"
	default:
		kind = "IAMUser"
	}
	return kind, c.arn, c.account, username
}

// lookupEventsInput is LookupEvents' request.
type lookupEventsInput struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue string
	}
	StartTime     *float64
	EndTime       *float64
	EventCategory string
	MaxResults    *int
	NextToken     string
}

// lookupEvent is one event as LookupEvents answers it.
type lookupEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string `json:",omitempty"`
	EventTime       epoch
	EventSource     string
	Username        string `json:",omitempty"`
	Resources       []map[string]string
	CloudTrailEvent string
}

// cloudTrailAction serves one CloudTrail action.
func (s *Server) cloudTrailAction(r *jsonRequest) (any, *apiError) {
	if r.action != "LookupEvents" {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate CloudTrail action " + r.action}
	}
	var in lookupEventsInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	bad := func(code, msg string) (any, *apiError) {
		return nil, &apiError{status: http.StatusBadRequest, code: code, message: msg}
	}
	if len(in.LookupAttributes) > 1 {
		return bad("InvalidLookupAttributesException", "You can only specify one lookup attribute.")
	}
	keys := map[string]bool{"EventId": true, "EventName": true, "ReadOnly": true, "Username": true, "ResourceType": true,
		"ResourceName": true, "EventSource": true, "AccessKeyId": true}
	if len(in.LookupAttributes) == 1 && !keys[in.LookupAttributes[0].AttributeKey] {
		return bad("InvalidLookupAttributesException", "The attribute key "+in.LookupAttributes[0].AttributeKey+" is not valid.")
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return bad("InvalidEventCategoryException", "Event category "+in.EventCategory+" is not valid.")
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > cloudTrailMaxResults) {
		return bad("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
	}
	now := s.now()
	start, end := now.Add(-cloudTrailRetention), now
	if in.StartTime != nil {
		start = fromEpoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = fromEpoch(*in.EndTime)
	}
	if start.After(end) {
		return bad("InvalidTimeRangeException", "Start time must not be after end time.")
	}
	if start.Before(now.Add(-cloudTrailRetention)) {
		start = now.Add(-cloudTrailRetention)
	}
	t := s.trail()
	k := r.caller.account + "/" + r.region
	t.mu.Lock()
	rate := t.rate
	if rate == 0 {
		rate = 2
	}
	ok := takeBucket(t.buckets, k, rate, time.Now())
	var evs []Event
	if ok && in.EventCategory == "" {
		for _, e := range t.events[k] {
			if e.Time.Before(start) || e.Time.After(end) || !eventMatches(e, in.LookupAttributes) {
				continue
			}
			evs = append(evs, e)
		}
	}
	t.mu.Unlock()
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate exceeded"}
	}
	// Newest first, as AWS answers; the event ID breaks ties so pages are
	// stable.
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].Time.Equal(evs[j].Time) {
			return evs[i].Time.After(evs[j].Time)
		}
		return evs[i].ID > evs[j].ID
	})
	size := cloudTrailMaxResults
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	from := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "fake-token-"))
		if err != nil || n < 0 || n > len(evs) || !strings.HasPrefix(in.NextToken, "fake-token-") {
			return bad("InvalidNextTokenException", "Invalid NextToken.")
		}
		from = n
	}
	endIdx, next := jsonPageEnd(from, size, len(evs))
	out := map[string]any{}
	page := make([]lookupEvent, 0, endIdx-from)
	for _, e := range evs[from:endIdx] {
		page = append(page, e.lookup())
	}
	out["Events"] = page
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

// takeBucket takes one token from a bucket of rate tokens a second (burst
// rate, at least 1); the caller holds the lock guarding buckets.
func takeBucket(buckets map[string]*bucket, key string, rate float64, now time.Time) bool {
	burst := max(1, rate)
	b := buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// fromEpoch reads a JSON-protocol timestamp.
func fromEpoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

// eventMatches reports whether an event matches the lookup attributes.
func eventMatches(e Event, attrs []struct {
	AttributeKey   string
	AttributeValue string
}) bool {
	for _, a := range attrs {
		v := a.AttributeValue
		switch a.AttributeKey {
		case "EventId":
			return e.ID == v
		case "EventName":
			return e.Name == v
		case "ReadOnly":
			return strconv.FormatBool(e.ReadOnly) == v
		case "Username":
			return e.Username == v
		case "EventSource":
			return e.Source == v
		case "AccessKeyId":
			return e.AccessKeyID == v
		case "ResourceType", "ResourceName":
			for _, r := range e.Resources {
				if a.AttributeKey == "ResourceType" && r.Type == v || a.AttributeKey == "ResourceName" && r.Name == v {
					return true
				}
			}
			return false
		}
	}
	return true
}

// lookup is the event as LookupEvents answers it, with its CloudTrailEvent
// JSON record.
func (e Event) lookup() lookupEvent {
	res := []map[string]string{}
	for _, r := range e.Resources {
		res = append(res, map[string]string{"ResourceType": r.Type, "ResourceName": r.Name})
	}
	kind := "AwsApiCall"
	if e.Name == "ConsoleLogin" {
		kind = "AwsConsoleSignIn"
	}
	ident := map[string]any{"type": e.IdentityType, "arn": e.IdentityARN, "accountId": e.IdentityAccount}
	if e.AccessKeyID != "" {
		ident["accessKeyId"] = e.AccessKeyID
	}
	switch e.IdentityType {
	case "AWSService":
		ident = map[string]any{"type": "AWSService", "invokedBy": e.IdentityARN}
	case "IdentityCenterUser":
		// CloudTrail's userIdentity of a request made on behalf of an
		// Identity Center user: no ARN, the store's user in onBehalfOf.
		ident = map[string]any{"type": "IdentityCenterUser", "accountId": e.IdentityAccount,
			"onBehalfOf":   map[string]string{"userId": e.UserID, "identityStoreArn": e.IdentityStoreARN},
			"credentialId": "fake-credential-" + e.ID}
		kind = "AwsServiceEvent"
	case "WebIdentityUser":
		ident = map[string]any{"type": "WebIdentityUser", "principalId": e.IdentityProvider + ":sts.amazonaws.com:" + e.Username,
			"userName": e.Username, "identityProvider": e.IdentityProvider}
	}
	rec := map[string]any{"eventVersion": "1.08", "userIdentity": ident, "eventTime": e.Time.Format(time.RFC3339),
		"eventSource": e.Source, "eventName": e.Name, "awsRegion": e.Region, "sourceIPAddress": "198.51.100.7",
		"requestParameters": e.Request, "eventID": e.ID, "readOnly": e.ReadOnly, "eventType": kind,
		"managementEvent": true, "recipientAccountId": e.Account, "eventCategory": "Management"}
	if e.Name == "ConsoleLogin" {
		rec["responseElements"] = map[string]string{"ConsoleLogin": "Success"}
		rec["additionalEventData"] = map[string]string{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}
		if e.Failed {
			rec["responseElements"] = map[string]string{"ConsoleLogin": "Failure"}
			rec["errorMessage"] = "Failed authentication"
		}
	}
	if e.Additional != nil {
		rec["additionalEventData"] = e.Additional
	}
	switch {
	case e.Details != nil:
		rec["serviceEventDetails"] = e.Details
	case e.Name == "UserAuthentication":
		rec["serviceEventDetails"] = map[string]string{"UserAuthentication": "Success"}
	}
	b, _ := json.Marshal(rec)
	return lookupEvent{EventId: e.ID, EventName: e.Name, ReadOnly: strconv.FormatBool(e.ReadOnly), AccessKeyId: e.AccessKeyID,
		EventTime: epoch(e.Time), EventSource: e.Source, Username: e.Username, Resources: res, CloudTrailEvent: string(b)}
}
