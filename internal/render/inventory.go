package render

import (
	"strconv"
	"strings"

	"github.com/warden-iam/warden/internal/inventory"
)

// AccountsTable lays out account rows.
func AccountsTable(rows []inventory.AccountRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "OU", "STATUS", "EMAIL", "ROOT MFA", "ROOT KEYS"}}
	for _, r := range rows {
		name := r.Name
		if r.Management {
			name += " (management)"
		}
		t.Add(r.AccountID, name, dash(r.OUPath), dash(r.Status), dash(r.Email), yesNo(r.RootMFAActive, r.CredentialReport), strconv.Itoa(r.RootAccessKeys))
	}
	return t
}

// OUsTable lays out the organization's root and OU rows.
func OUsTable(rows []inventory.OURow) *Table {
	t := &Table{Header: []string{"PATH", "NAME", "ACCOUNTS", "OUS", "SCPS"}}
	for _, r := range rows {
		t.Add(r.Path, r.Name, list(r.Accounts), list(r.OUs), list(r.SCPs))
	}
	return t
}

// SCPsTable lays out service control policy rows.
func SCPsTable(rows []inventory.SCPRow) *Table {
	t := &Table{Header: []string{"NAME", "ID", "AWS MANAGED", "TARGETS"}}
	for _, r := range rows {
		t.Add(r.Name, r.PolicyID, yesNo(r.AWSManaged, true), list(r.Targets))
	}
	return t
}

// SSOUsersTable lays out Identity Store user rows.
func SSOUsersTable(rows []inventory.SSOUserRow) *Table {
	t := &Table{Header: []string{"NAME", "DISPLAY NAME", "E-MAIL", "STATUS", "GROUPS", "ASSIGNMENTS"}}
	for _, r := range rows {
		t.Add(r.Name, dash(r.DisplayName), dash(strings.Join(r.Emails, ", ")), dash(r.Status), list(r.Groups), strconv.Itoa(r.Assignments))
	}
	return t
}

// SSOGroupsTable lays out Identity Store group rows.
func SSOGroupsTable(rows []inventory.SSOGroupRow) *Table {
	t := &Table{Header: []string{"NAME", "DESCRIPTION", "MEMBERS", "ASSIGNMENTS"}}
	for _, r := range rows {
		t.Add(r.Name, dash(r.Description), strconv.Itoa(r.Members), strconv.Itoa(r.Assignments))
	}
	return t
}

// PermissionSetsTable lays out permission set rows.
func PermissionSetsTable(rows []inventory.PermissionSetRow) *Table {
	t := &Table{Header: []string{"NAME", "SESSION", "MANAGED POLICIES", "CUSTOMER POLICIES", "INLINE", "BOUNDARY", "ACCOUNTS"}}
	for _, r := range rows {
		t.Add(r.Name, dash(r.SessionDuration), list(r.ManagedPolicies), list(r.CustomerManagedPolicies), yesNo(r.InlinePolicy, true),
			dash(r.PermissionsBoundary), list(r.Accounts))
	}
	return t
}

// AssignmentsTable lays out account assignment rows.
func AssignmentsTable(rows []inventory.AssignmentRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "PERMISSION SET", "PRINCIPAL", "TYPE", "THROUGH"}}
	for _, r := range rows {
		through := r.Provenance
		if r.Via != "" {
			through += " " + r.Via
		}
		account := r.AccountID
		if r.AccountName != "" {
			account += " (" + r.AccountName + ")"
		}
		t.Add(account, r.PermissionSet, r.Principal, dash(r.PrincipalType), through)
	}
	return t
}
