package awsfake

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"
)

// Options set the emulator's costs and faults.
type Options struct {
	// Latency is added to every call.
	Latency time.Duration
	// ThrottleRate is the token-bucket refill per second for each account and
	// service; 0 means no bucket.
	ThrottleRate float64
	// ThrottleBurst is the bucket size; 0 means max(1, ThrottleRate).
	ThrottleBurst int
	// ThrottleFraction is the probability that any call answers Throttling.
	ThrottleFraction float64
	// ErrorRate is the probability that any call answers 500 InternalFailure.
	ErrorRate float64
	// Seed seeds the fault randomness, so a run is repeatable.
	Seed int64
	// CredentialReportDelay is how long a credential report takes to
	// generate; 0 completes it at once.
	CredentialReportDelay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AccountFaults adds faults to the calls made with one account's
	// credentials (by account ID), on top of the faults above: one account
	// that throttles heavily while the others do not.
	AccountFaults map[string]Faults
	// DeleteConflictWindow, when above 0, makes DeleteUser answer
	// ConcurrentModification for this long after one of the user's
	// dependencies was removed, as AWS may right after a teardown.
	DeleteConflictWindow time.Duration
	// AssignmentDelay is how long an Identity Center account assignment
	// or ProvisionPermissionSet operation stays IN_PROGRESS; 0 completes
	// it at once (a provisioning at the next call).
	AssignmentDelay time.Duration
	// AccountCreationDelay is how long an Organizations CreateAccount
	// request stays IN_PROGRESS, and a closed account PENDING_CLOSURE; 0
	// completes either at the next call.
	AccountCreationDelay time.Duration
	// IAMPageLimit, when above 0, caps every IAM page at that many items
	// whatever MaxItems asked, with IsTruncated and a Marker, as IAM
	// documents it may return fewer items than MaxItems: a client must
	// follow Marker, not count items.
	IAMPageLimit int
	// OrgEmptyPages makes every first page of an Organizations listing come
	// back empty with a NextToken, as AWS documents it may: a client must
	// keep paging until NextToken is absent.
	OrgEmptyPages bool
	// SCIM changes the SCIM endpoint's paging and injects its failures
	// (scim.go); the zero value is Identity Center's behaviour.
	SCIM SCIMOptions
	// ActionFaults makes chosen calls fail, by "service:Action" as Calls
	// counts them ("sso:GetPermissionsBoundaryForPermissionSet"): every
	// call of the action or, with ActionFault.Param, only those naming one
	// entity (faults.go). Such a fault persists: a retry does not pass it.
	ActionFaults map[string]ActionFault
}

// Faults are injected failures for one account.
type Faults struct {
	// ThrottleFraction is the probability that a call answers the
	// service's throttling error.
	ThrottleFraction float64
	// ErrorRate is the probability that a call answers a 500.
	ErrorRate float64
	// ThrottleEvery, when above 1, throttles every ThrottleEvery-th call
	// made with the account's credentials (2: every other call), a
	// deterministic storm no retry can lose to.
	ThrottleEvery int
}

// Credentials are the static credentials of an emulated caller.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// caller is who a set of credentials belongs to.
type caller struct {
	account string
	arn     string // a user's ARN, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	userID  string
	// roleARN is the role of assumed-role credentials; "" for a user.
	roleARN string
	// expires ends temporary credentials; zero for a user's keys.
	expires time.Time
	// secret is the secret access key that signs the caller's requests;
	// sessionToken the token temporary credentials must send ("" for a
	// user's keys).
	secret, sessionToken string
}

// request is one decoded call, handed to a service's action handler.
type request struct {
	r      *http.Request
	caller caller
	action string
	form   map[string][]string
	id     string
	// pageLimit caps page sizes (Options.IAMPageLimit); 0 means none.
	pageLimit int
}

// Server is the emulator. It implements http.Handler.
type Server struct {
	mu         sync.Mutex
	opts       Options
	rng        *rand.Rand
	accounts   map[string]*Account
	org        *Organization
	ic         *IdentityCenter
	assignOps  []*assignmentOp // Identity Center account assignment operations
	awsManaged map[string]*ManagedPolicy
	keys       map[string]caller
	buckets    map[string]*bucket
	calls      map[string]map[string]int64 // account → "svc:Action" → n
	faults     map[string]int64            // account → faults injected
	seq        map[string]int64            // account → calls charged, for ThrottleEvery
	recent     map[string]time.Time        // account/user → when a dependency was last removed
	nextID     int64
	scim       scimState         // the SCIM endpoint's index and request count (scim.go)
	ct         trailState        // CloudTrail's event history (cloudtrail.go)
	la         lastAccessedState // IAM's service last accessed jobs (lastaccessed.go)
	as         assetState        // S3, KMS, Lambda, Secrets Manager, EC2 (asset_estate_state.go)
	ts         *httptest.Server
}

// NewHandler returns an emulator that is not listening; serve it yourself.
func NewHandler(o Options) *Server {
	s := &Server{
		accounts:   map[string]*Account{},
		awsManaged: map[string]*ManagedPolicy{},
		keys:       map[string]caller{},
		buckets:    map[string]*bucket{},
		calls:      map[string]map[string]int64{},
		faults:     map[string]int64{},
		seq:        map[string]int64{},
	}
	for _, p := range append(AWSManagedPolicies(), denyAllPolicy()) {
		s.awsManaged[p.ARN] = p
	}
	s.SetOptions(o)
	return s
}

// NewServer returns an emulator listening on a loopback port.
func NewServer(o Options) *Server {
	s := NewHandler(o)
	s.ts = httptest.NewServer(s)
	return s
}

// URL is the endpoint to give the SDK (BaseEndpoint or AWS_ENDPOINT_URL).
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close stops a server made by NewServer.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// SetOptions changes costs and faults; it takes effect for the next call.
func (s *Server) SetOptions(o Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Now == nil {
		o.Now = time.Now
	}
	s.opts = o
	s.rng = rand.New(rand.NewSource(o.Seed))
	s.buckets = map[string]*bucket{}
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// AddAccount stores a copy of a and returns credentials of an administrator
// user, arn:aws:iam::<id>:user/warden-admin, that act in that account.
func (s *Server) AddAccount(a *Account) Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := a.Clone()
	if c.IAM == nil {
		c.IAM = &IAM{}
	}
	c.IAM.fill()
	s.accounts[a.ID] = c
	s.nextID++
	id := fmt.Sprintf("AKIAFAKE%012d", s.nextID)
	secret := fmt.Sprintf("fake-secret-%032d", s.nextID)
	s.keys[id] = caller{account: a.ID, arn: "arn:aws:iam::" + a.ID + ":user/warden-admin", userID: fmt.Sprintf("AIDAFAKE%013d", s.nextID), secret: secret}
	return Credentials{AccessKeyID: id, SecretAccessKey: secret}
}

// Account returns a copy of the current state of an account, or nil.
func (s *Server) Account(id string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[id]; a != nil {
		return a.Clone()
	}
	return nil
}

// Calls returns the calls made to every account, by "service:Action".
func (s *Server) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, m := range s.calls {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}

// CallsFor returns the calls made with the credentials of one account.
func (s *Server) CallsFor(accountID string) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.calls[accountID] {
		out[k] = v
	}
	return out
}

// FaultsFor returns how many calls made with one account's credentials
// were answered with an injected fault (throttling or a 500).
func (s *Server) FaultsFor(accountID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults[accountID]
}

// ResetCalls zeroes the call and fault counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]map[string]int64{}
	s.faults = map[string]int64{}
}

// TotalCalls is the sum of Calls.
func (s *Server) TotalCalls() int64 {
	var n int64
	for _, v := range s.Calls() {
		n += v
	}
	return n
}

// ServeHTTP routes a request to its service by the credential scope of its
// SigV4 Authorization header, then by protocol: an X-Amz-Target header
// means JSON 1.1 (Organizations, Identity Store, SSO Admin), otherwise the
// query protocol (IAM, STS). Every request is authenticated as AWS does
// (authenticateRequest): its access key, session token and signature.
// Requests under /<tenant>/scim/v2/ go to the SCIM endpoint, which takes a
// bearer token instead.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isSCIM(r) {
		s.serveSCIM(w, r)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.scimIndexStale() // the Identity Store API may change users and groups
		s.serveJSON(w, r, target)
		return
	}
	auth, apiErr := s.authenticateRequest(r)
	if serve := s.assetService(auth.service); serve != nil {
		serve(w, r, auth, apiErr)
		return
	}
	if apiErr != nil {
		writeQueryError(w, auth.id, apiErr.status, apiErr.code, apiErr.message, auth.service)
		return
	}
	service := auth.service
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, auth.id, http.StatusBadRequest, "MalformedQueryString", err.Error(), service)
		return
	}
	// The query protocol's parameters come in a POST body or, as AWS also
	// takes them, in a GET's query string.
	req := &request{r: r, action: r.Form.Get("Action"), form: r.Form, id: auth.id, caller: auth.caller}
	s.mu.Lock()
	req.pageLimit = s.opts.IAMPageLimit
	s.mu.Unlock()
	handlers := map[string]func(*request) (any, *apiError){"iam": s.iamAction, "sts": s.stsAction}
	h, ok := handlers[service]
	if !ok {
		writeQueryError(w, req.id, http.StatusBadRequest, "UnknownService", "awsfake does not emulate service "+service, "")
		return
	}
	if fault := s.chargeCall(r, req.caller.account, service, req.action, nil); fault != nil {
		writeQueryError(w, req.id, fault.status, fault.code, fault.message, service)
		return
	}
	out, apiErr := h(req)
	if apiErr != nil {
		writeQueryError(w, req.id, apiErr.status, apiErr.code, apiErr.message, service)
		return
	}
	s.recordWrite(service, auth.region, req.action, req.caller, r.Form.Get)
	writeQueryResult(w, service, req.action, req.id, out)
}

// sortedKeys returns a map's keys in order, for deterministic listings.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
