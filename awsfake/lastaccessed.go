package awsfake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strings"
	"time"
)

// This file serves IAM's service last accessed data (access advisor):
// GenerateServiceLastAccessedDetails starts a job for a user, group, role or
// managed policy of the caller's account and answers its JobId;
// GetServiceLastAccessedDetails answers the job IN_PROGRESS first (as many
// times as SetLastAccessedPolls says, once by default), then COMPLETED with
// every service the entity's permissions policies grant, each with its last
// access when there was one, paged by MaxItems and Marker. AWS documents
// that the JobId "must be used by the same role within a session, or by the
// same user": a JobId read by any other caller (another user, another role,
// or the same role in another session) is answered NoSuchEntity, as a job
// that does not exist for that caller (AWS does not document the exact
// message; the botocore model lists NoSuchEntity and InvalidInput as the
// operation's only errors).
//
// The data is the estate's own, deterministic and consistent with it: a
// service is granted when an Allow statement of the entity's policies names
// one of its actions (or "*"); a principal that never signed in, used a key
// or was assumed (PasswordLastUsed, AccessKey.LastUsed, Role.LastUsed) used
// nothing; one that did used some of its granted services (chosen by a hash
// of its ARN and the service), at or before its last activity. LastAccessed
// returns the same data, the ground truth.

// lastAccessedTracking is how far back IAM reports last access (AWS: at
// least 400 days).
const lastAccessedTracking = 400 * 24 * time.Hour

// LastAccessedService is a service of the emulator's catalogue: its
// namespace, name, and the actions AWS tracks at action level ("" for a
// service tracked only at service level).
type LastAccessedService struct {
	Namespace      string
	Name           string
	TrackedActions []string
}

// LastAccessedCatalog is the services the emulator knows, by namespace: a
// policy granting "*" grants all of them. Action-level tracking is AWS's
// for Amazon EC2, IAM, Lambda and Amazon S3 management actions; the tracked
// actions listed are a subset of AWS's.
var LastAccessedCatalog = []LastAccessedService{
	{Namespace: "access-analyzer", Name: "IAM Access Analyzer"},
	{Namespace: "cloudformation", Name: "AWS CloudFormation"},
	{Namespace: "cloudtrail", Name: "AWS CloudTrail"},
	{Namespace: "cloudwatch", Name: "Amazon CloudWatch"},
	{Namespace: "dynamodb", Name: "Amazon DynamoDB"},
	{Namespace: "ec2", Name: "Amazon EC2", TrackedActions: []string{"AuthorizeSecurityGroupIngress", "CreateSecurityGroup", "DescribeInstances", "RunInstances", "TerminateInstances"}},
	{Namespace: "ecr", Name: "Amazon Elastic Container Registry"},
	{Namespace: "iam", Name: "AWS Identity and Access Management", TrackedActions: []string{"AttachRolePolicy", "CreateRole", "CreateUser", "DeleteUser", "GetAccountAuthorizationDetails", "ListUsers"}},
	{Namespace: "identitystore", Name: "AWS Identity Store"},
	{Namespace: "kms", Name: "AWS Key Management Service"},
	{Namespace: "lambda", Name: "AWS Lambda", TrackedActions: []string{"CreateFunction", "DeleteFunction", "GetFunction", "ListFunctions", "UpdateFunctionCode"}},
	{Namespace: "logs", Name: "Amazon CloudWatch Logs"},
	{Namespace: "organizations", Name: "AWS Organizations"},
	{Namespace: "rds", Name: "Amazon RDS"},
	{Namespace: "s3", Name: "Amazon S3", TrackedActions: []string{"CreateBucket", "DeleteBucket", "GetBucketPolicy", "ListAllMyBuckets", "PutBucketPolicy"}},
	{Namespace: "secretsmanager", Name: "AWS Secrets Manager"},
	{Namespace: "sns", Name: "Amazon SNS"},
	{Namespace: "sqs", Name: "Amazon SQS"},
	{Namespace: "sso", Name: "AWS IAM Identity Center"},
	{Namespace: "ssm", Name: "AWS Systems Manager"},
	{Namespace: "sts", Name: "AWS Security Token Service"},
}

// ServiceAccess is one service of an entity's last accessed data, as
// GetServiceLastAccessedDetails answers it: LastAuthenticated nil when no
// one attempted it in the tracking period.
type ServiceAccess struct {
	Namespace         string
	Name              string
	LastAuthenticated *time.Time
	// Entity is the user or role that last attempted it, Region where.
	Entity string
	Region string
	// TotalEntities is how many principals attempted it.
	TotalEntities int
	// Actions are the tracked actions granted, at action level only (nil
	// when the service has none or no tracked action was used).
	Actions []ActionAccess
}

// ActionAccess is one tracked action of a service: LastAccessed nil when it
// was not used.
type ActionAccess struct {
	Name         string
	LastAccessed *time.Time
	Entity       string
	Region       string
}

// lastAccessedJob is one GenerateServiceLastAccessedDetails job.
type lastAccessedJob struct {
	owner       string // the caller that may read it (sessionKey)
	arn         string
	granularity string
	created     time.Time
	completed   time.Time
	polls       int // Get calls answered so far
	services    []ServiceAccess
}

// lastAccessedState is the jobs, by JobId, guarded by the Server's mutex.
type lastAccessedState struct {
	jobs     map[string]*lastAccessedJob
	inFlight int // Get calls answered IN_PROGRESS before COMPLETED; 0 means 1
	next     int64
}

// SetLastAccessedPolls sets how many GetServiceLastAccessedDetails calls a
// job answers IN_PROGRESS before it is COMPLETED (default 1; at least 1).
func (s *Server) SetLastAccessedPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.la.inFlight = max(1, n)
}

// LastAccessedJobs returns how many jobs were generated.
func (s *Server) LastAccessedJobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.la.jobs)
}

// iamLastAccessedHandlers serve access advisor's two actions.
var iamLastAccessedHandlers = map[string]iamHandler{
	"GenerateServiceLastAccessedDetails": (*Server).generateServiceLastAccessedDetails,
	"GetServiceLastAccessedDetails":      (*Server).getServiceLastAccessedDetails,
}

// sessionKey identifies who may read a job: the same user, or the same
// role within one session (its session token).
func sessionKey(c caller) string {
	if c.roleARN != "" {
		return c.arn + "|" + c.sessionToken
	}
	return c.arn
}

type generateLastAccessedResult struct {
	JobID string `xml:"JobId"`
}

type xmlTrackedAction struct {
	ActionName         string `xml:"ActionName"`
	LastAccessedEntity string `xml:"LastAccessedEntity,omitempty"`
	LastAccessedTime   string `xml:"LastAccessedTime,omitempty"`
	LastAccessedRegion string `xml:"LastAccessedRegion,omitempty"`
}

type xmlServiceLastAccessed struct {
	ServiceName                string             `xml:"ServiceName"`
	ServiceNamespace           string             `xml:"ServiceNamespace"`
	LastAuthenticated          string             `xml:"LastAuthenticated,omitempty"`
	LastAuthenticatedEntity    string             `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string             `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities int                `xml:"TotalAuthenticatedEntities"`
	TrackedActionsLastAccessed []xmlTrackedAction `xml:"TrackedActionsLastAccessed>member,omitempty"`
}

type getLastAccessedResult struct {
	JobStatus            string                   `xml:"JobStatus"`
	JobType              string                   `xml:"JobType"`
	JobCreationDate      string                   `xml:"JobCreationDate"`
	JobCompletionDate    string                   `xml:"JobCompletionDate,omitempty"`
	ServicesLastAccessed []xmlServiceLastAccessed `xml:"ServicesLastAccessed>member"`
	IsTruncated          bool                     `xml:"IsTruncated"`
	Marker               string                   `xml:"Marker,omitempty"`
}

func (s *Server) generateServiceLastAccessedDetails(a *Account, r *request) (any, *apiError) {
	arn := r.get("Arn")
	gran := r.get("Granularity")
	switch gran {
	case "":
		gran = "SERVICE_LEVEL"
	case "SERVICE_LEVEL", "ACTION_LEVEL":
	default:
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]", gran))
	}
	if arn == "" {
		return nil, errValidation("1 validation error detected: Value null at 'arn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidInput", message: "ARN " + arn + " is not valid."}
	}
	services, ok := s.lastAccessed(a, arn, gran == "ACTION_LEVEL")
	if !ok {
		return nil, errNoSuchEntity("The entity " + arn + " cannot be found.")
	}
	if s.la.jobs == nil {
		s.la.jobs = map[string]*lastAccessedJob{}
	}
	s.la.next++
	h := fnv.New64a()
	h.Write([]byte(arn))
	id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(h.Sum64()), s.la.next&0xffff, 0x4000|(s.la.next>>16)&0x0fff, 0x8000, s.la.next)
	now := s.now()
	s.la.jobs[id] = &lastAccessedJob{owner: sessionKey(r.caller), arn: arn, granularity: gran, created: now, services: services}
	return &generateLastAccessedResult{JobID: id}, nil
}

func (s *Server) getServiceLastAccessedDetails(_ *Account, r *request) (any, *apiError) {
	id := r.get("JobId")
	if id == "" {
		return nil, errValidation("1 validation error detected: Value null at 'jobId' failed to satisfy constraint: Member must not be null")
	}
	if len(id) != 36 {
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'jobId' failed to satisfy constraint: Member must have length 36", id))
	}
	job := s.la.jobs[id]
	if job == nil || job.owner != sessionKey(r.caller) {
		return nil, errNoSuchEntity("No job " + id + " was created by this caller: a JobId must be read by the user, or the role session, that generated it.")
	}
	start, size, apiErr := r.page()
	if apiErr != nil {
		return nil, apiErr
	}
	out := &getLastAccessedResult{JobType: job.granularity, JobCreationDate: awsTime(job.created), ServicesLastAccessed: []xmlServiceLastAccessed{}}
	job.polls++
	inFlight := s.la.inFlight
	if inFlight == 0 {
		inFlight = 1
	}
	if job.completed.IsZero() && job.polls <= inFlight {
		out.JobStatus = "IN_PROGRESS"
		return out, nil
	}
	if job.completed.IsZero() {
		job.completed = s.now()
	}
	out.JobStatus, out.JobCompletionDate = "COMPLETED", awsTime(job.completed)
	if start > len(job.services) {
		return nil, errValidation("Invalid Marker.")
	}
	end, truncated, marker := pageEnd(start, size, len(job.services))
	for _, sv := range job.services[start:end] {
		x := xmlServiceLastAccessed{ServiceName: sv.Name, ServiceNamespace: sv.Namespace, TotalAuthenticatedEntities: sv.TotalEntities}
		if sv.LastAuthenticated != nil {
			x.LastAuthenticated, x.LastAuthenticatedEntity, x.LastAuthenticatedRegion = awsTime(*sv.LastAuthenticated), sv.Entity, sv.Region
		}
		for _, act := range sv.Actions {
			t := xmlTrackedAction{ActionName: act.Name}
			if act.LastAccessed != nil {
				t.LastAccessedTime, t.LastAccessedEntity, t.LastAccessedRegion = awsTime(*act.LastAccessed), act.Entity, act.Region
			}
			x.TrackedActionsLastAccessed = append(x.TrackedActionsLastAccessed, t)
		}
		out.ServicesLastAccessed = append(out.ServicesLastAccessed, x)
	}
	out.IsTruncated, out.Marker = truncated, marker
	return out, nil
}

// LastAccessed returns the ground truth: the service last accessed data of
// an entity (user, group, role or managed policy ARN) of an account, at
// action level when actions is set, sorted by namespace; ok is false when
// there is no such entity.
func (s *Server) LastAccessed(account, arn string, actions bool) (services []ServiceAccess, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil, false
	}
	return s.lastAccessed(a, arn, actions)
}

// lastAccessed computes an entity's data; the caller holds s.mu.
func (s *Server) lastAccessed(a *Account, arn string, actions bool) ([]ServiceAccess, bool) {
	if a == nil || a.IAM == nil {
		return nil, false
	}
	docs, users, ok := s.entityPolicies(a, arn)
	if !ok {
		return nil, false
	}
	now := s.now()
	grants := grantedServices(docs)
	var out []ServiceAccess
	for _, svc := range LastAccessedCatalog {
		patterns, granted := grants[svc.Namespace]
		if !granted {
			continue
		}
		sa := ServiceAccess{Namespace: svc.Namespace, Name: svc.Name}
		var tracked []ActionAccess
		if actions {
			for _, act := range svc.TrackedActions {
				if actionGranted(patterns, svc.Namespace+":"+act) {
					tracked = append(tracked, ActionAccess{Name: act})
				}
			}
		}
		usedActions := false
		for _, p := range users {
			t, region, used := p.serviceUse(svc.Namespace, now)
			if !used {
				continue
			}
			sa.TotalEntities++
			if sa.LastAuthenticated == nil || t.After(*sa.LastAuthenticated) {
				tt := t
				sa.LastAuthenticated, sa.Entity, sa.Region = &tt, p.arn, region
			}
			for i := range tracked {
				at, ok := p.actionUse(svc.Namespace, tracked[i].Name, t)
				if ok && (tracked[i].LastAccessed == nil || at.After(*tracked[i].LastAccessed)) {
					tracked[i].LastAccessed, tracked[i].Entity, tracked[i].Region = &at, p.arn, region
					usedActions = true
				}
			}
		}
		if usedActions {
			sa.Actions = tracked
		}
		out = append(out, sa)
	}
	return out, true
}

// activePrincipal is a user or role whose use the data reports: its ARN,
// last activity and region.
type activePrincipal struct {
	arn    string
	last   *time.Time
	region string
}

// serviceUse says whether and when p last used a service: a principal with
// no activity used nothing; one with activity used two services in three
// (by a hash of its ARN and the namespace), the latest at its last
// activity's day, older ones up to 150 days before it.
func (p activePrincipal) serviceUse(ns string, now time.Time) (time.Time, string, bool) {
	if p.last == nil {
		return time.Time{}, "", false
	}
	h := hash64(p.arn + "|" + ns)
	if h%3 == 0 {
		return time.Time{}, "", false
	}
	t := p.last.Add(-time.Duration((h>>8)%150) * 24 * time.Hour).UTC().Truncate(time.Second)
	if t.Before(now.Add(-lastAccessedTracking)) {
		return time.Time{}, "", false
	}
	return t, p.region, true
}

// actionUse says whether p used a tracked action of a service it used at
// svc: one in two, up to 5 days before the service's last use.
func (p activePrincipal) actionUse(ns, action string, svc time.Time) (time.Time, bool) {
	h := hash64(p.arn + "|" + ns + ":" + action)
	if h%2 == 0 {
		return time.Time{}, false
	}
	return svc.Add(-time.Duration((h>>8)%5) * 24 * time.Hour), true
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// entityPolicies returns the policy documents of an entity and the
// principals whose use its data reports (the user or role itself, a
// group's members, a policy's users and roles); the caller holds s.mu.
func (s *Server) entityPolicies(a *Account, arn string) (docs []string, users []activePrincipal, ok bool) {
	in := a.IAM
	managed := func(arns []string) {
		for _, p := range arns {
			if d := s.policyDocument(a, p); d != "" {
				docs = append(docs, d)
			}
		}
	}
	inline := func(m map[string]string) {
		for _, k := range sortedKeys(m) {
			docs = append(docs, m[k])
		}
	}
	userOf := func(u *User) activePrincipal {
		last := u.PasswordLastUsed
		region := "us-east-1"
		for _, k := range u.AccessKeys {
			if k.LastUsed != nil && (last == nil || k.LastUsed.After(*last)) {
				last = k.LastUsed
				if k.LastUsedRegion != "" && k.LastUsedRegion != "N/A" {
					region = k.LastUsedRegion
				}
			}
		}
		return activePrincipal{arn: u.ARN, last: last, region: region}
	}
	roleOf := func(r *Role) activePrincipal {
		region := r.LastUsedRegion
		if region == "" {
			region = "us-east-1"
		}
		return activePrincipal{arn: r.ARN, last: r.LastUsed, region: region}
	}
	for _, name := range sortedKeys(in.Users) {
		u := in.Users[name]
		if u.ARN != arn {
			continue
		}
		inline(u.InlinePolicies)
		managed(u.AttachedPolicies)
		for _, g := range u.Groups {
			if grp := in.Groups[g]; grp != nil {
				inline(grp.InlinePolicies)
				managed(grp.AttachedPolicies)
			}
		}
		return docs, []activePrincipal{userOf(u)}, true
	}
	for _, name := range sortedKeys(in.Roles) {
		r := in.Roles[name]
		if r.ARN == arn {
			inline(r.InlinePolicies)
			managed(r.AttachedPolicies)
			return docs, []activePrincipal{roleOf(r)}, true
		}
	}
	for _, name := range sortedKeys(in.Groups) {
		g := in.Groups[name]
		if g.ARN != arn {
			continue
		}
		inline(g.InlinePolicies)
		managed(g.AttachedPolicies)
		for _, m := range g.Members {
			if u := in.Users[m]; u != nil {
				users = append(users, userOf(u))
			}
		}
		return docs, users, true
	}
	if d := s.policyDocument(a, arn); d != "" {
		for _, name := range sortedKeys(in.Users) {
			if u := in.Users[name]; contains(u.AttachedPolicies, arn) {
				users = append(users, userOf(u))
			}
		}
		for _, name := range sortedKeys(in.Roles) {
			if r := in.Roles[name]; contains(r.AttachedPolicies, arn) {
				users = append(users, roleOf(r))
			}
		}
		return []string{d}, users, true
	}
	return nil, nil, false
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// policyDocument returns the default version's document of a customer or
// AWS managed policy, "" when there is none.
func (s *Server) policyDocument(a *Account, arn string) string {
	p := a.IAM.Policies[arn]
	if p == nil {
		p = s.awsManaged[arn]
	}
	if p == nil {
		return ""
	}
	for _, v := range p.Versions {
		if v.ID == p.DefaultVersionID {
			return v.Document
		}
	}
	return ""
}

// grantedServices returns, by namespace, the action patterns of the Allow
// statements of docs that name the service ("*" names every service of the
// catalogue; a NotAction statement grants every service as well, as
// access advisor counts it).
func grantedServices(docs []string) map[string][]string {
	out := map[string][]string{}
	for _, doc := range docs {
		var d struct{ Statement json.RawMessage }
		if json.Unmarshal([]byte(doc), &d) != nil {
			continue
		}
		var sts []trustStatement
		if json.Unmarshal(d.Statement, &sts) != nil {
			var one trustStatement
			if json.Unmarshal(d.Statement, &one) != nil {
				continue
			}
			sts = []trustStatement{one}
		}
		for _, st := range sts {
			if st.Effect != "Allow" {
				continue
			}
			acts := stringList(st.Action)
			if st.NotAction != nil {
				acts = []string{"*"}
			}
			for _, act := range acts {
				act = strings.ToLower(act)
				if act == "*" {
					for _, svc := range LastAccessedCatalog {
						out[svc.Namespace] = append(out[svc.Namespace], svc.Namespace+":*")
					}
					continue
				}
				ns, _, found := strings.Cut(act, ":")
				if !found {
					continue
				}
				for _, svc := range LastAccessedCatalog {
					if wildcardMatch(ns, svc.Namespace) {
						out[svc.Namespace] = append(out[svc.Namespace], svc.Namespace+act[len(ns):])
					}
				}
			}
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// actionGranted reports whether an action matches one of the (lower-case)
// patterns.
func actionGranted(patterns []string, action string) bool {
	action = strings.ToLower(action)
	for _, p := range patterns {
		if wildcardMatch(p, action) {
			return true
		}
	}
	return false
}
