package diff

import (
	"fmt"
	"strings"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// The sentences of the report's items, for people.

// Who names a resource in a sentence: a user by its name, anything else by
// its kind and name ("group admins", "role deploy").
func Who(r Ref) string {
	kind := ""
	switch r.Type {
	case model.TypeIAMUser, model.TypeSSOUser, model.TypeIAMPolicy:
	case model.TypeIAMGroup, model.TypeSSOGroup:
		kind = "group"
	case model.TypeIAMRole:
		kind = "role"
	case model.TypeAccount:
		kind = "account"
	case model.TypeExternalPrincipal:
		kind = "principal"
	case model.TypePermissionSet:
		kind = "permission set"
	case model.TypeInlinePolicy:
		kind = "inline policy"
	case model.TypeAccessKey:
		kind = "access key"
	case model.TypeMFADevice:
		kind = "MFA device"
	case model.TypeOrgUnit:
		kind = "OU"
	case "":
	default:
		kind = strings.ReplaceAll(string(r.Type), "_", " ")
	}
	if kind == "" {
		return r.Name
	}
	return kind + " " + r.Name
}

func in(account string) string {
	if account == "" {
		return ""
	}
	return " in " + account
}

// accessText says "alice gained AdministratorAccess via group admins in
// 111122223333".
func accessText(a AccessChange) string {
	var what, how string
	switch {
	case a.Entitlement == model.EntAttached:
		what = Who(a.Resource)
		if a.Provenance == model.ViaDirect {
			how = " directly"
		}
	case a.Entitlement == model.EntMember:
		what = "membership of " + Who(a.Resource)
	case a.Entitlement == model.EntAssume:
		what = "assume " + Who(a.Resource)
		if a.Provenance == model.ViaTrust {
			how = " through its trust policy"
		}
	case a.Entitlement == model.EntOwner:
		what = "ownership of " + Who(a.Resource)
	case a.Entitlement == model.EntContains:
		what = "placement in " + Who(a.Resource)
	case strings.HasPrefix(a.Entitlement, model.AssignmentEntitlement("")):
		what = "permission set " + a.Resource.Name
	default:
		what = a.Entitlement + " of " + Who(a.Resource)
	}
	if a.Via != nil {
		how = " via " + Who(*a.Via)
	}
	return fmt.Sprintf("%s %s %s%s%s", Who(a.Principal), a.Change, what, how, in(a.AccountID))
}

// paths says how a principal holds its admin policies.
func paths(through []findings.PolicyPath) string {
	parts := make([]string, 0, len(through))
	for _, p := range through {
		switch p.Provenance {
		case model.ViaGroup:
			parts = append(parts, p.PolicyName+" via group "+p.ViaName)
		case model.ViaInline:
			parts = append(parts, "inline policy "+p.PolicyName)
		default:
			parts = append(parts, p.PolicyName+" directly")
		}
	}
	return strings.Join(parts, ", ")
}

func adminText(a AdminChange) string {
	if a.Change == Added {
		return fmt.Sprintf("%s%s is a new administrator: %s", Who(a.Principal), in(a.Principal.AccountID), paths(a.Through))
	}
	return fmt.Sprintf("%s%s is no longer an administrator (held %s)", Who(a.Principal), in(a.Principal.AccountID), paths(a.Through))
}

func trustText(t TrustChange) string {
	var whom string
	switch t.Reason {
	case findings.ReasonAnyone:
		whom = "anyone (*)"
	case findings.ReasonOtherAccount:
		whom = "account " + t.Account
		if t.Trusted.Value != t.Account {
			whom += " (" + t.Trusted.Value + ")"
		}
	case findings.ReasonFederated:
		whom = "federated provider " + t.Trusted.Value
	default:
		whom = t.Trusted.Kind + " " + t.Trusted.Value
	}
	verb := "now trusts"
	if t.Change == Removed {
		verb = "no longer trusts"
	}
	s := fmt.Sprintf("%s%s %s %s", Who(t.Role), in(t.Role.AccountID), verb, whom)
	if len(t.Trusted.Conditions) > 0 {
		s += " with conditions " + strings.Join(t.Trusted.Conditions, ", ")
	} else if t.Change == Added {
		s += " with no condition"
	}
	return s
}

func keyText(k KeyChange) string {
	return fmt.Sprintf("access key %s of %s%s %s (%s)", k.Key.Name, Who(k.User), in(k.Key.AccountID), k.Change, k.Status)
}

func credentialText(c CredentialChange) string {
	switch c.Kind {
	case KindConsole:
		if c.Change == Added {
			return fmt.Sprintf("%s%s can now sign in to the console (password added)", Who(c.User), in(c.User.AccountID))
		}
		return fmt.Sprintf("%s%s can no longer sign in to the console (password removed)", Who(c.User), in(c.User.AccountID))
	case KindRootMFA:
		return fmt.Sprintf("MFA of the root user of %s %s", Who(c.User), c.Change)
	}
	s := fmt.Sprintf("MFA of %s%s %s", Who(c.User), in(c.User.AccountID), c.Change)
	if c.Device != nil {
		s += ": device " + c.Device.Name
	}
	return s
}

func assignmentText(a AssignmentChange) string {
	acct := a.AccountID
	if a.AccountName != "" && a.AccountName != a.AccountID {
		acct += " (" + a.AccountName + ")"
	}
	verb, reach := "assigned to", "reaching"
	if a.Change == Removed {
		verb, reach = "no longer assigned to", "which reached"
	}
	s := fmt.Sprintf("permission set %s in %s %s %s", a.PermissionSet.Name, acct, verb, Who(a.Principal))
	if a.Principal.Type == model.TypeSSOGroup {
		names := make([]string, 0, len(a.Reaches))
		for _, r := range a.Reaches {
			names = append(names, r.Name)
		}
		if len(names) == 0 {
			s += ", " + reach + " no one (the group has no members)"
		} else {
			s += ", " + reach + " " + strings.Join(names, ", ")
		}
	}
	return s
}

func findingText(f FindingChange, staleDays int) string {
	var s string
	switch f.Rule {
	case "console_without_mfa":
		s = fmt.Sprintf("%s%s can sign in to the console without MFA", Who(f.User), in(f.User.AccountID))
		if f.Subject.Type == model.TypeAccount {
			s = fmt.Sprintf("the root user of %s can sign in without MFA", Who(f.Subject))
		}
	case "stale_key":
		s = fmt.Sprintf("access key %s of %s%s is older than %d days", f.Subject.Name, Who(f.User), in(f.Subject.AccountID), staleDays)
	}
	if f.Change == New {
		return s + " (new finding)"
	}
	return s + " (resolved)"
}

func resourceText(d ResourceDiff) string {
	s := fmt.Sprintf("%s %s%s %s", strings.ReplaceAll(string(d.Resource.Type), "_", " "), d.Resource.Name, in(d.Resource.AccountID), d.Change)
	if len(d.Fields) > 0 {
		paths := make([]string, 0, len(d.Fields))
		for _, f := range d.Fields {
			paths = append(paths, f.Path)
		}
		s += ": " + strings.Join(paths, ", ")
	}
	return s
}
