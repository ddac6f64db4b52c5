// Package config reads warden.yaml: the named connections warden syncs, each
// with its credentials, organization mode, account filters, Identity Center
// settings and the parts of AWS to read.
//
// Load and Parse decode the file strictly (an unknown key is an error),
// apply defaults and validate; every problem found is reported at once in a
// *ValidationError, each with its file:line:col and what to do about it.
// Secrets never live in the file: a token, password or AWS secret key written
// in it is refused, and the error never repeats the value.
//
// The schema is documented key by key in docs/config.md; Example returns a
// complete, valid file.
package config

import "time"

// CurrentVersion is the schema version this package reads. A file states it
// with `version: 1`.
const CurrentVersion = 1

// Built-in defaults, used when neither a connection nor the file's defaults
// section sets a value.
const (
	DefaultMemberRoleName = "OrganizationAccountAccessRole"
	DefaultConcurrency    = 32
	DefaultIAMRate        = 20
	DefaultSessionName    = "warden"
)

// File is the content of a warden.yaml.
type File struct {
	Version int `yaml:"version"`
	// Database is the store every command uses unless --db or WARDEN_DB
	// says otherwise: a SQLite file's path or a postgres:// URL, which
	// never holds a password (PGPASSWORD or ~/.pgpass give it).
	Database    string       `yaml:"database"`
	Defaults    Defaults     `yaml:"defaults"`
	Connections []Connection `yaml:"connections"`

	// src records where each key was written; nil for a File built in code.
	src *source
}

// Defaults are values every connection inherits unless it sets its own.
// After Load, each Connection already holds its effective values; callers do
// not need to consult Defaults.
type Defaults struct {
	Region       string               `yaml:"region"`
	SessionName  string               `yaml:"session_name"`
	Organization OrganizationDefaults `yaml:"organization"`
	Sync         SyncParts            `yaml:"sync"`
	// Schedule is the schedule of every connection that writes none.
	Schedule Schedule `yaml:"schedule"`
}

// OrganizationDefaults are the organization settings a connection inherits.
type OrganizationDefaults struct {
	MemberRoleName string `yaml:"member_role_name"`
	ExternalID     string `yaml:"external_id"`
	ExternalIDEnv  string `yaml:"external_id_env"`
	Concurrency    int    `yaml:"concurrency"`
}

// Connection is one AWS estate warden syncs: an organization read from its
// management (or delegated administrator) account, or a single account.
// Snapshots are kept per connection ID; data of different connections never
// mix.
type Connection struct {
	// ID names the connection on the command line and in the store:
	// [a-z0-9][a-z0-9_-]{0,62}, unique in the file.
	ID string `yaml:"id"`
	// Name is a human label; it defaults to ID.
	Name        string      `yaml:"name"`
	Credentials Credentials `yaml:"credentials"`
	// Region is the region for regional API calls (STS, Identity Center);
	// empty means the SDK's own resolution (AWS_REGION, the profile).
	Region string `yaml:"region"`
	// Endpoint, when set, sends every AWS call of this connection to one URL
	// (an emulator such as awsfake, or a VPC endpoint).
	Endpoint       string         `yaml:"endpoint"`
	Organization   Organization   `yaml:"organization"`
	IdentityCenter IdentityCenter `yaml:"identity_center"`
	Sync           SyncParts      `yaml:"sync"`
	// Retention says which of the connection's snapshots `warden sync`
	// prunes after each successful sync; zero keeps them all.
	Retention Retention `yaml:"retention"`
	// Schedule is when `warden serve` syncs the connection; zero for
	// never on its own (only when asked).
	Schedule Schedule `yaml:"schedule"`
	// Activity is what the sync reads of who uses their access; zero for
	// nothing (activity.go).
	Activity Activity `yaml:"activity"`
}

// CredentialSource says where a connection's base credentials come from.
type CredentialSource string

// Credential sources.
const (
	// SourceEnvironment is the SDK's default chain: environment variables,
	// shared config default profile, container or instance role.
	SourceEnvironment CredentialSource = "environment"
	// SourceProfile is a named profile of the shared AWS config files.
	SourceProfile CredentialSource = "profile"
	// SourceRole assumes RoleARN (with an ExternalId when given) from the
	// default chain, or from SourceProfile when set.
	SourceRole CredentialSource = "role"
)

// Credentials are a connection's base credentials. When Source is empty in
// the file it is inferred: role when role_arn is set, profile when profile is
// set, environment otherwise.
type Credentials struct {
	Source  CredentialSource `yaml:"source"`
	Profile string           `yaml:"profile"`
	RoleARN string           `yaml:"role_arn"`
	// ExternalID is given inline, or ExternalIDEnv names the environment
	// variable holding it; never both. Use ResolveExternalID to read it.
	ExternalID    string `yaml:"external_id"`
	ExternalIDEnv string `yaml:"external_id_env"`
	// SourceProfile is the profile whose credentials assume RoleARN; empty
	// means the default chain.
	SourceProfile string `yaml:"source_profile"`
	// SessionName is the role session name used for RoleARN and for member
	// account roles, so CloudTrail shows warden's calls as warden's.
	SessionName string `yaml:"session_name"`
}

// Organization is the organization mode of a connection: read every member
// account by assuming MemberRoleName in it.
type Organization struct {
	Enabled        bool   `yaml:"enabled"`
	MemberRoleName string `yaml:"member_role_name"`
	// ExternalID (inline) or ExternalIDEnv (an environment variable name) is
	// the ExternalId passed when assuming the member role; never both.
	ExternalID    string `yaml:"external_id"`
	ExternalIDEnv string `yaml:"external_id_env"`
	// Concurrency is how many accounts are read at once.
	Concurrency int `yaml:"concurrency"`
	// Include, when not empty, limits the sync to the accounts it matches;
	// Exclude then removes the accounts it matches. See Selects.
	Include AccountFilter `yaml:"include"`
	Exclude AccountFilter `yaml:"exclude"`
}

// AccountFilter selects member accounts. An account matches when it matches
// any of the criteria: one of Accounts, one of OUs, or all of Tags.
type AccountFilter struct {
	// Accounts are 12-digit account IDs.
	Accounts []string `yaml:"accounts"`
	// OUs are OU paths from the root ("Root/Prod" for accounts directly in
	// Prod, "Root/Prod/*" for Prod and everything below it, "*" standing for
	// any one OU name), or OU or root IDs (ou-…, r-…) meaning that OU and
	// everything below it.
	OUs []string `yaml:"ous"`
	// Tags must all be present on the account with these values; the value
	// "*" accepts any value.
	Tags map[string]string `yaml:"tags"`
}

// IdentityCenter holds the IAM Identity Center settings of a connection.
type IdentityCenter struct {
	Enabled bool `yaml:"enabled"`
	// InstanceARN and IdentityStoreID are given together, or both left empty
	// for warden to find them with sso:ListInstances.
	InstanceARN     string `yaml:"instance_arn"`
	IdentityStoreID string `yaml:"identity_store_id"`
	// Region is the Identity Center home region; empty means the
	// connection's region.
	Region string `yaml:"region"`
	SCIM   SCIM   `yaml:"scim"`
}

// SCIM is an Identity Center SCIM endpoint and where its bearer token is
// kept. The token itself is never written in the file: TokenEnv names an
// environment variable holding it, or TokenFile a file containing it.
type SCIM struct {
	Endpoint  string `yaml:"endpoint"`
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
}

// SyncParts says which optional parts of AWS a sync reads.
type SyncParts struct {
	// AccessKeys reads each user's access keys and their last use.
	AccessKeys bool `yaml:"access_keys"`
	// CredentialReport generates and reads the IAM credential report.
	CredentialReport bool `yaml:"credential_report"`
	// CloudTrail reads recent management events (cloudtrail:LookupEvents).
	CloudTrail bool `yaml:"cloudtrail"`
	// IAMRate is the most IAM calls per second made in one account.
	IAMRate int `yaml:"iam_rate"`
	// Assets are the assets read with their resource policies (assets.go).
	Assets Assets `yaml:"assets"`
}

// Retention is how many and how old snapshots of a connection are kept.
// A snapshot goes when either rule says so; the latest always stays.
type Retention struct {
	// Keep is how many of the newest snapshots to keep; 0 means no limit
	// by count (in the file, keep is at least 1 when written).
	Keep int `yaml:"keep"`
	// OlderThan, such as 30d, 12h or 2w (see ParseAge), prunes snapshots
	// that finished longer ago than that; "" means no limit by age.
	OlderThan string `yaml:"older_than"`
}

// IsZero reports whether the retention keeps every snapshot.
func (r Retention) IsZero() bool { return r.Keep == 0 && r.OlderThan == "" }

// Age returns OlderThan read by ParseAge, 0 when it is empty; an invalid
// value (which Validate reports) is an error.
func (r Retention) Age() (time.Duration, error) {
	if r.OlderThan == "" {
		return 0, nil
	}
	return ParseAge(r.OlderThan)
}
