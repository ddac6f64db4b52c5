// Package provision carries out joiner, mover and leaver changes in IAM:
// each Action is first planned from the live state read from AWS (the
// exact, ordered calls it would make, or why none are needed), then
// applied step by step, every call written to the audit log. Plans are
// idempotent: an action already in effect plans no call, and a
// half-finished action plans only what remains. Generated passwords are
// returned once and kept nowhere.
package provision

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/warden-iam/warden/internal/policy"
)

// Kind names what an action does.
type Kind string

// The actions.
const (
	CreateUser         Kind = "create-user"
	DeleteUser         Kind = "delete-user"
	DeactivateUser     Kind = "deactivate-user"
	ReactivateUser     Kind = "reactivate-user"
	AddToGroup         Kind = "add-to-group"
	RemoveFromGroup    Kind = "remove-from-group"
	AttachPolicy       Kind = "attach-policy"
	DetachPolicy       Kind = "detach-policy"
	PutInlinePolicy    Kind = "put-inline-policy"
	DeleteInlinePolicy Kind = "delete-inline-policy"

	// IAM Identity Center.
	CreateSSOUser          Kind = "create-sso-user"
	DeleteSSOUser          Kind = "delete-sso-user"
	CreateSSOGroup         Kind = "create-sso-group"
	DeleteSSOGroup         Kind = "delete-sso-group"
	AddSSOUserToGroup      Kind = "add-sso-user-to-group"
	RemoveSSOUserFromGroup Kind = "remove-sso-user-from-group"
	AssignPermissionSet    Kind = "assign-permission-set"
	UnassignPermissionSet  Kind = "unassign-permission-set"
	DeactivateSSOUser      Kind = "deactivate-sso-user"
	ReactivateSSOUser      Kind = "reactivate-sso-user"
)

// Kinds lists every action kind, for help texts.
var Kinds = []Kind{CreateUser, DeleteUser, DeactivateUser, ReactivateUser, AddToGroup, RemoveFromGroup,
	AttachPolicy, DetachPolicy, PutInlinePolicy, DeleteInlinePolicy,
	CreateSSOUser, DeleteSSOUser, CreateSSOGroup, DeleteSSOGroup, AddSSOUserToGroup, RemoveSSOUserFromGroup,
	AssignPermissionSet, UnassignPermissionSet, DeactivateSSOUser, ReactivateSSOUser}

// Destructive reports whether an action removes access or data, and so
// asks for confirmation on a terminal.
func (k Kind) Destructive() bool {
	switch k {
	case DeleteUser, DeactivateUser, RemoveFromGroup, DetachPolicy, DeleteInlinePolicy,
		DeleteSSOUser, DeleteSSOGroup, RemoveSSOUserFromGroup, UnassignPermissionSet, DeactivateSSOUser:
		return true
	}
	return false
}

// Action is one change. The principal is a user (User), or for policy
// actions a user, group or role (exactly one of User, Group, Role; for
// group membership User and Group).
type Action struct {
	Kind  Kind   `yaml:"action" json:"action"`
	User  string `yaml:"user,omitempty" json:"user,omitempty"`
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	Role  string `yaml:"role,omitempty" json:"role,omitempty"`
	// PolicyARN is the managed policy of attach-policy and detach-policy.
	PolicyARN string `yaml:"policy_arn,omitempty" json:"policy_arn,omitempty"`
	// PolicyName and Document are the inline policy of put-inline-policy
	// (Document is JSON) and delete-inline-policy (name only).
	PolicyName string `yaml:"policy_name,omitempty" json:"policy_name,omitempty"`
	Document   string `yaml:"document,omitempty" json:"document,omitempty"`

	// create-user: where, tags, boundary, a console password (generated,
	// reset at first sign-in), and groups and policies to give at once.
	Path                string            `yaml:"path,omitempty" json:"path,omitempty"`
	Tags                map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	PermissionsBoundary string            `yaml:"permissions_boundary,omitempty" json:"permissions_boundary,omitempty"`
	ConsolePassword     bool              `yaml:"console_password,omitempty" json:"console_password,omitempty"`
	Groups              []string          `yaml:"groups,omitempty" json:"groups,omitempty"`
	Policies            []string          `yaml:"policies,omitempty" json:"policies,omitempty"`

	// DenyAll makes deactivate-user also attach AWSDenyAll, so even
	// credentials not yet found (a role session) get nothing.
	DenyAll bool `yaml:"deny_all,omitempty" json:"deny_all,omitempty"`

	// Identity Center: a new user's attributes, a new group's description,
	// and the permission set (name or ARN) and account of an assignment.
	DisplayName   string `yaml:"display_name,omitempty" json:"display_name,omitempty"`
	GivenName     string `yaml:"given_name,omitempty" json:"given_name,omitempty"`
	FamilyName    string `yaml:"family_name,omitempty" json:"family_name,omitempty"`
	Email         string `yaml:"email,omitempty" json:"email,omitempty"`
	Description   string `yaml:"description,omitempty" json:"description,omitempty"`
	PermissionSet string `yaml:"permission_set,omitempty" json:"permission_set,omitempty"`
	Account       string `yaml:"account,omitempty" json:"account,omitempty"`
}

var (
	nameRE       = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	policyARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\x21-\x7e]*/)?[\w+=,.@-]+$`)
)

// inlineQuota is IAM's limit on a principal's inline policy documents,
// whitespace excluded.
var inlineQuota = map[string]int{"user": 2048, "group": 5120, "role": 10240}

// principal returns the kind and name of the principal a policy action
// names.
func (a Action) principal() (kind, name string) {
	switch {
	case a.User != "":
		return "user", a.User
	case a.Group != "":
		return "group", a.Group
	}
	return "role", a.Role
}

// ssoPrincipal names the Identity Center principal an action on a whole
// user or group (create, delete, deactivate, reactivate) acts on:
// ("group", its group) for a group action, else ("user", its user).
func (a Action) ssoPrincipal() (kind, name string) {
	if a.Kind == CreateSSOGroup || a.Kind == DeleteSSOGroup {
		return "group", a.Group
	}
	return "user", a.User
}

// Target describes what the action changes, for messages and the audit
// log: "user alice".
func (a Action) Target() string {
	switch a.Kind {
	case AssignPermissionSet, UnassignPermissionSet:
		who := "Identity Center user " + a.User
		if a.Group != "" {
			who = "Identity Center group " + a.Group
		}
		return "permission set " + a.PermissionSet + " for " + who + " in account " + a.Account
	case CreateSSOUser, DeleteSSOUser, DeactivateSSOUser, ReactivateSSOUser:
		return "Identity Center user " + a.User
	case CreateSSOGroup, DeleteSSOGroup:
		return "Identity Center group " + a.Group
	case AddSSOUserToGroup, RemoveSSOUserFromGroup:
		return "Identity Center user " + a.User + " in group " + a.Group
	}
	if a.Kind == AddToGroup || a.Kind == RemoveFromGroup {
		return "user " + a.User + " in group " + a.Group
	}
	kind, name := a.principal()
	return kind + " " + name
}

// Validate checks an action before anything is asked of AWS, naming each
// problem and its fix.
func (a Action) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{a.Kind}, args...)...)
	}
	check := func(what, v string) error {
		if !nameRE.MatchString(v) {
			return bad("%s %q is not an IAM name: use 1 to 64 letters, digits and +=,.@_-", what, v)
		}
		return nil
	}
	switch a.Kind {
	case CreateUser, DeleteUser, DeactivateUser, ReactivateUser:
		if err := check("user", a.User); err != nil {
			return err
		}
		if a.Group != "" || a.Role != "" {
			return bad("names a group or role; this action is for users: remove them")
		}
	case AddToGroup, RemoveFromGroup:
		if err := check("user", a.User); err != nil {
			return err
		}
		if err := check("group", a.Group); err != nil {
			return err
		}
	case AttachPolicy, DetachPolicy, PutInlinePolicy, DeleteInlinePolicy:
		n := 0
		for _, v := range []string{a.User, a.Group, a.Role} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return bad("name exactly one of user, group or role")
		}
		kind, name := a.principal()
		if err := check(kind, name); err != nil {
			return err
		}
	case CreateSSOUser, DeleteSSOUser, DeactivateSSOUser, ReactivateSSOUser:
		if a.User == "" || len(a.User) > 128 {
			return bad("user: give the Identity Center user name (1 to 128 characters)")
		}
		if a.Kind == CreateSSOUser && (a.DisplayName == "" || a.GivenName == "" || a.FamilyName == "") {
			return bad("display_name, given_name and family_name are required by Identity Center")
		}
	case CreateSSOGroup, DeleteSSOGroup:
		if a.Group == "" || len(a.Group) > 1024 {
			return bad("group: give the Identity Center group's display name")
		}
	case AddSSOUserToGroup, RemoveSSOUserFromGroup:
		if a.User == "" || a.Group == "" {
			return bad("give both user and group")
		}
	case AssignPermissionSet, UnassignPermissionSet:
		if (a.User == "") == (a.Group == "") {
			return bad("name exactly one of user or group (Identity Center principals)")
		}
		if a.PermissionSet == "" {
			return bad("permission_set: give the permission set's name or ARN")
		}
		if !regexp.MustCompile(`^\d{12}$`).MatchString(a.Account) {
			return bad("account %q is not a 12-digit account id", a.Account)
		}
	default:
		return fmt.Errorf("unknown action %q: use one of %s", a.Kind, kindList())
	}
	switch a.Kind {
	case AttachPolicy, DetachPolicy:
		if !policyARNRE.MatchString(a.PolicyARN) {
			return bad("policy_arn %q is not a managed policy ARN (arn:aws:iam::aws:policy/Name or arn:aws:iam::<account>:policy/path/Name)", a.PolicyARN)
		}
	case PutInlinePolicy, DeleteInlinePolicy:
		if !policyNameRE.MatchString(a.PolicyName) {
			return bad("policy_name %q: use 1 to 128 letters, digits and +=,.@_-", a.PolicyName)
		}
		if a.Kind == PutInlinePolicy {
			if err := policy.CheckIdentity(a.Document); err != nil {
				return bad("%v", err)
			}
			kind, _ := a.principal()
			if n := nonSpace(a.Document); n > inlineQuota[kind] {
				return bad("the document has %d characters (whitespace excluded); IAM allows %d for a %s's inline policies together: shorten it or use a managed policy", n, inlineQuota[kind], kind)
			}
		}
	case CreateUser:
		if a.Path != "" && (!strings.HasPrefix(a.Path, "/") || !strings.HasSuffix(a.Path, "/")) {
			return bad("path %q must begin and end with /", a.Path)
		}
		for _, p := range append(append([]string{}, a.Policies...), a.PermissionsBoundary) {
			if p != "" && !policyARNRE.MatchString(p) {
				return bad("%q is not a managed policy ARN", p)
			}
		}
		for _, g := range a.Groups {
			if err := check("group", g); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadDocumentFile reads a policy document from a file, without the byte
// order mark some editors write before it.
func ReadDocumentFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(string(b), "\ufeff"), nil
}

func nonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
