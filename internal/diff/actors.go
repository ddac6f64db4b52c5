package diff

import (
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// Actor is who made a change, as CloudTrail recorded it: the write event
// between the two snapshots that acted on the change's resources.
type Actor struct {
	ARN     string    `json:"arn"`     // the caller (a user, an assumed-role session, root)
	Type    string    `json:"type"`    // userIdentity.type: IAMUser, AssumedRole, Root, …
	Account string    `json:"account"` // the caller's account
	At      time.Time `json:"at"`
	Event   string    `json:"event"` // AttachUserPolicy, CreateAccountAssignment, …
	EventID string    `json:"event_id"`
	From    string    `json:"from"` // source IP address
}

// actorRule says which events made a change: their names, the values
// their request parameters (or resources) must all hold, and values of
// which they must hold one (an asset's names: a call may name a function
// by its name or its ARN).
type actorRule struct {
	events []string // event names, or prefixes ending in "*"
	values []string
	anyOf  []string
}

// AddActors sets the Actor of each row of r that a CloudTrail write event
// made: an event of the right name, between the older snapshot's start and
// the newer one's end, whose request parameters name every resource the
// row is about (the newest such event when several do). Rows no event
// explains keep a nil Actor. It returns how many rows got one.
func AddActors(r *Report, events []collect.ActivityEvent) int {
	if r.From == nil || r.To == nil {
		return 0
	}
	// CloudTrail's times have second precision.
	from, to := r.From.StartedAt.Truncate(time.Second), r.To.FinishedAt
	if to.IsZero() {
		to = time.Now()
	}
	var window []collect.ActivityEvent
	for _, e := range events {
		if !e.ReadOnly && !e.Time.Before(from) && !e.Time.After(to) && len(e.Params)+len(e.Resources) > 0 {
			window = append(window, e)
		}
	}
	if len(window) == 0 {
		return 0
	}
	n := 0
	set := func(dst **Actor, rules ...actorRule) {
		if a := findActor(window, rules); a != nil {
			*dst = a
			n++
		}
	}
	for i := range r.Access {
		c := &r.Access[i]
		set(&c.Actor, accessRules(c)...)
	}
	for i := range r.Trust {
		c := &r.Trust[i]
		set(&c.Actor, actorRule{[]string{"UpdateAssumeRolePolicy", "CreateRole"}, []string{c.Role.Name}, nil})
	}
	for i := range r.AccessKeys {
		c := &r.AccessKeys[i]
		name := map[string]string{Created: "CreateAccessKey", Deleted: "DeleteAccessKey"}[c.Change]
		if name == "" {
			name = "UpdateAccessKey"
		}
		set(&c.Actor, actorRule{[]string{name}, []string{c.User.Name}, nil})
	}
	for i := range r.ConsoleAndMFA {
		c := &r.ConsoleAndMFA[i]
		names := []string{"CreateLoginProfile", "DeleteLoginProfile"}
		if c.Kind != "console_access" {
			names = []string{"EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice"}
		}
		set(&c.Actor, actorRule{names, []string{c.User.Name}, nil})
	}
	for i := range r.IdentityCenter {
		c := &r.IdentityCenter[i]
		set(&c.Actor, assignmentRule(c.Change, c.Principal.ID, c.PermissionSet.ID, c.AccountID))
	}
	for i := range r.Assets {
		c := &r.Assets[i]
		set(&c.Actor, assetRule(c))
	}
	for i := range r.Resources {
		c := &r.Resources[i]
		set(&c.Actor, resourceRule(c))
	}
	n += derivedActors(r)
	return n
}

// derivedActors sets the actors of the rows that follow from others: an
// administrator added or removed takes the newest actor of the access rows
// that gave or took the principal an admin policy, else of its admin
// policies' edits; a finding new or resolved takes the newest actor of its
// user's console and MFA rows (console_without_mfa) or of its key's row
// (stale_key). It returns how many rows got one.
func derivedActors(r *Report) int {
	n := 0
	newest := func(dst **Actor, a *Actor) {
		if a != nil && (*dst == nil || a.At.After((*dst).At)) {
			*dst = a
		}
	}
	resourceActor := map[string]*Actor{}
	for _, d := range r.Resources {
		resourceActor[d.Resource.ID] = d.Actor
	}
	for i := range r.Administrators {
		c := &r.Administrators[i]
		want := Gained
		if c.Change == Removed {
			want = Lost
		}
		for _, a := range r.Access {
			if a.Principal.ID == c.Principal.ID && a.Admin && a.Change == want {
				newest(&c.Actor, a.Actor)
			}
		}
		if c.Actor == nil {
			for _, p := range c.Through {
				newest(&c.Actor, resourceActor[p.PolicyID])
			}
		}
		if c.Actor != nil {
			n++
		}
	}
	for i := range r.Findings {
		c := &r.Findings[i]
		switch c.Rule {
		case "console_without_mfa":
			for _, cc := range r.ConsoleAndMFA {
				if cc.User.ID == c.User.ID {
					newest(&c.Actor, cc.Actor)
				}
			}
		case "stale_key":
			for _, k := range r.AccessKeys {
				if k.Key.ID == c.Subject.ID {
					newest(&c.Actor, k.Actor)
				}
			}
		}
		if c.Actor != nil {
			n++
		}
	}
	return n
}

// accessRules are the events that give or take a principal an
// entitlement: a membership, an attachment (to the principal, or to the
// group it comes through), a trust policy, an assignment.
func accessRules(c *AccessChange) []actorRule {
	gained := c.Change == Gained
	pick := func(add, remove string) string {
		if gained {
			return add
		}
		return remove
	}
	kind := kindWord(c.Principal.Type)
	switch {
	case strings.HasPrefix(c.Entitlement, "account:"):
		return []actorRule{assignmentRule(pick(Added, Removed), principalOfGrant(c), c.Resource.ID, strings.TrimPrefix(c.Entitlement, "account:"))}
	case c.Entitlement == model.EntMember:
		return []actorRule{{[]string{pick("AddUserToGroup", "RemoveUserFromGroup")}, []string{c.Principal.Name, c.Resource.Name}, nil}}
	case c.Entitlement == model.EntAssume:
		return []actorRule{{[]string{"UpdateAssumeRolePolicy", pick("CreateRole", "DeleteRole")}, []string{c.Resource.Name}, nil}}
	case c.Entitlement == model.EntAttached && c.Via != nil && c.Via.Type == model.TypeIAMGroup:
		policy := c.Resource.ID
		if c.Resource.Type == model.TypeInlinePolicy {
			policy = c.Resource.Name
		}
		return []actorRule{
			{[]string{pick("AddUserToGroup", "RemoveUserFromGroup")}, []string{c.Principal.Name, c.Via.Name}, nil},
			{[]string{pick("AttachGroupPolicy", "DetachGroupPolicy"), pick("PutGroupPolicy", "DeleteGroupPolicy")}, []string{c.Via.Name, policy}, nil},
		}
	case c.Entitlement == model.EntContains:
		// An account or OU placed in an OU or the root, or taken out.
		who, where := lastSegment(c.Principal.ID), lastSegment(c.Resource.ID)
		if c.Principal.Type == model.TypeOrgUnit {
			return []actorRule{{[]string{pick("CreateOrganizationalUnit", "DeleteOrganizationalUnit")}, []string{c.Principal.Name, where}, nil},
				{[]string{pick("CreateOrganizationalUnit", "DeleteOrganizationalUnit")}, []string{who}, nil}}
		}
		return []actorRule{{[]string{"MoveAccount"}, []string{who, where}, nil},
			{[]string{pick("InviteAccountToOrganization", "RemoveAccountFromOrganization"), pick("CreateAccount", "CloseAccount")}, []string{who}, nil}}
	case c.Entitlement == model.EntAttached && c.Resource.Type == model.TypeSCP:
		// A service control policy attached to or detached from an
		// account, OU or root.
		// A new OU comes with FullAWSAccess attached, by its creation.
		return []actorRule{{[]string{pick("AttachPolicy", "DetachPolicy")}, []string{lastSegment(c.Resource.ID), lastSegment(c.Principal.ID)}, nil},
			{[]string{"CreateOrganizationalUnit"}, []string{c.Principal.Name}, nil}, {[]string{"DeleteOrganizationalUnit"}, []string{lastSegment(c.Principal.ID)}, nil}}
	case c.Entitlement == model.EntAttached && c.Resource.Type == model.TypeInlinePolicy && kind != "":
		return []actorRule{{[]string{pick("Put"+kind+"Policy", "Delete"+kind+"Policy")}, []string{c.Principal.Name, c.Resource.Name}, nil}}
	case c.Entitlement == model.EntAttached && kind != "":
		return []actorRule{{[]string{pick("Attach"+kind+"Policy", "Detach"+kind+"Policy")}, []string{c.Principal.Name, c.Resource.ID}, nil}}
	}
	return nil
}

// principalOfGrant is the Identity Store ID an assignment row's principal
// (or the group it comes through) has in CreateAccountAssignment.
func principalOfGrant(c *AccessChange) string {
	if c.Via != nil && c.Via.Type == model.TypeSSOGroup {
		return c.Via.ID
	}
	return c.Principal.ID
}

// assignmentRule is the event of an Identity Center assignment added or
// removed: principal and permission set as their resource IDs.
func assignmentRule(change, principalID, permissionSetID, account string) actorRule {
	name := "CreateAccountAssignment"
	if change == Removed || change == Lost {
		name = "DeleteAccountAssignment"
	}
	return actorRule{[]string{name}, []string{principalID[strings.LastIndexByte(principalID, '/')+1:], permissionSetID, account}, nil}
}

// resourceRule is the event of a resource added (Create…), removed
// (Delete…) or changed (any write) naming it.
func resourceRule(c *ResourceDiff) actorRule {
	if isAsset(c.Resource.Type) {
		rule := assetRule(&AssetChange{Change: c.Change, Kind: AssetKindAsset, Asset: c.Resource})
		if c.Change == Changed {
			rule.events = []string{"*"}
		}
		return rule
	}
	name := c.Resource.Name
	if c.Resource.Type == model.TypeIAMPolicy || c.Resource.Type == model.TypePermissionSet {
		name = c.Resource.ID
	}
	switch c.Resource.Type {
	case model.TypeSCP, model.TypeOrgUnit, model.TypeAccount:
		// Organizations' calls name these by their IDs (p-…, ou-…, the
		// account's), or by name when creating them.
		rule := actorRule{events: []string{"*"}, anyOf: []string{lastSegment(c.Resource.ID), c.Resource.Name}}
		switch c.Change {
		case Added:
			rule.events = []string{"Create*", "InviteAccountToOrganization"}
		case Removed:
			rule.events = []string{"Delete*", "RemoveAccountFromOrganization", "CloseAccount"}
		}
		return rule
	}
	switch c.Change {
	case Added:
		return actorRule{[]string{"Create*"}, []string{name}, nil}
	case Removed:
		return actorRule{[]string{"Delete*"}, []string{name}, nil}
	}
	return actorRule{[]string{"*"}, []string{name}, nil}
}

// lastSegment is what follows an ID's last "/": an OU's ou-…, a root's
// r-…, an SCP's p-…, an account's ID, an instance's i-….
func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// kindWord is the word IAM's actions use for a principal type: User,
// Group, Role; "" for others.
func kindWord(t model.ResourceType) string {
	switch t {
	case model.TypeIAMUser:
		return "User"
	case model.TypeIAMGroup:
		return "Group"
	case model.TypeIAMRole:
		return "Role"
	}
	return ""
}

// findActor returns the actor of the newest event any rule matches.
func findActor(events []collect.ActivityEvent, rules []actorRule) *Actor {
	var best *collect.ActivityEvent
	for i := range events {
		e := &events[i]
		if best != nil && !e.Time.After(best.Time) {
			continue
		}
		for _, r := range rules {
			if r.matches(e) {
				best = e
				break
			}
		}
	}
	if best == nil {
		return nil
	}
	return &Actor{ARN: best.ActorARN, Type: best.ActorType, Account: best.ActorAccount, At: best.Time, Event: best.Name,
		EventID: best.ID, From: best.SourceIP}
}

// matches reports whether an event has one of the rule's names and names
// every one of its values.
func (r actorRule) matches(e *collect.ActivityEvent) bool {
	named := false
	for _, n := range r.events {
		if p, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(e.Name, p) || n == e.Name {
			named = true
			break
		}
	}
	if !named || len(r.values)+len(r.anyOf) == 0 {
		return false
	}
	for _, v := range r.values {
		if v == "" || !holds(e, v) {
			return false
		}
	}
	if len(r.anyOf) == 0 {
		return true
	}
	for _, v := range r.anyOf {
		if v != "" && holds(e, v) {
			return true
		}
	}
	return false
}

// assetEvents are the events that make each kind of asset change, by
// asset type for the asset itself and its resource policy. Lambda's event
// names carry its API version (UpdateFunctionConfiguration20150331v2).
var assetEvents = map[string]map[model.ResourceType][]string{
	AssetKindAsset + Added: {
		model.TypeS3Bucket: {"CreateBucket"}, model.TypeKMSKey: {"CreateKey"}, model.TypeLambdaFunction: {"CreateFunction*"},
		model.TypeSecret: {"CreateSecret"}, model.TypeEC2Instance: {"RunInstances"}, model.TypeSecurityGroup: {"CreateSecurityGroup"},
	},
	AssetKindAsset + Removed: {
		model.TypeS3Bucket: {"DeleteBucket"}, model.TypeKMSKey: {"ScheduleKeyDeletion"}, model.TypeLambdaFunction: {"DeleteFunction*"},
		model.TypeSecret: {"DeleteSecret"}, model.TypeEC2Instance: {"TerminateInstances"}, model.TypeSecurityGroup: {"DeleteSecurityGroup"},
	},
	AssetKindResourcePolicy: {
		model.TypeS3Bucket: {"PutBucketPolicy", "DeleteBucketPolicy"}, model.TypeKMSKey: {"PutKeyPolicy", "CreateKey"},
		model.TypeLambdaFunction: {"AddPermission*", "RemovePermission*"}, model.TypeSecret: {"PutResourcePolicy", "DeleteResourcePolicy"},
	},
}

// assetKindEvents are the events of the other kinds of asset change.
var assetKindEvents = map[string][]string{
	AssetKindBlockPublicAccess: {"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"},
	AssetKindKMSGrant:          {"CreateGrant", "RevokeGrant", "RetireGrant"},
	AssetKindBucketACL:         {"PutBucketAcl"},
	AssetKindAliasPolicy:       {"AddPermission*", "RemovePermission*", "DeleteAlias*"},
	AssetKindExecutionRole:     {"UpdateFunctionConfiguration*", "CreateFunction*"},
	AssetKindInstanceRole:      {"AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation", "DisassociateIamInstanceProfile"},
	AssetKindPublicIP:          {"StopInstances", "StartInstances", "AssociateAddress", "DisassociateAddress"},
	AssetKindInstanceState:     {"StopInstances", "StartInstances", "RebootInstances", "TerminateInstances"},
	AssetKindIngress:           {"AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"},
}

// assetRule is the event of an asset change: one of the kind's events
// naming the asset by one of its names (a bucket's name, a key's or
// function's or secret's ARN or name or key ID, an instance's or security
// group's ID).
func assetRule(c *AssetChange) actorRule {
	names := assetKindEvents[c.Kind]
	switch c.Kind {
	case AssetKindAsset:
		names = assetEvents[AssetKindAsset+c.Change][c.Asset.Type]
	case AssetKindResourcePolicy:
		names = assetEvents[AssetKindResourcePolicy][c.Asset.Type]
	}
	if c.Asset.Type == model.TypeAccountAssets {
		// S3 Control's account-level settings name the account.
		return actorRule{events: []string{"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"}, anyOf: []string{c.Asset.AccountID}}
	}
	ids := []string{c.Asset.ID, c.Asset.Name}
	if i := strings.LastIndexAny(c.Asset.ID, "/:"); i >= 0 {
		ids = append(ids, c.Asset.ID[i+1:]) // i-…, sg-…, a key's ID, a function's name
	}
	return actorRule{events: names, anyOf: ids}
}

// holds reports whether an event's request parameters or resources name v.
func holds(e *collect.ActivityEvent, v string) bool {
	for _, p := range e.Params {
		if p == v {
			return true
		}
	}
	for _, res := range e.Resources {
		if res == v {
			return true
		}
	}
	return false
}
