package awsfake

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the Organizations write actions, with the service's
// validation and errors: CreateOrganization (the caller's account becomes
// the management account, service control policies enabled in the root
// when all features are), CreateAccount (asynchronous, as AWS runs it:
// IN_PROGRESS until Options.AccountCreationDelay has passed, then the
// account exists with an empty IAM but for the member role, trusting the
// management account, with AdministratorAccess attached), OUs, MoveAccount,
// policies and their attachments, policy types and tags.

// createAccountRequest is one asynchronous CreateAccount.
type createAccountRequest struct {
	ID            string // car-…
	AccountName   string
	Email         string
	RoleName      string
	Tags          []Tag
	RequestedAt   time.Time
	CompletedAt   time.Time
	State         string // IN_PROGRESS, SUCCEEDED or FAILED
	AccountID     string
	FailureReason string
}

// Limits of Organizations the emulator enforces (AWS's published quotas).
const (
	maxOUDepth                = 5 // OUs below the root
	maxSCPSize                = 5120
	maxOrgTags                = 50
	orgAdministratorAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// maxPoliciesPerTarget is how many policies of a type one root, OU or
// account may have attached (AWS's quotas: 10 for tag and backup
// policies, 5 for the others).
func maxPoliciesPerTarget(policyType string) int {
	if policyType == "TAG_POLICY" || policyType == "BACKUP_POLICY" {
		return 10
	}
	return 5
}

var (
	orgEmailRE    = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	orgAccountRE  = regexp.MustCompile(`^[\x{0020}-\x{007E}]+$`)
	orgRoleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// freshID returns n characters of alphabet, different on every call: the
// emulator's stand-in for the random IDs AWS issues. The caller holds s.mu.
func (s *Server) freshID(alphabet string, n int) string {
	s.nextID++
	b := make([]byte, n)
	var block [32]byte
	for i := range b {
		if i%8 == 0 {
			block = sha256.Sum256([]byte(fmt.Sprintf("awsfake-id/%d/%d", s.nextID, i)))
		}
		b[i] = alphabet[binary.BigEndian.Uint32(block[(i%8)*4:])%uint32(len(alphabet))]
	}
	return string(b)
}

func (s *Server) orgCreateOrganization(c orgCall) (any, *apiError) {
	var in struct{ FeatureSet string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	switch in.FeatureSet {
	case "":
		in.FeatureSet = "ALL"
	case "ALL", "CONSOLIDATED_BILLING":
	default:
		return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for FeatureSet: "+in.FeatureSet+"; it must be ALL or CONSOLIDATED_BILLING.")
	}
	o, e := s.createOrganization(c.r.caller.account, in.FeatureSet)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Organization": organizationOut(o)}, nil
}

// CreateOrganization makes accountID the management account of a new
// organization of all features, as organizations:CreateOrganization called
// by that account does (and as the console does when it enables IAM
// Identity Center in a standalone account), and returns a copy.
func (s *Server) CreateOrganization(accountID string) (*Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[accountID] == nil {
		return nil, fmt.Errorf("awsfake: no account %s: add it with AddAccount first", accountID)
	}
	o, e := s.createOrganization(accountID, "ALL")
	if e != nil {
		return nil, fmt.Errorf("awsfake: %s: %s", e.code, e.message)
	}
	return o.Clone(), nil
}

// createOrganization makes acct the management account of a new
// organization of featureSet. The caller holds s.mu.
func (s *Server) createOrganization(acct, featureSet string) (*Organization, *apiError) {
	if s.org != nil {
		if s.org.Accounts[acct] != nil {
			return nil, orgErr("AlreadyInOrganizationException", "This account is already a member of an organization.")
		}
		// AWS has one organization per management account; the
		// emulator holds one organization in all.
		return nil, orgErr("ConstraintViolationException", "awsfake holds one organization, and organization "+s.org.ID+" exists; start another emulator for a second one.")
	}
	a := s.accounts[acct]
	orgID := "o-" + s.freshID(lowerAlnum, 10)
	rootID := "r-" + s.freshID(lowerAlnum, 4)
	name := a.Alias
	if name == "" {
		name = "management"
	}
	o := &Organization{ID: orgID, ARN: "arn:aws:organizations::" + acct + ":organization/" + orgID, FeatureSet: featureSet,
		ManagementAccountID: acct, ManagementAccountEmail: "aws+" + acct + "@example.com",
		Root: &OrgRoot{ID: rootID, ARN: "arn:aws:organizations::" + acct + ":root/" + orgID + "/" + rootID, Name: "Root"},
		OUs:  map[string]*OrgUnit{}, Accounts: map[string]*OrgAccount{}, Policies: map[string]*OrgPolicy{}}
	o.Accounts[acct] = &OrgAccount{ID: acct, ARN: o.accountARN(acct), Name: name, Email: o.ManagementAccountEmail,
		Status: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: s.stamp(), ParentID: rootID}
	if featureSet == "ALL" {
		// All features: service control policies are enabled in the
		// root, FullAWSAccess attached to it and to the account.
		o.Policies[FullAWSAccessID] = fullAWSAccess()
		o.enablePolicyType("SERVICE_CONTROL_POLICY")
	}
	s.org = o
	return o, nil
}

// fullAWSAccess is the AWS managed SCP FullAWSAccess, attached nowhere.
func fullAWSAccess() *OrgPolicy {
	return &OrgPolicy{ID: FullAWSAccessID, ARN: "arn:aws:organizations::aws:policy/service_control_policy/" + FullAWSAccessID,
		Name: "FullAWSAccess", Description: "Allows access to every operation", Type: "SERVICE_CONTROL_POLICY", AWSManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}
}

func (o *Organization) accountARN(id string) string {
	return "arn:aws:organizations::" + o.ManagementAccountID + ":account/" + o.ID + "/" + id
}

// RCPFullAWSAccessID is the ID of the AWS managed resource control policy
// AWS attaches to the root and to every OU and account when resource
// control policies are enabled; it cannot be detached.
const RCPFullAWSAccessID = "p-RCPFullAWSAccess"

// rcpFullAWSAccess is the AWS managed RCP RCPFullAWSAccess, attached
// nowhere.
func rcpFullAWSAccess() *OrgPolicy {
	return &OrgPolicy{ID: RCPFullAWSAccessID, ARN: "arn:aws:organizations::aws:policy/resource_control_policy/" + RCPFullAWSAccessID,
		Name: "RCPFullAWSAccess", Description: "Allows access to every operation", Type: "RESOURCE_CONTROL_POLICY", AWSManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`}
}

// defaultPolicy is the AWS managed policy AWS attaches everywhere when
// policy type t is enabled (FullAWSAccess for SCPs, RCPFullAWSAccess for
// RCPs), made when missing; nil for the other types.
func (o *Organization) defaultPolicy(t string) *OrgPolicy {
	id, mk := FullAWSAccessID, fullAWSAccess
	switch t {
	case "SERVICE_CONTROL_POLICY":
	case "RESOURCE_CONTROL_POLICY":
		id, mk = RCPFullAWSAccessID, rcpFullAWSAccess
	default:
		return nil
	}
	if o.Policies[id] == nil {
		o.Policies[id] = mk()
	}
	return o.Policies[id]
}

// EnablePolicyType enables policy type t in the root as EnablePolicyType
// does (for building estates): see enablePolicyType.
func (o *Organization) EnablePolicyType(t string) {
	if !slices.Contains(o.Root.PolicyTypes, t) {
		o.enablePolicyType(t)
	}
}

// enablePolicyType enables t in the root; enabling service control
// policies attaches FullAWSAccess, and enabling resource control policies
// RCPFullAWSAccess, to the root and to every OU and account, as AWS does.
func (o *Organization) enablePolicyType(t string) {
	o.Root.PolicyTypes = append(o.Root.PolicyTypes, t)
	full := o.defaultPolicy(t)
	if full == nil {
		return
	}
	for _, id := range append(append([]string{o.Root.ID}, sortedKeys(o.OUs)...), sortedKeys(o.Accounts)...) {
		if !slices.Contains(full.Targets, id) {
			full.Targets = append(full.Targets, id)
		}
	}
}

// attachDefaults attaches FullAWSAccess (RCPFullAWSAccess) to a new OU or
// account when service (resource) control policies are enabled, as AWS
// does.
func (o *Organization) attachDefaults(id string) {
	for _, t := range []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"} {
		if slices.Contains(o.Root.PolicyTypes, t) {
			full := o.defaultPolicy(t)
			full.Targets = append(full.Targets, id)
		}
	}
}

// detachAll removes every attachment to a target that is going away.
func (o *Organization) detachAll(id string) {
	for _, p := range o.Policies {
		p.Targets = slices.DeleteFunc(p.Targets, func(t string) bool { return t == id })
	}
}

func (s *Server) orgDeleteOrganization(c orgCall) (any, *apiError) {
	if len(c.o.Accounts) > 1 {
		return nil, orgErr("OrganizationNotEmptyException", "The organization isn't empty: remove every member account first.")
	}
	s.org = nil
	return map[string]any{}, nil
}

// orgTagsIn reads and checks the Tags of a create or TagResource request.
func orgTagsIn(tags []struct{ Key, Value string }) ([]Tag, *apiError) {
	if len(tags) > maxOrgTags {
		return nil, constraintViolation("MAX_TAG_LIMIT_EXCEEDED", fmt.Sprintf("You can attach at most %d tags to a resource.", maxOrgTags))
	}
	var out []Tag
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128:
			return nil, invalidInput("INVALID_LIST_MEMBER", "A tag key must have 1 to 128 characters.")
		case utf8.RuneCountInString(t.Value) > 256:
			return nil, invalidInput("INVALID_LIST_MEMBER", "A tag value must have at most 256 characters.")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return nil, invalidInput("INVALID_SYSTEM_TAGS_PARAMETER", "Tag keys that start with aws: are reserved for AWS.")
		case seen[t.Key]:
			return nil, invalidInput("DUPLICATE_TAG_KEY", "The tag key "+t.Key+" is given twice.")
		}
		seen[t.Key] = true
		out = append(out, Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// checkLength answers MIN_LENGTH_EXCEEDED or MAX_LENGTH_EXCEEDED for a
// field outside min..max characters (INPUT_REQUIRED when empty and
// required).
func checkLength(field, v string, min, max int) *apiError {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		return invalidInput("INPUT_REQUIRED", "You must specify a value for "+field+".")
	case n < min:
		return invalidInput("MIN_LENGTH_EXCEEDED", fmt.Sprintf("%s must have at least %d characters.", field, min))
	case n > max:
		return invalidInput("MAX_LENGTH_EXCEEDED", fmt.Sprintf("%s must have at most %d characters.", field, max))
	}
	return nil
}

func (s *Server) orgCreateAccount(c orgCall) (any, *apiError) {
	var in struct {
		Email, AccountName, RoleName, IamUserAccessToBilling string
		Tags                                                 []struct{ Key, Value string }
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	if e := checkLength("Email", in.Email, 6, 64); e != nil {
		return nil, e
	}
	if !orgEmailRE.MatchString(in.Email) {
		return nil, invalidInput("INVALID_PATTERN", "The Email "+in.Email+" is not a valid e-mail address.")
	}
	if e := checkLength("AccountName", in.AccountName, 1, 50); e != nil {
		return nil, e
	}
	if !orgAccountRE.MatchString(in.AccountName) {
		return nil, invalidInput("INVALID_PATTERN", "AccountName may hold only printable ASCII characters.")
	}
	if in.RoleName == "" {
		in.RoleName = DefaultMemberRoleName
	} else if !orgRoleNameRE.MatchString(in.RoleName) {
		return nil, invalidInput("INVALID_ROLE_NAME", "The RoleName "+in.RoleName+" is not a valid IAM role name (1 to 64 of letters, digits and +=,.@_-).")
	}
	switch in.IamUserAccessToBilling {
	case "", "ALLOW", "DENY":
	default:
		return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for IamUserAccessToBilling: "+in.IamUserAccessToBilling+"; it must be ALLOW or DENY.")
	}
	tags, e := orgTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	req := &createAccountRequest{ID: "car-" + s.freshID(lowerAlnum, 32), AccountName: in.AccountName, Email: in.Email,
		RoleName: in.RoleName, Tags: tags, RequestedAt: s.stamp(), State: "IN_PROGRESS"}
	c.o.createRequests = append(c.o.createRequests, req)
	// The answer is always IN_PROGRESS, as AWS's is: the account exists
	// once DescribeCreateAccountStatus says SUCCEEDED.
	return map[string]any{"CreateAccountStatus": createStatusOut(req)}, nil
}

func createStatusOut(r *createAccountRequest) map[string]any {
	out := map[string]any{"Id": r.ID, "AccountName": r.AccountName, "State": r.State, "RequestedTimestamp": epoch(r.RequestedAt)}
	if r.State != "IN_PROGRESS" {
		out["CompletedTimestamp"] = epoch(r.CompletedAt)
	}
	if r.AccountID != "" {
		out["AccountId"] = r.AccountID
	}
	if r.FailureReason != "" {
		out["FailureReason"] = r.FailureReason
	}
	return out
}

// settleAccountCreations completes the closures (the account is
// SUSPENDED) and the CreateAccount requests whose delay has passed: one
// whose e-mail an account of the organization already has fails with
// EMAIL_ALREADY_EXISTS; the others create the account (in the root,
// FullAWSAccess attached when SCPs are enabled) and, in its empty IAM, the
// member role. The caller holds s.mu.
func (s *Server) settleAccountCreations() {
	o := s.org
	if o == nil {
		return
	}
	for id, at := range o.closedAt {
		if a := o.Accounts[id]; a != nil && a.Status == "PENDING_CLOSURE" && s.now().Sub(at) >= s.opts.AccountCreationDelay {
			a.Status = "SUSPENDED"
		}
	}
	for _, req := range o.createRequests {
		if req.State != "IN_PROGRESS" || s.now().Sub(req.RequestedAt) < s.opts.AccountCreationDelay {
			continue
		}
		req.CompletedAt = s.stamp()
		taken := false
		for _, a := range o.Accounts {
			taken = taken || strings.EqualFold(a.Email, req.Email)
		}
		if taken {
			req.State, req.FailureReason = "FAILED", "EMAIL_ALREADY_EXISTS"
			continue
		}
		id := s.freshAccountID()
		now := s.stamp()
		acct := &Account{ID: id, CreatedAt: now, IAM: &IAM{Users: map[string]*User{}, Groups: map[string]*Group{}, Roles: map[string]*Role{},
			Policies: map[string]*ManagedPolicy{}, Root: RootUser{CreatedAt: now}}}
		acct.IAM.Roles[req.RoleName] = createdMemberRole(id, req.RoleName, o.ManagementAccountID, now)
		s.accounts[id] = acct
		o.Accounts[id] = &OrgAccount{ID: id, ARN: o.accountARN(id), Name: req.AccountName, Email: req.Email, Status: "ACTIVE",
			JoinedMethod: "CREATED", JoinedAt: now, ParentID: o.Root.ID, Tags: req.Tags}
		o.attachDefaults(id)
		req.State, req.AccountID = "SUCCEEDED", id
	}
}

// freshAccountID returns a 12-digit account ID no emulated account has.
func (s *Server) freshAccountID() string {
	for {
		id := s.freshID("0123456789", 12)
		if id[0] != '0' && s.accounts[id] == nil {
			return id
		}
	}
}

// createdMemberRole is the role Organizations creates in an account it
// creates: trusted by the management account, AdministratorAccess
// attached.
func createdMemberRole(account, name, mgmt string, now time.Time) *Role {
	sum := sha256.Sum256([]byte("member-role/" + account + "/" + name))
	id := "AROA"
	for _, b := range sum[:17] {
		id += string(idAlphabet[int(b)%len(idAlphabet)])
	}
	return &Role{Name: name, ID: id, Path: "/", ARN: "arn:aws:iam::" + account + ":role/" + name, CreatedAt: now, MaxSessionDuration: 3600,
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + mgmt + `:root"},"Action":"sts:AssumeRole"}]}`,
		AttachedPolicies: []string{orgAdministratorAccessARN}, InlinePolicies: map[string]string{}}
}

// orgCloseAccount closes a member account: PENDING_CLOSURE, then
// SUSPENDED once Options.AccountCreationDelay has passed (at the next call
// when it is 0), as AWS closes it in the background. At most 10%
// of the active members (at least 10, at most 1,000) may be closed in a
// rolling 30 days.
func (s *Server) orgCloseAccount(c orgCall) (any, *apiError) {
	o := c.o
	a := o.Accounts[c.in.AccountId]
	switch {
	case a == nil:
		return nil, accountNotFound()
	case a.ID == o.ManagementAccountID:
		return nil, constraintViolation("CANNOT_CLOSE_MANAGEMENT_ACCOUNT", "You can't close the management account with CloseAccount.")
	case a.Status != "ACTIVE":
		return nil, orgErr("AccountAlreadyClosedException", "The account "+a.ID+" is already closed.")
	}
	active := 0
	for _, m := range o.Accounts {
		if m.ID != o.ManagementAccountID && m.Status == "ACTIVE" {
			active++
		}
	}
	recent := 0
	for _, t := range o.closedAt {
		if s.now().Sub(t) < 30*24*time.Hour {
			recent++
		}
	}
	if recent >= min(1000, max(10, active/10)) {
		return nil, constraintViolation("CLOSE_ACCOUNT_QUOTA_EXCEEDED", "You have closed as many accounts as AWS allows in 30 days (10% of the active members, at least 10).")
	}
	a.Status = "PENDING_CLOSURE"
	if o.closedAt == nil {
		o.closedAt = map[string]time.Time{}
	}
	o.closedAt[a.ID] = s.stamp()
	return map[string]any{}, nil
}

// orgRemoveAccount removes a member account from the organization, as
// RemoveAccountFromOrganization does: never the management account, and a
// CREATED account only once it holds what a standalone account needs. The
// account itself (and its IAM) goes on existing outside the organization;
// its policy attachments go with its membership.
func (s *Server) orgRemoveAccount(c orgCall) (any, *apiError) {
	o := c.o
	a := o.Accounts[c.in.AccountId]
	switch {
	case a == nil:
		return nil, accountNotFound()
	case a.ID == o.ManagementAccountID:
		return nil, constraintViolation("ACCOUNT_CANNOT_LEAVE_ORGANIZATION",
			"You can't remove the management account. Instead, after you remove all member accounts, delete the organization itself.")
	case a.JoinedMethod == "CREATED" && !a.Standalone:
		return nil, constraintViolation("ACCOUNT_CANNOT_LEAVE_WITHOUT_PHONE_VERIFICATION",
			"The account "+a.ID+" doesn't yet have enough information to exist as a standalone account: sign in to it and complete phone verification first.")
	}
	o.detachAll(a.ID)
	delete(o.Accounts, a.ID)
	delete(o.closedAt, a.ID)
	return map[string]any{}, nil
}

func (s *Server) orgDescribeCreateAccountStatus(c orgCall) (any, *apiError) {
	for _, req := range c.o.createRequests {
		if req.ID == c.in.CreateAccountRequestId {
			return map[string]any{"CreateAccountStatus": createStatusOut(req)}, nil
		}
	}
	return nil, orgErr("CreateAccountStatusNotFoundException", "We can't find a create account request with the CreateAccountRequestId that you specified.")
}

func (s *Server) orgListCreateAccountStatus(c orgCall) (any, *apiError) {
	var in struct{ States []string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	for _, st := range in.States {
		if st != "IN_PROGRESS" && st != "SUCCEEDED" && st != "FAILED" {
			return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for States: "+st+".")
		}
	}
	var out []map[string]any
	for _, req := range c.o.createRequests {
		if len(in.States) == 0 || slices.Contains(in.States, req.State) {
			out = append(out, createStatusOut(req))
		}
	}
	return orgList(c.in, "CreateAccountStatuses", out, false)
}

// ouDepth is how many OUs deep id is below the root (the root is 0).
func (o *Organization) ouDepth(id string) int {
	d := 0
	for u := o.OUs[id]; u != nil; u = o.OUs[u.ParentID] {
		d++
	}
	return d
}

func (s *Server) orgCreateOU(c orgCall) (any, *apiError) {
	var in struct {
		Name string
		Tags []struct{ Key, Value string }
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	o := c.o
	if e := checkLength("Name", in.Name, 1, 128); e != nil {
		return nil, e
	}
	tags, e := orgTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	if e := o.checkParent(c.in.ParentId); e != nil {
		return nil, e
	}
	for _, u := range o.OUs {
		if u.ParentID == c.in.ParentId && u.Name == in.Name {
			return nil, orgErr("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		}
	}
	if o.ouDepth(c.in.ParentId)+1 > maxOUDepth {
		return nil, constraintViolation("OU_DEPTH_LIMIT_EXCEEDED", fmt.Sprintf("You can nest OUs at most %d levels deep below the root.", maxOUDepth))
	}
	id := "ou-" + strings.TrimPrefix(o.Root.ID, "r-") + "-" + s.freshID(lowerAlnum, 8)
	u := &OrgUnit{ID: id, ARN: "arn:aws:organizations::" + o.ManagementAccountID + ":ou/" + o.ID + "/" + id, Name: in.Name,
		ParentID: c.in.ParentId, Tags: tags}
	o.OUs[id] = u
	o.attachDefaults(id)
	return map[string]any{"OrganizationalUnit": ouOut(u)}, nil
}

func (s *Server) orgUpdateOU(c orgCall) (any, *apiError) {
	var in struct{ Name *string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	u := c.o.OUs[c.in.OrganizationalUnitId]
	if u == nil {
		return nil, ouNotFound()
	}
	if in.Name != nil {
		if e := checkLength("Name", *in.Name, 1, 128); e != nil {
			return nil, e
		}
		for _, other := range c.o.OUs {
			if other != u && other.ParentID == u.ParentID && other.Name == *in.Name {
				return nil, orgErr("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
			}
		}
		u.Name = *in.Name
	}
	return map[string]any{"OrganizationalUnit": ouOut(u)}, nil
}

func (s *Server) orgDeleteOU(c orgCall) (any, *apiError) {
	o, id := c.o, c.in.OrganizationalUnitId
	if o.OUs[id] == nil {
		return nil, ouNotFound()
	}
	for _, u := range o.OUs {
		if u.ParentID == id {
			return nil, orgErr("OrganizationalUnitNotEmptyException", "The OU still holds OUs: delete or move them first.")
		}
	}
	for _, a := range o.Accounts {
		if a.ParentID == id {
			return nil, orgErr("OrganizationalUnitNotEmptyException", "The OU still holds accounts: move them first.")
		}
	}
	o.detachAll(id)
	delete(o.OUs, id)
	return map[string]any{}, nil
}

func (s *Server) orgMoveAccount(c orgCall) (any, *apiError) {
	o, in := c.o, c.in
	a := o.Accounts[in.AccountId]
	if a == nil {
		return nil, accountNotFound()
	}
	if t := o.nodeType(in.SourceParentId); t != "ROOT" && t != "ORGANIZATIONAL_UNIT" {
		return nil, orgErr("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified.")
	}
	if t := o.nodeType(in.DestinationParentId); t != "ROOT" && t != "ORGANIZATIONAL_UNIT" {
		return nil, orgErr("DestinationParentNotFoundException", "We can't find a destination root or OU with the ParentId that you specified.")
	}
	if a.ParentID != in.SourceParentId {
		// The account is not where the caller says it is.
		return nil, orgErr("SourceParentNotFoundException", "Account "+a.ID+" is not in "+in.SourceParentId+".")
	}
	if in.DestinationParentId == in.SourceParentId {
		return nil, orgErr("DuplicateAccountException", "That account is already present in the specified destination.")
	}
	a.ParentID = in.DestinationParentId
	return map[string]any{}, nil
}

// checkPolicyContent validates a policy's content for its type: a service
// control policy (or resource control policy) is an IAM policy document of
// at most 5,120 characters; the other types must be JSON objects.
func checkPolicyContent(policyType, content string) *apiError {
	if e := checkLength("Content", content, 1, 1000000); e != nil {
		return e
	}
	if policyType == "SERVICE_CONTROL_POLICY" || policyType == "RESOURCE_CONTROL_POLICY" {
		if len(content) > maxSCPSize {
			return constraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED", fmt.Sprintf("The policy is %d characters; the most a %s may have is %d.", len(content), policyType, maxSCPSize))
		}
		kind := serviceControlPolicy
		if policyType == "RESOURCE_CONTROL_POLICY" {
			kind = resourceControlPolicy
		}
		if msg := policyDocProblem(content, kind); msg != "" {
			return orgErr("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type: "+msg)
		}
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(content), &v); err != nil {
		return orgErr("MalformedPolicyDocumentException", "The provided policy document is not a JSON object.")
	}
	return nil
}

func (s *Server) orgCreatePolicy(c orgCall) (any, *apiError) {
	var in struct {
		Content, Description, Name, Type string
		Tags                             []struct{ Key, Value string }
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	o := c.o
	if e := checkPolicyType("Type", in.Type); e != nil {
		return nil, e
	}
	if e := checkLength("Name", in.Name, 1, 128); e != nil {
		return nil, e
	}
	if e := checkLength("Description", in.Description, 0, 512); e != nil {
		return nil, e
	}
	tags, e := orgTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	if o.FeatureSet != "ALL" {
		return nil, orgErr("PolicyTypeNotAvailableForOrganizationException", "You can't use "+in.Type+" in an organization without all features enabled.")
	}
	if e := checkPolicyContent(in.Type, in.Content); e != nil {
		return nil, e
	}
	for _, p := range o.Policies {
		if p.Type == in.Type && p.Name == in.Name {
			return nil, orgErr("DuplicatePolicyException", "A policy with the same name already exists.")
		}
	}
	id := "p-" + s.freshID(lowerAlnum, 8)
	p := &OrgPolicy{ID: id, ARN: "arn:aws:organizations::" + o.ManagementAccountID + ":policy/" + o.ID + "/" + orgPolicyTypes[in.Type] + "/" + id,
		Name: in.Name, Description: in.Description, Type: in.Type, Content: in.Content, Tags: tags}
	o.Policies[id] = p
	return map[string]any{"Policy": policyOut(p)}, nil
}

func (s *Server) orgUpdatePolicy(c orgCall) (any, *apiError) {
	var in struct{ Content, Description, Name *string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	p := c.o.Policies[c.in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	if p.AWSManaged {
		return nil, invalidInput("IMMUTABLE_POLICY", "You can't change an AWS managed policy.")
	}
	if in.Name != nil {
		if e := checkLength("Name", *in.Name, 1, 128); e != nil {
			return nil, e
		}
		for _, other := range c.o.Policies {
			if other != p && other.Type == p.Type && other.Name == *in.Name {
				return nil, orgErr("DuplicatePolicyException", "A policy with the same name already exists.")
			}
		}
	}
	if in.Description != nil {
		if e := checkLength("Description", *in.Description, 0, 512); e != nil {
			return nil, e
		}
	}
	if in.Content != nil {
		if e := checkPolicyContent(p.Type, *in.Content); e != nil {
			return nil, e
		}
		p.Content = *in.Content
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	return map[string]any{"Policy": policyOut(p)}, nil
}

func (s *Server) orgDeletePolicy(c orgCall) (any, *apiError) {
	p := c.o.Policies[c.in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	if p.AWSManaged {
		return nil, invalidInput("IMMUTABLE_POLICY", "You can't delete an AWS managed policy.")
	}
	if len(p.Targets) > 0 {
		return nil, orgErr("PolicyInUseException", "The policy is attached to one or more entities: detach it from every root, OU and account first.")
	}
	delete(c.o.Policies, p.ID)
	return map[string]any{}, nil
}

// attachmentsOfType counts the policies of type t attached to target.
func (o *Organization) attachmentsOfType(t, target string) int {
	n := 0
	for _, p := range o.Policies {
		if p.Type == t && slices.Contains(p.Targets, target) {
			n++
		}
	}
	return n
}

func (s *Server) orgAttachPolicy(c orgCall) (any, *apiError) {
	o, in := c.o, c.in
	p := o.Policies[in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	if o.nodeType(in.TargetId) == "" {
		return nil, targetNotFound()
	}
	if !slices.Contains(o.Root.PolicyTypes, p.Type) {
		return nil, orgErr("PolicyTypeNotEnabledException", "The policy type "+p.Type+" isn't enabled in the root: enable it with EnablePolicyType first.")
	}
	if slices.Contains(p.Targets, in.TargetId) {
		return nil, orgErr("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	}
	if max := maxPoliciesPerTarget(p.Type); o.attachmentsOfType(p.Type, in.TargetId) >= max {
		return nil, constraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", fmt.Sprintf("A target can have at most %d policies of type %s attached.", max, p.Type))
	}
	p.Targets = append(p.Targets, in.TargetId)
	return map[string]any{}, nil
}

func (s *Server) orgDetachPolicy(c orgCall) (any, *apiError) {
	o, in := c.o, c.in
	p := o.Policies[in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	if o.nodeType(in.TargetId) == "" {
		return nil, targetNotFound()
	}
	if !slices.Contains(p.Targets, in.TargetId) {
		return nil, orgErr("PolicyNotAttachedException", "The policy isn't attached to the specified target.")
	}
	if p.ID == RCPFullAWSAccessID {
		return nil, constraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You can't detach RCPFullAWSAccess: AWS keeps it attached to the root and to every OU and account while resource control policies are enabled.")
	}
	if p.Type == "SERVICE_CONTROL_POLICY" && o.attachmentsOfType(p.Type, in.TargetId) == 1 {
		return nil, constraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "A root, OU or account must keep at least one service control policy attached: attach another before detaching this one.")
	}
	p.Targets = slices.DeleteFunc(p.Targets, func(t string) bool { return t == in.TargetId })
	return map[string]any{}, nil
}

// checkRoot finds the root an action names.
func (o *Organization) checkRoot(id string) *apiError {
	if o.Root == nil || o.Root.ID != id {
		return orgErr("RootNotFoundException", "We can't find a root with the RootId that you specified.")
	}
	return nil
}

// policyTypeIn reads and checks the PolicyType and RootId of an Enable or
// DisablePolicyType request.
func policyTypeIn(c orgCall) (string, *apiError) {
	var in struct{ PolicyType string }
	if e := c.r.decode(&in); e != nil {
		return "", e
	}
	if e := checkPolicyType("PolicyType", in.PolicyType); e != nil {
		return "", e
	}
	if e := c.o.checkRoot(c.in.RootId); e != nil {
		return "", e
	}
	return in.PolicyType, nil
}

func (s *Server) orgEnablePolicyType(c orgCall) (any, *apiError) {
	policyType, e := policyTypeIn(c)
	if e != nil {
		return nil, e
	}
	o := c.o
	if o.FeatureSet != "ALL" {
		return nil, orgErr("PolicyTypeNotAvailableForOrganizationException", "You can enable policy types only in an organization with all features enabled.")
	}
	if slices.Contains(o.Root.PolicyTypes, policyType) {
		return nil, orgErr("PolicyTypeAlreadyEnabledException", "The policy type "+policyType+" is already enabled in the root.")
	}
	o.enablePolicyType(policyType)
	return map[string]any{"Root": rootOut(o.Root)}, nil
}

func (s *Server) orgDisablePolicyType(c orgCall) (any, *apiError) {
	policyType, e := policyTypeIn(c)
	if e != nil {
		return nil, e
	}
	o := c.o
	if !slices.Contains(o.Root.PolicyTypes, policyType) {
		return nil, orgErr("PolicyTypeNotEnabledException", "The policy type "+policyType+" isn't enabled in the root.")
	}
	// Disabling a type detaches every policy of that type everywhere.
	o.Root.PolicyTypes = slices.DeleteFunc(o.Root.PolicyTypes, func(t string) bool { return t == policyType })
	for _, p := range o.Policies {
		if p.Type == policyType {
			p.Targets = nil
		}
	}
	return map[string]any{"Root": rootOut(o.Root)}, nil
}

// mergeTags returns tags with add applied: a tag whose key is already
// there replaces it, others are appended. Keys compare exactly, as
// Organizations and SSO Admin compare them (IAM's compare without case).
func mergeTags(tags, add []Tag) []Tag {
	merged := slices.Clone(tags)
	for _, t := range add {
		if i := slices.IndexFunc(merged, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	return merged
}

// tagsRef returns a pointer to the tags of a root, OU, account or policy,
// or nil when there is none of that id. An AWS managed policy has tags to
// read (none) but none to write: it is found only when awsManaged.
func (o *Organization) tagsRef(id string, awsManaged bool) *[]Tag {
	switch {
	case o.Root != nil && id == o.Root.ID:
		return &o.Root.Tags
	case o.OUs[id] != nil:
		return &o.OUs[id].Tags
	case o.Accounts[id] != nil:
		return &o.Accounts[id].Tags
	case o.Policies[id] != nil && (awsManaged || !o.Policies[id].AWSManaged):
		return &o.Policies[id].Tags
	}
	return nil
}

func (s *Server) orgTagResource(c orgCall) (any, *apiError) {
	var in struct{ Tags []struct{ Key, Value string } }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ref := c.o.tagsRef(c.in.ResourceId, false)
	if ref == nil {
		return nil, targetNotFound()
	}
	tags, e := orgTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	merged := mergeTags(*ref, tags)
	if len(merged) > maxOrgTags {
		return nil, constraintViolation("MAX_TAG_LIMIT_EXCEEDED", fmt.Sprintf("You can attach at most %d tags to a resource.", maxOrgTags))
	}
	*ref = merged
	return map[string]any{}, nil
}

func (s *Server) orgUntagResource(c orgCall) (any, *apiError) {
	var in struct{ TagKeys []string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ref := c.o.tagsRef(c.in.ResourceId, false)
	if ref == nil {
		return nil, targetNotFound()
	}
	*ref = slices.DeleteFunc(*ref, func(t Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return map[string]any{}, nil
}

// stamp is the time a write records: now, to the millisecond, as the JSON
// services keep and answer their timestamps. The caller holds s.mu.
func (s *Server) stamp() time.Time { return s.now().Truncate(time.Millisecond) }

var orgServicePrincipalRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// servicePrincipalIn reads and checks the ServicePrincipal of a service
// access request: a service's principal, name.amazonaws.com.
func servicePrincipalIn(c orgCall) (string, *apiError) {
	var in struct{ ServicePrincipal string }
	if e := c.r.decode(&in); e != nil {
		return "", e
	}
	switch p := in.ServicePrincipal; {
	case p == "":
		return "", invalidInput("INPUT_REQUIRED", "You must specify a value for ServicePrincipal.")
	case !orgServicePrincipalRE.MatchString(p):
		return "", invalidInput("INVALID_PATTERN", "The ServicePrincipal "+p+" does not match the required pattern.")
	case !strings.HasSuffix(p, ".amazonaws.com"):
		return "", invalidInput("UNRECOGNIZED_SERVICE_PRINCIPAL", "You specified a service principal that isn't recognized: "+p+".")
	}
	if c.o.FeatureSet != "ALL" {
		return "", constraintViolation("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE", "Trusted access needs all features enabled in the organization.")
	}
	return in.ServicePrincipal, nil
}

// orgEnableServiceAccess trusts a service; enabling one already trusted
// changes nothing.
func (s *Server) orgEnableServiceAccess(c orgCall) (any, *apiError) {
	p, e := servicePrincipalIn(c)
	if e != nil {
		return nil, e
	}
	if !slices.ContainsFunc(c.o.ServiceAccess, func(a OrgServiceAccess) bool { return a.ServicePrincipal == p }) {
		c.o.ServiceAccess = append(c.o.ServiceAccess, OrgServiceAccess{ServicePrincipal: p, EnabledAt: s.stamp()})
	}
	return map[string]any{}, nil
}

func (s *Server) orgDisableServiceAccess(c orgCall) (any, *apiError) {
	p, e := servicePrincipalIn(c)
	if e != nil {
		return nil, e
	}
	c.o.ServiceAccess = slices.DeleteFunc(c.o.ServiceAccess, func(a OrgServiceAccess) bool { return a.ServicePrincipal == p })
	return map[string]any{}, nil
}

func (s *Server) orgListServiceAccess(c orgCall) (any, *apiError) {
	var out []map[string]any
	for _, a := range c.o.ServiceAccess {
		out = append(out, map[string]any{"ServicePrincipal": a.ServicePrincipal, "DateEnabled": epoch(a.EnabledAt)})
	}
	return orgList(c.in, "EnabledServicePrincipals", out, false)
}
