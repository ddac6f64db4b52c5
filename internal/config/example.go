package config

// Example returns a complete, commented warden.yaml showing every kind of
// connection. It is what `warden config example` prints and what
// docs/config.md shows; a test keeps it valid.
func Example() string { return example }

const example = `# warden.yaml: the AWS estates warden syncs.
# Check it with: warden config validate
# Secrets are never written here: tokens and ExternalIds are read from the
# environment (or a file) named below.
version: 1

# The store (default warden.db): a SQLite file, or a PostgreSQL server
# shared by a team, its password in PGPASSWORD or ~/.pgpass, never here.
# database: postgres://warden@db.example.com:5432/warden

# Values every connection inherits unless it sets its own.
defaults:
  region: us-east-1
  session_name: warden            # role session name shown in CloudTrail
  organization:
    member_role_name: WardenReadRole    # created in every account by ` + "`warden setup stackset`" + `
    external_id_env: WARDEN_EXTERNAL_ID # the ExternalId that role requires
    concurrency: 32                     # accounts read at once
  sync:
    access_keys: true
    credential_report: true
    cloudtrail: false
    iam_rate: 20                        # IAM calls per second, per account

connections:
  # A whole organization, read from its management account.
  - id: acme
    name: ACME organization
    credentials:
      source: role
      role_arn: arn:aws:iam::111122223333:role/WardenReadRole
      external_id_env: WARDEN_EXTERNAL_ID
      source_profile: acme-admin        # omit to use the default chain
    organization:
      enabled: true
      include:
        ous: ["Root/Prod/*", "ou-ab12-cd34ef56"]
      exclude:
        accounts: ["444455556666"]
        tags: {warden: skip}
    identity_center:
      enabled: true
      region: eu-west-1
      scim:
        endpoint: https://scim.eu-west-1.amazonaws.com/a1b2c3d4e5-f6a7-8b9c-0d1e-2f3a4b5c6d7e/scim/v2/
        token_env: WARDEN_SCIM_TOKEN
    retention:                          # pruned after each successful sync
      keep: 720                         # the newest 720 snapshots (a month of hourly syncs)
      older_than: 90d                   # and none older than 90 days

  # One account reached through a role, no Organization.
  - id: vendor-sandbox
    credentials:
      role_arn: arn:aws:iam::777788889999:role/WardenReadRole
      external_id_env: VENDOR_EXTERNAL_ID
    sync:
      access_keys: false

  # The account of the credentials in the environment (AWS_PROFILE,
  # AWS_ACCESS_KEY_ID, an instance role, ...).
  - id: dev
    credentials:
      source: environment
    region: eu-west-2
`
