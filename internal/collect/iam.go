package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// The IAM collector reads one account in the fewest calls AWS allows:
//
//	getAuthorizationDetails   GetAccountAuthorizationDetails, 1000 items a page
//	getCredentialReport       GenerateCredentialReport + GetCredentialReport (concurrently with the pages)
//	getAccessKeys             ListAccessKeys for the users the report shows with keys
//	getMFADevices             ListVirtualMFADevices (assigned, 1000 a page), and ListMFADevices
//	                          for the users the report shows with MFA but no virtual device
//	transform…                the access graph
//
// That is ceil(entities/1000) + 2 calls (+1 per extra poll of a report being
// generated) + one per user with access keys + ceil(assigned virtual MFA
// devices/1000) (at least 1) + one per user with MFA and no virtual device.
// Nothing GetAccountAuthorizationDetails returns is read again per user,
// group, role or policy.

// IAMAPI is the part of the IAM client the collector calls.
type IAMAPI interface {
	GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, optFns ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
}

// IAMOptions tune CollectIAM. Zero durations and counts take the defaults;
// DefaultIAMOptions returns the options of a normal sync.
type IAMOptions struct {
	// AccessKeys calls ListAccessKeys for every user the credential report
	// shows with keys, so keys are recorded by their ID. Without it, keys
	// are recorded from the report alone, as the user's "access_key_1" and
	// "access_key_2".
	AccessKeys bool
	// KeepKeysOf, when set, names users whose access keys are not read:
	// the caller keeps them from an earlier snapshot (a refresh after a
	// change reads only the changed users' keys).
	KeepKeysOf func(user string) bool
	// SkipCredentialReport leaves the credential report out: users' console,
	// MFA and password-use state stay unknown, and with AccessKeys every user's
	// keys are listed (the report is what says who has keys).
	SkipCredentialReport bool
	// ReportPoll is the first wait for a credential report AWS is still
	// generating; later waits double, up to 10s. Default DefaultReportPoll.
	// AWS reuses a report for four hours: GenerateCredentialReport then
	// answers COMPLETE and no wait happens.
	ReportPoll time.Duration
	// ReportWait bounds the whole wait for the report; past it the sync
	// goes on without it. Default DefaultReportWait.
	ReportWait time.Duration
	// Concurrency is how many per-user key calls run at once (all within
	// the session's rate limit). Default DefaultConcurrency.
	Concurrency int
	// Progress, when set, is told of each step: "authorization details"
	// (pages read), "credential report", "access keys" (users done of total).
	Progress func(step string, done, total int)
}

// DefaultConcurrency is the default number of concurrent per-user calls.
// The session's rate limit, not this, sets the pace against AWS; enough
// callers are needed to keep that pace over the network's latency.
const DefaultConcurrency = 16

// maxItems is the largest page GetAccountAuthorizationDetails and
// ListAccessKeys serve.
const maxItems = 1000

// Steps reported to IAMOptions.Progress.
const (
	StepAuthorizationDetails = "authorization details"
	StepCredentialReport     = "credential report"
	StepAccessKeys           = "access keys"
	StepMFADevices           = "MFA devices"
)

// Sources named in model.SourceError by this collector.
const (
	SourceIAM              = "iam"
	SourceCredentialReport = "credential_report"
	SourceAccessKeys       = "access_keys"
	SourceMFADevices       = "mfa_devices"
)

// DefaultIAMOptions returns the options of a normal sync: access keys by ID
// and default timings.
func DefaultIAMOptions() IAMOptions { return IAMOptions{AccessKeys: true} }

func (o IAMOptions) withDefaults() IAMOptions {
	if o.ReportPoll <= 0 {
		o.ReportPoll = DefaultReportPoll
	}
	if o.ReportWait <= 0 {
		o.ReportWait = DefaultReportWait
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	return o
}

// IAMResult is what CollectIAM read: the account's graph, and the parts it
// could not read (the rest of the graph is still right).
type IAMResult struct {
	Graph  model.Graph
	Errors []model.SourceError
}

// CollectIAM reads the IAM of one account into an access graph. It fails
// only when the account's authorization details cannot be read (or ctx
// ends); a credential report or key listing AWS refuses is recorded in
// IAMResult.Errors and the rest is returned.
func CollectIAM(ctx context.Context, client IAMAPI, accountID string, o IAMOptions) (*IAMResult, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type reportResult struct {
		report *credentialReport
		err    error
	}
	reportc := make(chan reportResult, 1)
	go func() {
		if o.SkipCredentialReport {
			reportc <- reportResult{}
			return
		}
		rep, err := getCredentialReport(ctx, client, o)
		reportc <- reportResult{rep, err}
	}()

	details, err := getAuthorizationDetails(ctx, client, o.Progress)
	if err != nil {
		return nil, fmt.Errorf("read the IAM of account %s: %w", accountID, err)
	}

	o.Progress(StepCredentialReport, 0, 0)
	rr := <-reportc
	var errs []model.SourceError
	if rr.err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("read the credential report of account %s: %w", accountID, cerr)
		}
		errs = append(errs, reportSourceError(accountID, rr.err, o.AccessKeys))
	}

	keys, keyErrs, keysUnread, err := getAccessKeys(ctx, client, accountID, details.Users, rr.report, o)
	if err != nil {
		return nil, err
	}
	errs = append(errs, keyErrs...)

	mfa, mfaErrs, mfaUnread, err := getMFADevices(ctx, client, accountID, details.Users, rr.report, o)
	if err != nil {
		return nil, err
	}
	errs = append(errs, mfaErrs...)

	b := newGraphBuilder(accountID)
	transformAccount(b, rr.report)
	transformPolicies(b, details.Policies)
	transformUsers(b, details.Users, rr.report)
	transformGroups(b, details.Groups)
	transformRoles(b, details.Roles, details.Users)
	transformAccessKeys(b, keys, details.Users)
	transformMFADevices(b, mfa, details.Users)
	grantGroupMemberships(b, details.Users, details.Groups)
	errs = append(errs, b.errors()...)
	for i := range b.g.Resources {
		if r := &b.g.Resources[i]; r.Type == model.TypeIAMUser {
			if keysUnread[r.Name] != "" {
				r.Unread = append(r.Unread, keysUnread[r.Name])
			}
			if mfaUnread[r.Name] {
				r.Unread = append(r.Unread, "mfa_devices")
			}
		}
	}
	b.g.Sort()
	return &IAMResult{Graph: b.g, Errors: errs}, nil
}

// reportSourceError describes a credential report that could not be read,
// and what the sync did instead.
func reportSourceError(accountID string, err error, accessKeys bool) model.SourceError {
	instead := "console, password and MFA state of users are unknown in this snapshot; access keys were listed per user instead"
	if !accessKeys {
		instead = "console, password and MFA state and access keys of users are unknown in this snapshot"
	}
	if errors.Is(err, errReportNotReady) {
		return model.SourceError{AccountID: accountID, Source: SourceCredentialReport,
			Message: "AWS was still generating the credential report when the wait ran out; " + instead,
			Fix:     "sync again in a minute: AWS keeps the report once generated"}
	}
	problem, fix := awsapi.Explain(err)
	if fix == "" {
		fix = "sync again; if it persists, check that iam:GenerateCredentialReport and iam:GetCredentialReport are allowed"
	}
	return model.SourceError{AccountID: accountID, Source: SourceCredentialReport,
		Message: "credential report unavailable: " + problem + "; " + instead, Fix: fix}
}

// authDetails is everything GetAccountAuthorizationDetails returned.
type authDetails struct {
	Users    []types.UserDetail
	Groups   []types.GroupDetail
	Roles    []types.RoleDetail
	Policies []types.ManagedPolicyDetail
	Pages    int
}

// allEntityTypes asks for every kind of entity in one pass.
var allEntityTypes = []types.EntityType{
	types.EntityTypeUser, types.EntityTypeRole, types.EntityTypeGroup,
	types.EntityTypeLocalManagedPolicy, types.EntityTypeAWSManagedPolicy,
}

// getAuthorizationDetails reads every page of GetAccountAuthorizationDetails:
// MaxItems 1000, following Marker while IsTruncated (IAM may return fewer
// items than asked, with IsTruncated set).
func getAuthorizationDetails(ctx context.Context, client IAMAPI, progress func(string, int, int)) (*authDetails, error) {
	d := &authDetails{}
	in := &iam.GetAccountAuthorizationDetailsInput{Filter: allEntityTypes, MaxItems: aws.Int32(maxItems)}
	for {
		out, err := client.GetAccountAuthorizationDetails(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get account authorization details, page %d: %w", d.Pages+1, err)
		}
		d.Pages++
		d.Users = append(d.Users, out.UserDetailList...)
		d.Groups = append(d.Groups, out.GroupDetailList...)
		d.Roles = append(d.Roles, out.RoleDetailList...)
		d.Policies = append(d.Policies, out.Policies...)
		progress(StepAuthorizationDetails, d.Pages, 0)
		if !out.IsTruncated {
			return d, nil
		}
		next := aws.ToString(out.Marker)
		if next == "" || next == aws.ToString(in.Marker) {
			return nil, fmt.Errorf("get account authorization details, page %d: IsTruncated with no new Marker", d.Pages)
		}
		in.Marker = aws.String(next)
	}
}

// decodeDocument turns a policy document as IAM returns it (URL-encoded)
// into normalized JSON.
func decodeDocument(raw string) (string, error) {
	doc, err := policy.Decode(raw)
	if err != nil {
		return "", err
	}
	return policy.Normalize(doc)
}

// transformAccount adds the account resource, with its root user as the
// credential report shows it.
func transformAccount(b *graphBuilder, report *credentialReport) {
	r := model.Resource{ID: model.AccountResourceID(b.account), Type: model.TypeAccount, AccountID: b.account,
		Name: b.account, Account: &model.AccountAttrs{}}
	if report != nil && report.Root != nil {
		root := report.Root
		r.CreatedAt = timeValue(root.CreatedAt)
		r.Account.CredentialReport = true
		r.Account.RootMFAActive = root.MFAActive
		r.Account.RootPasswordLastUse = root.PasswordLastUsed
		for _, k := range root.Keys {
			if k.Active {
				r.Account.RootAccessKeys++
			}
		}
	}
	b.resource(r)
}

// transformPolicies adds the managed policies, customer and AWS managed,
// each with the document of its default version.
func transformPolicies(b *graphBuilder, policies []types.ManagedPolicyDetail) {
	for _, p := range policies {
		arn := aws.ToString(p.Arn)
		attrs := &model.PolicyAttrs{
			PolicyID:         aws.ToString(p.PolicyId),
			AWSManaged:       isAWSManaged(arn),
			Description:      aws.ToString(p.Description),
			DefaultVersionID: aws.ToString(p.DefaultVersionId),
			AttachmentCount:  aws.ToInt32(p.AttachmentCount),
			BoundaryCount:    aws.ToInt32(p.PermissionsBoundaryUsageCount),
			IsAttachable:     p.IsAttachable,
			VersionCount:     len(p.PolicyVersionList),
		}
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion || aws.ToString(v.VersionId) == attrs.DefaultVersionID {
				attrs.Document = b.document("managed policy "+arn, aws.ToString(v.Document))
				break
			}
		}
		// AWS always sends the name and path; an AWS-compatible endpoint
		// may leave them out, and the ARN holds both. (A missing PolicyId
		// stays unknown: nothing else carries it.)
		path, name := aws.ToString(p.Path), aws.ToString(p.PolicyName)
		if arnPath, arnName, ok := iamARNPathName(arn); ok {
			if name == "" {
				name = arnName
			}
			if path == "" {
				path = arnPath
			}
		}
		b.resource(model.Resource{ID: arn, Type: model.TypeIAMPolicy, AccountID: b.account, Name: name,
			ARN: arn, Path: path, CreatedAt: timeValue(p.CreateDate), Policy: attrs})
		b.entitlement(arn, model.EntAttached)
	}
}

// iamARNPathName splits the resource of an IAM ARN,
// arn:aws:iam::ACCOUNT:policy/PATH/NAME, into its path ("/PATH/", "/" for
// none) and name; ok is false for anything else.
func iamARNPathName(arn string) (path, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return "", "", false
	}
	_, rest, ok := strings.Cut(parts[5], "/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || rest[i+1:] == "" {
		return "", "", false
	}
	return "/" + rest[:i+1], rest[i+1:], true
}

// isAWSManaged reports whether a policy ARN is AWS's (account field "aws").
func isAWSManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

// transformUsers adds the users, merged with their credential report rows,
// their inline policies and their directly attached policies.
func transformUsers(b *graphBuilder, users []types.UserDetail, report *credentialReport) {
	for _, u := range users {
		arn, name := aws.ToString(u.Arn), aws.ToString(u.UserName)
		attrs := &model.UserAttrs{UserID: aws.ToString(u.UserId), PermissionsBoundary: boundaryARN(u.PermissionsBoundary)}
		if row := reportRowOf(report, name); row != nil {
			attrs.CredentialReport = true
			attrs.ConsoleAccess = row.PasswordEnabled
			attrs.PasswordLastUsed = row.PasswordLastUsed
			attrs.PasswordLastChanged = row.PasswordLastChanged
			attrs.MFAActive = row.MFAActive
		}
		b.resource(model.Resource{ID: arn, Type: model.TypeIAMUser, AccountID: b.account, Name: name, ARN: arn,
			Path: aws.ToString(u.Path), CreatedAt: timeValue(u.CreateDate), Tags: tagMap(u.Tags), User: attrs})
		transformInlinePolicies(b, arn, u.UserPolicyList)
		grantAttachedPolicies(b, arn, u.AttachedManagedPolicies)
	}
}

// reportRowOf returns a user's credential report row, or nil when there is
// no report or the user is newer than it.
func reportRowOf(report *credentialReport, user string) *reportRow {
	if report == nil {
		return nil
	}
	return report.Users[user]
}

// transformGroups adds the groups with their inline and attached policies.
// Members are granted in grantGroupMemberships.
func transformGroups(b *graphBuilder, groups []types.GroupDetail) {
	for _, g := range groups {
		arn := aws.ToString(g.Arn)
		b.resource(model.Resource{ID: arn, Type: model.TypeIAMGroup, AccountID: b.account, Name: aws.ToString(g.GroupName),
			ARN: arn, Path: aws.ToString(g.Path), CreatedAt: timeValue(g.CreateDate), Group: &model.GroupAttrs{GroupID: aws.ToString(g.GroupId)}})
		b.entitlement(arn, model.EntMember)
		transformInlinePolicies(b, arn, g.GroupPolicyList)
		grantAttachedPolicies(b, arn, g.AttachedManagedPolicies)
	}
}

// transformRoles adds the roles with their trust policies, inline and
// attached policies, and grants role#assume to every principal the trust
// policy names.
func transformRoles(b *graphBuilder, roles []types.RoleDetail, users []types.UserDetail) {
	synced := make(map[string]bool, len(users)+len(roles))
	for _, u := range users {
		synced[aws.ToString(u.Arn)] = true
	}
	for _, r := range roles {
		synced[aws.ToString(r.Arn)] = true
	}
	for _, r := range roles {
		arn := aws.ToString(r.Arn)
		trust := b.document("trust policy of role "+arn, aws.ToString(r.AssumeRolePolicyDocument))
		attrs := &model.RoleAttrs{RoleID: aws.ToString(r.RoleId), PermissionsBoundary: boundaryARN(r.PermissionsBoundary), TrustPolicy: trust}
		if lu := r.RoleLastUsed; lu != nil {
			attrs.LastUsed = timePtr(lu.LastUsedDate)
			attrs.LastUsedRegion = aws.ToString(lu.Region)
		}
		trusted, err := policy.TrustedPrincipals(trust)
		if err != nil {
			b.fail(SourceIAM, fmt.Sprintf("read the trust policy of role %s: %v", arn, err), "")
		}
		for _, t := range trusted {
			attrs.TrustedPrincipals = append(attrs.TrustedPrincipals, model.TrustedEntity{Kind: t.Kind, Value: t.Value, Conditions: t.Conditions})
		}
		b.resource(model.Resource{ID: arn, Type: model.TypeIAMRole, AccountID: b.account, Name: aws.ToString(r.RoleName),
			ARN: arn, Path: aws.ToString(r.Path), CreatedAt: timeValue(r.CreateDate), Tags: tagMap(r.Tags), Role: attrs})
		assume := b.entitlement(arn, model.EntAssume)
		for _, t := range attrs.TrustedPrincipals {
			b.grant(trustedPrincipalID(b, t, synced), assume, model.ViaTrust, "")
		}
		transformInlinePolicies(b, arn, r.RolePolicyList)
		grantAttachedPolicies(b, arn, r.AttachedManagedPolicies)
	}
}

// trustedPrincipalID resolves a principal of a trust policy to a resource
// ID: a user or role of this sync by its ARN, this account's resource for
// its root ("arn:aws:iam::ACCOUNT:root" or the bare account ID), otherwise
// an external_principal resource, added on first use.
func trustedPrincipalID(b *graphBuilder, t model.TrustedEntity, synced map[string]bool) string {
	if t.Kind == "AWS" {
		switch {
		case synced[t.Value]:
			return t.Value
		case t.Value == b.account || t.Value == "arn:aws:iam::"+b.account+":root" || isRootOf(t.Value, b.account):
			return model.AccountResourceID(b.account)
		}
	}
	id := model.ExternalPrincipalID(t.Kind, t.Value)
	if !b.has(id) {
		r := model.Resource{ID: id, Type: model.TypeExternalPrincipal, Name: t.Value}
		if strings.HasPrefix(t.Value, "arn:") {
			r.ARN = t.Value
		}
		b.resource(r)
	}
	return id
}

// isRootOf reports whether arn is the root of account in any partition
// ("arn:aws-cn:iam::ACCOUNT:root").
func isRootOf(arn, account string) bool {
	parts := strings.Split(arn, ":")
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4] == account && parts[5] == "root"
}

// transformInlinePolicies adds the inline policies embedded in owner and
// grants them to it.
func transformInlinePolicies(b *graphBuilder, ownerARN string, list []types.PolicyDetail) {
	for _, p := range list {
		name := aws.ToString(p.PolicyName)
		id := model.InlinePolicyID(ownerARN, name)
		doc := b.document("inline policy "+name+" of "+ownerARN, aws.ToString(p.PolicyDocument))
		b.resource(model.Resource{ID: id, Type: model.TypeInlinePolicy, AccountID: b.account, Name: name, ParentID: ownerARN,
			InlinePolicy: &model.InlinePolicyAttrs{Document: doc}})
		b.grant(ownerARN, b.entitlement(id, model.EntAttached), model.ViaInline, "")
	}
}

// grantAttachedPolicies grants the managed policies attached to a user,
// group or role to it.
func grantAttachedPolicies(b *graphBuilder, principalARN string, attached []types.AttachedPolicy) {
	for _, p := range attached {
		b.grantTo(principalARN, aws.ToString(p.PolicyArn), model.EntAttached, model.ViaDirect, "")
	}
}

// grantGroupMemberships grants each user its groups, and through each group
// the group's managed and inline policies.
func grantGroupMemberships(b *graphBuilder, users []types.UserDetail, groups []types.GroupDetail) {
	byName := make(map[string]*types.GroupDetail, len(groups))
	for i := range groups {
		byName[aws.ToString(groups[i].GroupName)] = &groups[i]
	}
	for _, u := range users {
		userARN := aws.ToString(u.Arn)
		for _, name := range u.GroupList {
			g, ok := byName[name]
			if !ok {
				b.dangling++
				continue
			}
			groupARN := aws.ToString(g.Arn)
			b.grantTo(userARN, groupARN, model.EntMember, model.ViaDirect, "")
			for _, p := range g.AttachedManagedPolicies {
				b.grantTo(userARN, aws.ToString(p.PolicyArn), model.EntAttached, model.ViaGroup, groupARN)
			}
			for _, p := range g.GroupPolicyList {
				b.grantTo(userARN, model.InlinePolicyID(groupARN, aws.ToString(p.PolicyName)), model.EntAttached, model.ViaGroup, groupARN)
			}
		}
	}
}

// boundaryARN returns the ARN of a permissions boundary, or "".
func boundaryARN(pb *types.AttachedPermissionsBoundary) string {
	if pb == nil {
		return ""
	}
	return aws.ToString(pb.PermissionsBoundaryArn)
}

// tagMap turns IAM tags into a map, nil when there are none.
func tagMap(tags []types.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// timeValue returns *t in UTC, or the zero time.
func timeValue(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// timePtr returns a UTC copy of *t, or nil.
func timePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
