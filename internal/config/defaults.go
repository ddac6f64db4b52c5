package config

// applyDefaults fills what the file left unset: first the defaults section
// from the built-in values, then each connection from the defaults section.
// A value counts as set when its key was written, so `access_keys: false` is
// kept while a missing access_keys becomes true. Every filled value is
// recorded as inherited, so validation reports a bad value once, where it
// was written (unless the value is changed in code afterwards).
func (f *File) applyDefaults() {
	src := f.src
	d := &f.Defaults
	inherit(src, "defaults.session_name", &d.SessionName, DefaultSessionName)
	inherit(src, "defaults.organization.member_role_name", &d.Organization.MemberRoleName, DefaultMemberRoleName)
	inherit(src, "defaults.organization.concurrency", &d.Organization.Concurrency, DefaultConcurrency)
	inheritSync(src, "defaults.sync", &d.Sync, builtinSync())

	for i := range f.Connections {
		c := &f.Connections[i]
		p := indexPath("connections", i)
		if c.Name == "" {
			c.Name = c.ID
		}
		if c.Credentials.Source == "" {
			c.Credentials.Source = inferSource(c.Credentials)
		}
		inherit(src, p+".region", &c.Region, d.Region)
		inherit(src, p+".credentials.session_name", &c.Credentials.SessionName, d.SessionName)
		o := &c.Organization
		inherit(src, p+".organization.member_role_name", &o.MemberRoleName, d.Organization.MemberRoleName)
		inherit(src, p+".organization.concurrency", &o.Concurrency, d.Organization.Concurrency)
		// The ExternalId is inherited whole: a connection giving either
		// form inherits neither.
		if !src.has(p+".organization.external_id") && !src.has(p+".organization.external_id_env") {
			inherit(src, p+".organization.external_id", &o.ExternalID, d.Organization.ExternalID)
			inherit(src, p+".organization.external_id_env", &o.ExternalIDEnv, d.Organization.ExternalIDEnv)
		}
		if c.IdentityCenter.Region == "" {
			inherit(src, p+".identity_center.region", &c.IdentityCenter.Region, c.Region)
		}
		inheritSync(src, p+".sync", &c.Sync, d.Sync)
		inherit(src, p+".schedule", &c.Schedule, d.Schedule)
	}
}

// inherit sets *dst to v unless path was written in the file, and records
// the value as inherited.
func inherit[T comparable](src *source, path string, dst *T, v T) {
	if src.has(path) {
		return
	}
	*dst = v
	src.inherited[path] = v
}

// inheritSync fills each unwritten key of s under path from def.
func inheritSync(src *source, path string, s *SyncParts, def SyncParts) {
	inherit(src, path+".access_keys", &s.AccessKeys, def.AccessKeys)
	inherit(src, path+".credential_report", &s.CredentialReport, def.CredentialReport)
	inherit(src, path+".cloudtrail", &s.CloudTrail, def.CloudTrail)
	inherit(src, path+".iam_rate", &s.IAMRate, def.IAMRate)
	inheritAssets(src, path+".assets", &s.Assets, def.Assets)
}

// builtinSync is what a sync reads when nothing says otherwise.
func builtinSync() SyncParts {
	return SyncParts{AccessKeys: true, CredentialReport: true, CloudTrail: false, IAMRate: DefaultIAMRate}
}

// inferSource picks the credential source the fields imply: role when a role
// ARN is given, profile when a profile is, the default chain otherwise.
func inferSource(c Credentials) CredentialSource {
	switch {
	case c.RoleARN != "":
		return SourceRole
	case c.Profile != "":
		return SourceProfile
	}
	return SourceEnvironment
}

// NewConnection returns a connection with the built-in defaults, for callers
// that build one in code (from command-line flags, in tests) rather than
// load it from a file. It reads through the default credential chain.
func NewConnection(id string) Connection {
	return Connection{
		ID:   id,
		Name: id,
		Credentials: Credentials{
			Source:      SourceEnvironment,
			SessionName: DefaultSessionName,
		},
		Organization: Organization{
			MemberRoleName: DefaultMemberRoleName,
			Concurrency:    DefaultConcurrency,
		},
		Sync: builtinSync(),
	}
}
