package awsfake

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type assumeRoleResult struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
}

// stsHandlers is STS's action table, one handler per action.
var stsHandlers = map[string]func(*Server, *request) (any, *apiError){
	"GetCallerIdentity": (*Server).getCallerIdentity,
	"AssumeRole":        (*Server).assumeRole,
}

// stsAction serves one STS query-protocol action.
func (s *Server) stsAction(r *request) (any, *apiError) {
	h, ok := stsHandlers[r.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: "Could not find operation " + r.action + " for version 2011-06-15"}
	}
	return h(s, r)
}

func (s *Server) getCallerIdentity(r *request) (any, *apiError) {
	return &getCallerIdentityResult{Arn: r.caller.arn, UserID: r.caller.userID, Account: r.caller.account}, nil
}

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
)

// defaultSessionDuration is AssumeRole's DurationSeconds when none is given.
const defaultSessionDuration = time.Hour

// assumeRole serves sts:AssumeRole: the role must exist and its trust
// policy must let the caller in (with the ExternalId its conditions ask
// for). AWS answers the same AccessDenied whatever the reason, so does the
// emulator.
func (s *Server) assumeRole(r *request) (any, *apiError) {
	roleARN, session, externalID := r.get("RoleArn"), r.get("RoleSessionName"), r.get("ExternalId")
	if roleARN == "" || session == "" {
		return nil, errValidation("1 validation error detected: RoleArn and RoleSessionName are required")
	}
	if !sessionNameRE.MatchString(session) {
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session))
	}
	if externalID != "" && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDRE.MatchString(externalID)) {
		return nil, errValidation("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*")
	}
	duration := defaultSessionDuration
	if v := r.get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v))
		}
		duration = time.Duration(n) * time.Second
	}
	denied := &apiError{status: http.StatusForbidden, code: "AccessDenied",
		message: "User: " + r.caller.arn + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN}

	s.mu.Lock()
	defer s.mu.Unlock()
	m := roleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, denied
	}
	acct := s.accounts[m[1]]
	if acct == nil || acct.IAM == nil {
		return nil, denied
	}
	role := acct.IAM.Roles[m[2]]
	if role == nil || role.ARN != roleARN {
		return nil, denied
	}
	if !trustAllows(role.AssumeRolePolicy, trustContext{caller: r.caller, externalID: externalID, sessionName: session}) {
		return nil, denied
	}
	maxDuration := time.Duration(role.MaxSessionDuration) * time.Second
	if maxDuration == 0 {
		maxDuration = time.Hour
	}
	if duration > maxDuration {
		return nil, errValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if r.caller.roleARN != "" && duration > time.Hour {
		// Role chaining: a role session assuming a role gets at most an
		// hour, whatever the role's MaxSessionDuration.
		return nil, errValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	s.nextID++
	keyID := fmt.Sprintf("ASIAFAKE%012d", s.nextID)
	assumed := "arn:aws:sts::" + acct.ID + ":assumed-role/" + role.Name + "/" + session
	expires := s.now().Add(duration)
	secret := fmt.Sprintf("fake-temporary-secret-%024d", s.nextID)
	token := "fake-session-token-" + strings.Repeat("x", 16) + strconv.FormatInt(s.nextID, 10)
	s.keys[keyID] = caller{account: acct.ID, arn: assumed, userID: role.ID + ":" + session, roleARN: role.ARN, expires: expires,
		secret: secret, sessionToken: token}

	var out assumeRoleResult
	out.Credentials.AccessKeyID = keyID
	out.Credentials.SecretAccessKey = secret
	out.Credentials.SessionToken = token
	out.Credentials.Expiration = awsTime(expires)
	out.AssumedRoleUser.AssumedRoleID = role.ID + ":" + session
	out.AssumedRoleUser.Arn = assumed
	return &out, nil
}
