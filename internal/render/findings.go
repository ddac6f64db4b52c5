package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
)

// Findings are the answers `warden findings` (and `warden demo`) give about
// one snapshot. Every list is complete and present, empty when nothing was
// found.
type Findings struct {
	StaleAfterDays    int                    `json:"stale_after_days"`
	TopHolders        []findings.Holder      `json:"top_holders"`
	Admins            []findings.Admin       `json:"admins"`
	StaleKeys         []findings.StaleKey    `json:"stale_keys"`
	ConsoleWithoutMFA []findings.ConsoleUser `json:"console_without_mfa"`
	OutsideTrust      []findings.Trust       `json:"outside_trust"`
	SSOAdmins         []findings.SSOAdmin    `json:"sso_admins"`
}

// NewFindings runs the rules over g: the top principals by policies held,
// admins, keys older than staleDays at now, console users without MFA, and
// roles trusting principals outside their account.
func NewFindings(g *model.Graph, now time.Time, top, staleDays int) *Findings {
	return &Findings{
		StaleAfterDays:    staleDays,
		TopHolders:        nonNil(findings.TopHolders(g, top)),
		Admins:            nonNil(findings.Admins(g)),
		StaleKeys:         nonNil(findings.StaleKeys(g, now, staleDays)),
		ConsoleWithoutMFA: nonNil(findings.ConsoleWithoutMFA(g)),
		OutsideTrust:      nonNil(findings.OutsideTrust(g)),
		SSOAdmins:         nonNil(findings.SSOAdmins(g)),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Tables lays out the findings, at most limit rows per table (all when
// limit <= 0); the count of rows left out is shown.
func (f *Findings) Tables(limit int) []*Table {
	top := &Table{Title: "Who holds the most access (distinct policies in effect, through groups included)",
		Header: []string{"TYPE", "NAME", "ACCOUNT", "POLICIES", "GROUPS", "ADMIN"}}
	for _, h := range f.TopHolders {
		top.Add(kindName(h.Type), h.Name, h.AccountID, strconv.Itoa(h.Policies), strconv.Itoa(h.Groups), yesNo(h.Admin, true))
	}
	admins := &Table{Title: fmt.Sprintf("Administrators (%d): hold a policy allowing every action on every resource", len(f.Admins)),
		Header: []string{"TYPE", "NAME", "ACCOUNT", "THROUGH"}}
	for _, a := range f.Admins {
		through := make([]string, 0, len(a.Through))
		for _, p := range a.Through {
			through = append(through, p.PolicyName+" ("+Path{Provenance: p.Provenance, ViaName: p.ViaName}.String()+")")
		}
		admins.Add(kindName(a.Type), a.Name, a.AccountID, strings.Join(through, ", "))
	}
	keys := &Table{Title: fmt.Sprintf("Access keys older than %d days (%d), active first", f.StaleAfterDays, len(f.StaleKeys)),
		Header: []string{"USER", "KEY ID", "STATUS", "AGE (DAYS)", "LAST USED", "SERVICE"}}
	for _, k := range f.StaleKeys {
		keys.Add(k.User.Name, k.KeyID, k.Status, strconv.Itoa(k.AgeDays), lastUsedCell(k.LastUsed), dash(inventory.Known(k.LastUsedService)))
	}
	mfa := &Table{Title: fmt.Sprintf("Console sign-in without MFA (%d)", len(f.ConsoleWithoutMFA)),
		Header: []string{"USER", "ACCOUNT", "PASSWORD LAST USED"}}
	for _, u := range f.ConsoleWithoutMFA {
		mfa.Add(u.Name, u.AccountID, lastUsedCell(u.PasswordLastUsed))
	}
	trust := &Table{Title: fmt.Sprintf("Roles trusting principals outside their account (%d)", len(f.OutsideTrust)),
		Header: []string{"ROLE", "ACCOUNT", "WHY", "TRUSTED PRINCIPAL", "CONDITIONS"}}
	for _, t := range f.OutsideTrust {
		trust.Add(t.Role.Name, t.Role.AccountID, string(t.Reason), trustedCell(model.TrustedEntity{Kind: t.Trusted.Kind, Value: t.Trusted.Value}), list(t.Trusted.Conditions))
	}
	tables := []*Table{top, admins, keys, mfa, trust}
	if len(f.SSOAdmins) > 0 {
		sso := &Table{Title: fmt.Sprintf("Identity Center administrators (%d): hold a permission set allowing every action on every resource", len(f.SSOAdmins)),
			Header: []string{"USER", "ACCOUNT", "PERMISSION SET", "THROUGH", "BECAUSE"}}
		for _, a := range f.SSOAdmins {
			for _, p := range a.Through {
				sso.Add(a.Name, p.AccountID, p.PermissionSetName, Path{Provenance: p.Provenance, ViaName: p.ViaName}.String(), p.Because)
			}
		}
		tables = append(tables, sso)
	}
	for _, t := range tables {
		t.Limit(limit)
	}
	return tables
}
