// Package diff answers "what changed between two snapshots, and who gained
// access": the security-relevant changes first (principals gaining or
// losing an entitlement and through what, administrators, trust outside an
// account, access keys, console access and MFA, Identity Center
// assignments, findings new and resolved, assets: resource policies,
// Block Public Access, KMS grants, the roles functions and instances run
// as, public IPs and open security groups), then every resource added,
// removed or changed with the fields that changed.
//
// Compute reads the store's ChangeSet of the two snapshots once and then
// looks up only what it needs to name and judge the changed parts, so its
// cost follows the size of the change, not of the estate. The CLI (`warden
// diff`, the summary `warden sync` prints) and any other caller read the
// same Report.
package diff

import (
	"encoding/json"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// The sections a Filter's Only selects.
const (
	OnlyGrants    = "grants"    // access, administrators, trust, identity_center, entitlements
	OnlyResources = "resources" // access_keys, console_and_mfa, assets, resources
	OnlyFindings  = "findings"  // administrators, trust, findings
)

// OnlyValues are the values Filter.Only accepts besides "".
var OnlyValues = []string{OnlyGrants, OnlyResources, OnlyFindings}

// DefaultStaleDays is the age in days over which an access key is stale
// when Filter.StaleDays is 0, as `warden findings` reports it.
const DefaultStaleDays = 90

// Filter narrows a report. Zero fields keep everything.
type Filter struct {
	// Only keeps the sections of one kind: OnlyGrants, OnlyResources or
	// OnlyFindings; "" keeps all.
	Only string
	// AccountID keeps the changes in that account, or of a principal of it.
	AccountID string
	// Principals keeps the changes about these resource IDs (what the
	// command's --principal resolved to): as principal, group or
	// permission set a grant came through, person an assignment reaches,
	// owner of a key or MFA device, or the resource itself.
	Principals []string
	// StaleDays is the access key age the stale_key finding uses (0:
	// DefaultStaleDays).
	StaleDays int
}

// Ref names a resource in a report.
type Ref struct {
	ID        string             `json:"id"`
	Type      model.ResourceType `json:"type"`
	Name      string             `json:"name"`
	AccountID string             `json:"account_id"`
}

// Report is what changed from one snapshot to another. Every list is
// present (empty, never null) and sorted; every item has a stable JSON
// shape and a sentence (Text) saying it for people.
type Report struct {
	From *model.Snapshot `json:"from"`
	To   *model.Snapshot `json:"to"`
	// Only is the Filter's Only: the sections not selected are empty.
	Only    string  `json:"only"`
	Summary Summary `json:"summary"`

	Access         []AccessChange     `json:"access"`
	Administrators []AdminChange      `json:"administrators"`
	Trust          []TrustChange      `json:"trust"`
	AccessKeys     []KeyChange        `json:"access_keys"`
	ConsoleAndMFA  []CredentialChange `json:"console_and_mfa"`
	IdentityCenter []AssignmentChange `json:"identity_center"`
	Findings       []FindingChange    `json:"findings"`
	Assets         []AssetChange      `json:"assets"`
	Resources      []ResourceDiff     `json:"resources"`
	Entitlements   []EntitlementDiff  `json:"entitlements"`
}

// Summary counts a report's items.
type Summary struct {
	// Changed is true when any section of the report has an item.
	Changed               bool     `json:"changed"`
	PrincipalsGained      int      `json:"principals_gained"` // principals gaining at least one entitlement
	PrincipalsLost        int      `json:"principals_lost"`   // principals losing at least one
	AdministratorsAdded   []string `json:"administrators_added"`
	AdministratorsRemoved []string `json:"administrators_removed"`
	TrustAdded            int      `json:"trust_added"`
	TrustRemoved          int      `json:"trust_removed"`
	KeysCreated           int      `json:"access_keys_created"`
	KeysDeleted           int      `json:"access_keys_deleted"`
	KeysActivated         int      `json:"access_keys_activated"`
	KeysDeactivated       int      `json:"access_keys_deactivated"`
	ConsoleAdded          int      `json:"console_access_added"`
	ConsoleRemoved        int      `json:"console_access_removed"`
	MFAAdded              int      `json:"mfa_added"`
	MFARemoved            int      `json:"mfa_removed"`
	AssignmentsAdded      int      `json:"assignments_added"`
	AssignmentsRemoved    int      `json:"assignments_removed"`
	FindingsNew           int      `json:"findings_new"`
	FindingsResolved      int      `json:"findings_resolved"`
	AssetsAdded           int      `json:"assets_added"`
	AssetsRemoved         int      `json:"assets_removed"`
	AssetsChanged         int      `json:"asset_changes"`      // the assets section's rows other than assets added or removed
	AssetsHighSeverity    int      `json:"asset_changes_high"` // the assets section's rows of severity high
	ResourcesAdded        int      `json:"resources_added"`
	ResourcesRemoved      int      `json:"resources_removed"`
	ResourcesChanged      int      `json:"resources_changed"`
	EntitlementsAdded     int      `json:"entitlements_added"`
	EntitlementsRemoved   int      `json:"entitlements_removed"`
}

// Change values of the report's items.
const (
	Gained      = "gained"
	Lost        = "lost"
	Added       = "added"
	Removed     = "removed"
	Changed     = "changed"
	Created     = "created"
	Deleted     = "deleted"
	Activated   = "activated"
	Deactivated = "deactivated"
	New         = "new"
	Resolved    = "resolved"
)

// AccessChange is a principal gaining or losing one entitlement (a grant
// added or removed), and through what.
type AccessChange struct {
	Change    string `json:"change"` // gained or lost
	Principal Ref    `json:"principal"`
	// Entitlement is the entitlement's name: attached, member, assume,
	// owner, contains, or account:ID for an Identity Center assignment.
	Entitlement   string           `json:"entitlement"`
	EntitlementID string           `json:"entitlement_id"`
	Resource      Ref              `json:"resource"` // what it is held on
	Provenance    model.Provenance `json:"provenance"`
	Via           *Ref             `json:"via"` // the group or permission set; null for none
	// AccountID is where the access holds: the assignment's account, the
	// role's for assume, else the principal's.
	AccountID string `json:"account_id"`
	// Admin is true when the resource is a policy allowing every action on
	// every resource.
	Admin bool   `json:"admin"`
	Text  string `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// AdminChange is a user or role becoming, or ceasing to be, an
// administrator as internal/findings defines one (a policy allowing "*" on
// "*"), with the paths to its admin policies (in the snapshot where it is
// one).
type AdminChange struct {
	Change    string                `json:"change"` // added or removed
	Principal Ref                   `json:"principal"`
	Through   []findings.PolicyPath `json:"through"`
	Text      string                `json:"text"`
	// Actor is who made the principal an administrator or ceased to (the
	// actor of the newest access row that gave or took an admin policy,
	// or of the admin policy's edit), as CloudTrail recorded it; absent
	// when none did.
	Actor *Actor `json:"actor,omitempty"`
}

// TrustChange is a role's trust policy starting or ceasing to trust a
// principal outside the role's account: anyone, another account, or a
// federated identity provider (findings.OutsideTrust).
type TrustChange struct {
	Change  string              `json:"change"` // added or removed
	Role    Ref                 `json:"role"`
	Trusted model.TrustedEntity `json:"trusted"`
	Reason  findings.Reason     `json:"reason"`  // anyone, other_account, federated
	Account string              `json:"account"` // the other account, for other_account
	Text    string              `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// KeyChange is an access key created, deleted, activated or deactivated.
type KeyChange struct {
	Change string `json:"change"` // created, deleted, activated, deactivated
	Key    Ref    `json:"key"`    // Name is the key id (AKIA…)
	User   Ref    `json:"user"`
	Status string `json:"status"` // Active or Inactive, in the newer snapshot (the older for deleted)
	Text   string `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// CredentialChange is console access (a login profile) or MFA added or
// removed for a user, or MFA of an account's root user.
type CredentialChange struct {
	Change string `json:"change"` // added or removed
	// Kind is console_access, mfa (a user's MFA) or root_mfa.
	Kind   string `json:"kind"`
	User   Ref    `json:"user"`   // the user, or the account for root_mfa
	Device *Ref   `json:"device"` // the MFA device, when one was added or removed; else null
	Text   string `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// AssignmentChange is an Identity Center assignment of a permission set in
// an account to a user or group, added or removed, with the people it
// reaches (a group's members, in the snapshot where it holds).
type AssignmentChange struct {
	Change        string `json:"change"` // added or removed
	Principal     Ref    `json:"principal"`
	PermissionSet Ref    `json:"permission_set"`
	AccountID     string `json:"account_id"`
	AccountName   string `json:"account_name"`
	Reaches       []Ref  `json:"reaches"` // the user itself, or the group's members
	Text          string `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// FindingChange is a finding of internal/findings new in the newer
// snapshot or resolved in it, evaluated on the changed resources:
// console_without_mfa (a user or root user who can sign in without MFA)
// and stale_key (an access key older than the stale age at the snapshot's
// time). Administrators and outside trust, findings too, have their own
// sections.
type FindingChange struct {
	Change  string `json:"change"` // new or resolved
	Rule    string `json:"rule"`   // console_without_mfa or stale_key
	Subject Ref    `json:"subject"`
	User    Ref    `json:"user"` // the user the finding is about (the key's owner)
	Text    string `json:"text"`
	// Actor is who made the change that opened or resolved the finding
	// (the actor of the user's console or MFA row, or of the key's
	// row), as CloudTrail recorded it; absent when none did (a key that
	// only grew old).
	Actor *Actor `json:"actor,omitempty"`
}

// ResourceDiff is a resource added, removed or changed; a changed one
// lists each field that differs.
type ResourceDiff struct {
	Change   string        `json:"change"` // added, removed or changed
	Resource Ref           `json:"resource"`
	Fields   []FieldChange `json:"fields"` // [] for added and removed
	Text     string        `json:"text"`
	// Actor is who made the change and when, as CloudTrail recorded it
	// (AddActors); absent when the connection reads no activity or no
	// event explains it.
	Actor *Actor `json:"actor,omitempty"`
}

// FieldChange is one field of a resource that differs: its path in the
// resource's JSON ("user.console_access", "tags.team") and the values
// before and after (null for absent). A policy document instead lists the
// statements removed and added (each normalized JSON), and its other keys
// as fields of their own ("policy.document.Version").
type FieldChange struct {
	Path              string            `json:"path"`
	Before            any               `json:"before"`
	After             any               `json:"after"`
	StatementsAdded   []json.RawMessage `json:"statements_added"`
	StatementsRemoved []json.RawMessage `json:"statements_removed"`
}

// EntitlementDiff is an entitlement added or removed (a resource starting
// or ceasing to offer it).
type EntitlementDiff struct {
	Change     string `json:"change"` // added, removed or changed
	ID         string `json:"id"`
	ResourceID string `json:"resource_id"`
	Name       string `json:"name"`
}
