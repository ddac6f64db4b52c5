package config

import (
	"fmt"
	"sort"
)

// Validate checks the file and returns a *ValidationError naming every
// problem (with file:line:col when the File was parsed), or nil. Load and
// Parse already call it; call it again after changing a File in code.
func (f *File) Validate() error {
	r := &reporter{src: f.src}
	f.validate(r)
	return asError(r.problems)
}

func (f *File) validate(r *reporter) {
	switch {
	case !r.written("version"):
		r.add("version", "is missing; add \"version: %d\" at the top of the file", CurrentVersion)
	case f.Version != CurrentVersion:
		r.add("version", "%d is not a schema version this warden reads; write version: %d", f.Version, CurrentVersion)
	}
	if f.Database != "" || f.src != nil && r.written("database") {
		checkDatabase(r, "database", f.Database)
	}
	f.Defaults.validate(r, "defaults")
	if len(f.Connections) == 0 {
		r.add("connections", "has no connections; add at least one (see `warden config example`)")
	}
	first := map[string]int{}
	for i := range f.Connections {
		p := indexPath("connections", i)
		c := &f.Connections[i]
		c.validate(r, p)
		if c.ID == "" {
			continue
		}
		if j, dup := first[c.ID]; dup {
			r.add(p+".id", "%q is already used by connections[%d]%s; ids must be unique", c.ID, j, lineNote(r, indexPath("connections", j)+".id"))
			continue
		}
		first[c.ID] = i
	}
}

func (d Defaults) validate(r *reporter, p string) {
	checkRegion(r, p+".region", d.Region)
	checkSessionName(r, p+".session_name", d.SessionName)
	o := p + ".organization"
	checkRoleName(r, o+".member_role_name", d.Organization.MemberRoleName)
	checkExternalID(r, o, d.Organization.ExternalID, d.Organization.ExternalIDEnv)
	checkConcurrency(r, o+".concurrency", d.Organization.Concurrency)
	checkRate(r, p+".sync.iam_rate", d.Sync.IAMRate)
	checkCloudTrail(r, p+".sync.cloudtrail", d.Sync.CloudTrail)
	d.Schedule.validate(r, p+".schedule")
}

// validate checks one connection. A value the connection inherited from
// the defaults section is checked there, not again here; anything else,
// including a connection added in code after loading, is checked.
func (c *Connection) validate(r *reporter, p string) {
	switch {
	case c.ID == "":
		r.add(p+".id", "is missing; give every connection a unique id such as \"prod\" (lowercase letters, digits, - and _)")
	case !idPattern.MatchString(c.ID):
		r.add(p+".id", "%q is not a valid id: use 1 to 63 lowercase letters, digits, - and _, starting with a letter or digit", c.ID)
	}
	if !r.inherited(p+".region", c.Region) {
		checkRegion(r, p+".region", c.Region)
	}
	if c.Endpoint != "" {
		if msg := endpointProblem(c.Endpoint, false); msg != "" {
			r.add(p+".endpoint", "%s", msg)
		}
	}
	c.Credentials.validate(r, p+".credentials")
	c.Organization.validate(r, p+".organization")
	c.IdentityCenter.validate(r, p+".identity_center")
	if !r.inherited(p+".sync.iam_rate", c.Sync.IAMRate) {
		checkRate(r, p+".sync.iam_rate", c.Sync.IAMRate)
	}
	if !r.inherited(p+".sync.cloudtrail", c.Sync.CloudTrail) {
		checkCloudTrail(r, p+".sync.cloudtrail", c.Sync.CloudTrail)
	}
	c.Retention.validate(r, p+".retention")
	c.Activity.validate(r, p+".activity")
	if !r.inherited(p+".schedule", c.Schedule) {
		c.Schedule.validate(r, p+".schedule")
	}
}

func (rt Retention) validate(r *reporter, p string) {
	// In code, Keep 0 means no limit; written in the file, keep: 0 is a
	// mistake (it would read as "keep none").
	if rt.Keep < 0 || rt.Keep == 0 && r.src != nil && r.src.has(p+".keep") {
		r.add(p+".keep", "must be at least 1 snapshot, not %d (the latest is always kept); leave keep out for no limit by count", rt.Keep)
	}
	if _, err := rt.Age(); err != nil {
		r.add(p+".older_than", "%v", err)
	}
}

func (c Credentials) validate(r *reporter, p string) {
	src := c.Source
	if src == "" {
		src = inferSource(c)
	}
	onlyForRole := "it applies only to source: role"
	switch src {
	case SourceEnvironment:
		setButNotUsed(r, p, "profile", c.Profile, src, "set source: profile, or remove profile")
		setButNotUsed(r, p, "role_arn", c.RoleARN, src, "set source: role, or remove role_arn")
		setButNotUsed(r, p, "external_id", c.ExternalID, src, onlyForRole)
		setButNotUsed(r, p, "external_id_env", c.ExternalIDEnv, src, onlyForRole)
		setButNotUsed(r, p, "source_profile", c.SourceProfile, src, onlyForRole)
	case SourceProfile:
		if c.Profile == "" {
			r.add(p+".profile", "is missing; name the profile from ~/.aws/config to use (source is profile)")
		}
		if c.RoleARN != "" {
			r.add(p+".role_arn", "cannot be used with source: profile; to assume a role, set source: role and put the profile in source_profile")
		}
		setButNotUsed(r, p, "external_id", c.ExternalID, src, onlyForRole)
		setButNotUsed(r, p, "external_id_env", c.ExternalIDEnv, src, onlyForRole)
		setButNotUsed(r, p, "source_profile", c.SourceProfile, src, onlyForRole+"; the profile to read is profile")
	case SourceRole:
		if c.RoleARN == "" {
			r.add(p+".role_arn", "is missing; source: role needs the ARN of the role to assume")
		} else if msg := roleARNProblem(c.RoleARN); msg != "" {
			r.add(p+".role_arn", "%q %s", c.RoleARN, msg)
		}
		if c.Profile != "" {
			r.add(p+".profile", "cannot be used with a role (source: role); to assume the role with that profile's credentials, rename profile to source_profile")
		}
		checkExternalID(r, p, c.ExternalID, c.ExternalIDEnv)
	default:
		r.add(p+".source", "%q is not a credential source; use environment, profile or role", c.Source)
	}
	if !r.inherited(p+".session_name", c.SessionName) {
		checkSessionName(r, p+".session_name", c.SessionName)
	}
}

func (o Organization) validate(r *reporter, p string) {
	if !r.inherited(p+".member_role_name", o.MemberRoleName) {
		checkRoleName(r, p+".member_role_name", o.MemberRoleName)
	}
	if !r.inherited(p+".concurrency", o.Concurrency) {
		checkConcurrency(r, p+".concurrency", o.Concurrency)
	}
	if !r.inherited(p+".external_id", o.ExternalID) || !r.inherited(p+".external_id_env", o.ExternalIDEnv) {
		checkExternalID(r, p, o.ExternalID, o.ExternalIDEnv)
	}
	for _, f := range []struct {
		key    string
		filter AccountFilter
	}{{"include", o.Include}, {"exclude", o.Exclude}} {
		fp := p + "." + f.key
		if !o.Enabled && !f.filter.IsEmpty() {
			r.add(fp, "applies only to organization mode; set organization.enabled: true, or remove %s", f.key)
		}
		f.filter.validate(r, fp)
	}
	for i, a := range o.Exclude.Accounts {
		for j, b := range o.Include.Accounts {
			if a == b {
				inc := indexPath(p+".include.accounts", j)
				r.add(indexPath(p+".exclude.accounts", i), "%q is also included (%s%s); exclude wins, so remove it from one of the lists", a, inc, lineNote(r, inc))
			}
		}
	}
}

func (f AccountFilter) validate(r *reporter, p string) {
	for i, a := range f.Accounts {
		if !accountIDPattern.MatchString(a) {
			r.add(indexPath(p+".accounts", i), "%q is not an AWS account id; write its 12 digits", a)
		}
	}
	for i, ou := range f.OUs {
		if msg := ouPatternProblem(ou); msg != "" {
			r.add(indexPath(p+".ous", i), "%s", msg)
		}
	}
	keys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "":
			r.add(p+".tags", "has an empty tag key; write key: value")
		case len(k) > 128:
			r.add(joinPath(p+".tags", k), "is longer than the 128 characters AWS allows in a tag key")
		case len(f.Tags[k]) > 256:
			r.add(joinPath(p+".tags", k), "has a value longer than the 256 characters AWS allows in a tag value")
		}
	}
}

func (ic IdentityCenter) validate(r *reporter, p string) {
	if ic.InstanceARN != "" && !instanceARNPattern.MatchString(ic.InstanceARN) {
		r.add(p+".instance_arn", "%q is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…); `aws sso-admin list-instances` shows it", ic.InstanceARN)
	}
	if ic.IdentityStoreID != "" && !identityStorePat.MatchString(ic.IdentityStoreID) {
		r.add(p+".identity_store_id", "%q is not an identity store id (d-…); `aws sso-admin list-instances` shows it", ic.IdentityStoreID)
	}
	switch {
	case ic.InstanceARN != "" && ic.IdentityStoreID == "":
		r.add(p+".identity_store_id", "is missing; give instance_arn and identity_store_id together, or neither and warden finds them with sso:ListInstances")
	case ic.InstanceARN == "" && ic.IdentityStoreID != "":
		r.add(p+".instance_arn", "is missing; give instance_arn and identity_store_id together, or neither and warden finds them with sso:ListInstances")
	}
	if !r.inherited(p+".region", ic.Region) {
		checkRegion(r, p+".region", ic.Region)
	}
	ic.SCIM.validate(r, p+".scim")
}

func (s SCIM) validate(r *reporter, p string) {
	if s.Endpoint != "" {
		if msg := endpointProblem(s.Endpoint, true); msg != "" {
			r.add(p+".endpoint", "%s", msg)
		}
	}
	if s.TokenEnv != "" && s.TokenFile != "" {
		r.add(p+".token_file", "cannot be used together with token_env%s; keep one", lineNote(r, p+".token_env"))
	}
	if s.TokenEnv != "" && !envNamePattern.MatchString(s.TokenEnv) {
		r.add(p+".token_env", "must name an environment variable (letters, digits and _, not starting with a digit), such as WARDEN_SCIM_TOKEN; it holds the variable's name, never the token")
	}
	switch {
	case s.Endpoint != "" && s.TokenEnv == "" && s.TokenFile == "":
		r.add(p+".endpoint", "needs a token: set token_env to the name of an environment variable holding it, or token_file to a file containing it")
	case s.Endpoint == "" && (s.TokenEnv != "" || s.TokenFile != ""):
		r.add(p+".endpoint", "is missing; copy the SCIM endpoint from the Identity Center console (Settings, Automatic provisioning)")
	}
}

// setButNotUsed reports a credentials field that the source ignores.
func setButNotUsed(r *reporter, p, key, value string, src CredentialSource, fix string) {
	if value != "" {
		r.add(p+"."+key, "is set but source is %s; %s", src, fix)
	}
}

// checkExternalID checks an ExternalId given inline or by environment
// variable name under p. The value itself is never repeated.
func checkExternalID(r *reporter, p, inline, env string) {
	if inline != "" && env != "" {
		r.add(p+".external_id_env", "cannot be used together with external_id%s; keep one", lineNote(r, p+".external_id"))
	}
	if inline != "" {
		if msg := externalIDProblem(inline); msg != "" {
			r.add(p+".external_id", "%s", msg)
		}
	}
	if env != "" && !envNamePattern.MatchString(env) {
		r.add(p+".external_id_env", "must name an environment variable (letters, digits and _, not starting with a digit), such as WARDEN_EXTERNAL_ID; it holds the variable's name, never the ExternalId")
	}
}

func checkRegion(r *reporter, p, v string) {
	if v != "" && !regionPattern.MatchString(v) {
		r.add(p, "%q is not an AWS region name such as us-east-1 or eu-west-2", v)
	}
}

func checkSessionName(r *reporter, p, v string) {
	if !sessionNamePattern.MatchString(v) {
		r.add(p, "%q is not a valid role session name: use 2 to 64 letters, digits and +=,.@_-", v)
	}
}

func checkRoleName(r *reporter, p, v string) {
	if msg := roleNameProblem(v); msg != "" {
		r.add(p, "%s", msg)
	}
}

func checkConcurrency(r *reporter, p string, v int) {
	if msg := ConcurrencyProblem(v); msg != "" {
		r.add(p, "%s", msg)
	}
}

func checkRate(r *reporter, p string, v int) {
	if msg := IAMRateProblem(float64(v)); msg != "" {
		r.add(p, "%s", msg)
	}
}

// checkCloudTrail refuses sync.cloudtrail: true, which would validate and
// then read nothing: CloudTrail activity is the connection's activity: key.
func checkCloudTrail(r *reporter, p string, v bool) {
	if v {
		r.add(p, "true asks for CloudTrail activity, which is read through the connection's activity: key (docs/config.md), not sync.cloudtrail; remove the key and add activity: {lookback: 7d}")
	}
}

// The ranges warden.yaml and the command line's flags accept.
const (
	MinConcurrency = 1    // accounts read at once
	MaxConcurrency = 256  // accounts read at once
	MinIAMRate     = 1    // IAM calls a second in one account
	MaxIAMRate     = 1000 // IAM calls a second in one account
)

// ConcurrencyProblem says what is wrong with v as the number of accounts
// read at once (organization.concurrency, sync --concurrency), or "".
func ConcurrencyProblem(v int) string {
	if v < MinConcurrency || v > MaxConcurrency {
		return fmt.Sprintf("must be between %d and %d accounts at a time, not %d", MinConcurrency, MaxConcurrency, v)
	}
	return ""
}

// IAMRateProblem says what is wrong with v as the most IAM calls a second
// in one account (sync.iam_rate, sync --iam-rate), or "". NaN and the
// infinities are refused.
func IAMRateProblem(v float64) string {
	if !(v >= MinIAMRate && v <= MaxIAMRate) { // false for NaN too
		return fmt.Sprintf("must be between %d and %d calls per second, not %g", MinIAMRate, MaxIAMRate, v)
	}
	return ""
}

// lineNote returns " (line N)" for a written path, "" otherwise.
func lineNote(r *reporter, path string) string {
	if n := r.lineOf(path); n > 0 {
		return fmt.Sprintf(" (line %d)", n)
	}
	return ""
}
