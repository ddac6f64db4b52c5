package render

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
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
	// UnusedAfterDays is the N of the unused findings below.
	UnusedAfterDays int               `json:"unused_after_days"`
	InactiveUsers   []findings.Unused `json:"inactive_users"`
	UnusedKeys      []findings.Unused `json:"unused_keys"`
	UnusedRoles     []findings.Unused `json:"unused_roles"`
	// ActivityRead says whether the connection reads CloudTrail activity:
	// the two lists after it are found only in what it read (empty
	// otherwise), since ActivityFrom, the oldest event read.
	ActivityRead      bool                        `json:"activity_read"`
	ActivityFrom      *time.Time                  `json:"activity_from"`
	InactiveSSOUsers  []findings.SSOInactive      `json:"inactive_sso_users"`
	UnusedAssignments []findings.UnusedAssignment `json:"unused_assignments"`
	// EffectiveAdminsRead says whether the effective administrators were
	// computed (with the policy evaluator: every action on every resource
	// once SCPs, boundaries and denies apply); EffectiveAdmins is empty
	// when not. EscalationPathsRead and EscalationPaths likewise, for the
	// privilege escalation paths (shortest first).
	EffectiveAdminsRead bool                      `json:"effective_admins_read"`
	EffectiveAdmins     []findings.EffectiveAdmin `json:"effective_admins"`
	EscalationPathsRead bool                      `json:"escalation_paths_read"`
	EscalationPaths     []findings.EscalationPath `json:"escalation_paths"`
	// LastAccessedRead says whether the connection has IAM last accessed
	// data (activity.last_accessed); UnusedServices, the services granted
	// but unused for UnusedAfterDays days with a right-sized policy, is
	// found only among the principals it covers, and is empty otherwise.
	LastAccessedRead bool                      `json:"last_accessed_read"`
	UnusedServices   []findings.UnusedServices `json:"unused_services"`
	// AssetsRead says whether the snapshot's sync read assets
	// (sync.assets); the lists after it are empty when not. Exposures are
	// the assets exposed through their resource policies (public,
	// cross-account, a KMS key anyone in the account may manage) or
	// security groups (admin ports open to the internet);
	// PublicAdminInstances the instances with a public IP running as an
	// administrator role, decided as PublicAdminInstancesFrom says
	// ("effective_admins" once the effective administrators are computed,
	// else "admin_policies"; "" when assets were not read).
	AssetsRead               bool                           `json:"assets_read"`
	Exposures                []findings.Exposure            `json:"exposures"`
	PublicAdminInstances     []findings.PublicAdminInstance `json:"public_admin_instances"`
	PublicAdminInstancesFrom string                         `json:"public_admin_instances_from"`
}

// NewFindings runs the rules over g: the top principals by policies held,
// admins, keys older than staleDays at now, console users without MFA, and
// roles trusting principals outside their account.
func NewFindings(g *model.Graph, now time.Time, top, staleDays int) *Findings {
	return (&Findings{
		StaleAfterDays:       staleDays,
		TopHolders:           nonNil(findings.TopHolders(g, top)),
		Admins:               nonNil(findings.Admins(g)),
		StaleKeys:            nonNil(findings.StaleKeys(g, now, staleDays)),
		ConsoleWithoutMFA:    nonNil(findings.ConsoleWithoutMFA(g)),
		OutsideTrust:         nonNil(findings.OutsideTrust(g)),
		SSOAdmins:            nonNil(findings.SSOAdmins(g)),
		EffectiveAdmins:      []findings.EffectiveAdmin{},
		EscalationPaths:      []findings.EscalationPath{},
		UnusedServices:       []findings.UnusedServices{},
		Exposures:            []findings.Exposure{},
		PublicAdminInstances: []findings.PublicAdminInstance{},
	}).Unused(g, now, findings.DefaultUnusedDays, nil, false)
}

// Unused (re)runs the unused-access rules over g with N = days: IAM users
// inactive, active keys and roles (service-linked ones apart) unused, from
// the credential report and RoleLastUsed; and, when the connection reads
// activity (read), its stored CloudTrail events: Identity Center users who
// never signed in or not for days, and assignments never used. It returns
// f.
func (f *Findings) Unused(g *model.Graph, now time.Time, days int, events []collect.ActivityEvent, read bool) *Findings {
	f.UnusedAfterDays = days
	f.InactiveUsers = nonNil(findings.InactiveUsers(g, now, days))
	f.UnusedKeys = nonNil(findings.UnusedKeys(g, now, days))
	f.UnusedRoles = nonNil(findings.UnusedRoles(g, now, days))
	f.ActivityRead, f.ActivityFrom = read, nil
	f.InactiveSSOUsers, f.UnusedAssignments = []findings.SSOInactive{}, []findings.UnusedAssignment{}
	if read {
		from := now
		if len(events) > 0 {
			from = events[0].Time
			for _, e := range events {
				if e.Time.Before(from) {
					from = e.Time
				}
			}
		}
		f.ActivityFrom = &from
		f.InactiveSSOUsers = nonNil(findings.InactiveSSOUsers(g, events, from, now, days))
		f.UnusedAssignments = nonNil(findings.UnusedAssignments(g, events))
	}
	return f
}

// LastAccessed runs the unused-services rule over the stored IAM last
// accessed data of g's principals (none: the connection reads none), with
// the N of Unused, and marks whether any was read. It returns f.
func (f *Findings) LastAccessed(g *model.Graph, now time.Time, data []findings.LastAccessed) *Findings {
	f.LastAccessedRead = len(data) > 0
	f.UnusedServices = nonNil(findings.UnusedServicesFor(g, data, now, f.UnusedAfterDays))
	return f
}

// Assets runs the asset rules over g, the graph of snap, when its sync
// read assets (findings.AssetsRead): the exposures, and the public
// instances running as a role holding an administrator policy (Effective
// decides them again with the effective administrators). It returns f.
func (f *Findings) Assets(snap *model.Snapshot, g *model.Graph) *Findings {
	f.AssetsRead = findings.AssetsRead(snap, g)
	f.Exposures, f.PublicAdminInstances, f.PublicAdminInstancesFrom = []findings.Exposure{}, []findings.PublicAdminInstance{}, ""
	if f.AssetsRead {
		f.Exposures = nonNil(findings.Exposures(g))
		f.PublicAdminInstances = nonNil(findings.PublicAdminInstances(g))
		f.PublicAdminInstancesFrom = findings.DecidedByPolicies
	}
	return f
}

// EffectiveOptions says which of the findings that use the policy
// evaluator to compute.
type EffectiveOptions struct {
	Admins     bool // effective administrators
	Escalation bool // privilege escalation paths (needs the administrators: computes them too)
}

// Effective computes the findings that use the policy evaluator over s
// (effective.Load of the snapshot whose graph is g), those opts asks for,
// and marks which were read. It returns f.
func (f *Findings) Effective(ctx context.Context, s *effective.Snapshot, g *model.Graph, opts EffectiveOptions) (*Findings, error) {
	f.EffectiveAdminsRead, f.EscalationPathsRead = false, false
	f.EffectiveAdmins, f.EscalationPaths = []findings.EffectiveAdmin{}, []findings.EscalationPath{}
	if !opts.Admins && !opts.Escalation {
		return f, nil
	}
	admins, err := findings.EffectiveAdminsHolding(ctx, s, g, f.Admins)
	if err != nil {
		return nil, err
	}
	if opts.Admins {
		f.EffectiveAdminsRead, f.EffectiveAdmins = true, nonNil(admins)
	}
	if f.AssetsRead {
		f.PublicAdminInstances = nonNil(findings.PublicAdminInstancesEffective(g, admins))
		f.PublicAdminInstancesFrom = findings.DecidedByEffective
	}
	if opts.Escalation {
		paths, err := findings.EscalationPaths(ctx, s, g, admins)
		if err != nil {
			return nil, err
		}
		f.EscalationPathsRead, f.EscalationPaths = true, nonNil(paths)
	}
	return f, nil
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
	tables = append(tables, f.unusedTables()...)
	tables = append(tables, f.effectiveTables()...)
	tables = append(tables, f.assetTables()...)
	for _, t := range tables {
		t.Limit(limit)
	}
	return tables
}

// unusedTables lays out the unused-access findings that found something
// (the Identity Center ones only for a connection that reads activity).
func (f *Findings) unusedTables() []*Table {
	var out []*Table
	unused := func(title string, list []findings.Unused, key bool) {
		if len(list) == 0 {
			return
		}
		h := []string{"TYPE", "NAME", "ACCOUNT", "LAST USED", "IDLE (DAYS)"}
		if key {
			h = []string{"USER", "KEY ID", "ACCOUNT", "LAST USED", "IDLE (DAYS)"}
		}
		t := &Table{Title: fmt.Sprintf("%s (%d)", title, len(list)), Header: h}
		for _, u := range list {
			first := kindName(u.Principal.Type)
			second := u.Principal.Name
			if key {
				first, second = u.Principal.Name, u.KeyID
			}
			t.Add(first, second, u.Principal.AccountID, lastUsedCell(u.LastUsed), strconv.Itoa(u.IdleDays))
		}
		out = append(out, t)
	}
	n := f.UnusedAfterDays
	unused(fmt.Sprintf("IAM users inactive for more than %d days (no console sign-in, no key use)", n), f.InactiveUsers, false)
	unused(fmt.Sprintf("Active access keys unused for more than %d days", n), f.UnusedKeys, true)
	unused(fmt.Sprintf("Roles unused for more than %d days (service-linked roles apart)", n), f.UnusedRoles, false)
	if len(f.UnusedServices) > 0 {
		t := &Table{Title: fmt.Sprintf("Services granted but unused for more than %d days, from IAM last accessed data (%d; the right-sized policy of each is in -o json)", n, len(f.UnusedServices)),
			Header: []string{"TYPE", "NAME", "ACCOUNT", "GRANTED", "UNUSED", "USED"}}
		for _, u := range f.UnusedServices {
			var names []string
			for _, s := range u.Unused {
				names = append(names, s.Namespace)
			}
			t.Add(kindName(u.Principal.Type), u.Principal.Name, u.Principal.AccountID, strconv.Itoa(u.Granted),
				strings.Join(names, ", "), strings.Join(u.Used, ", "))
		}
		out = append(out, t)
	}
	if !f.ActivityRead {
		return out
	}
	from := "-"
	if f.ActivityFrom != nil {
		from = f.ActivityFrom.UTC().Format(time.DateOnly)
	}
	if len(f.InactiveSSOUsers) > 0 {
		t := &Table{Title: fmt.Sprintf("Identity Center users with no sign-in for more than %d days, or none since %s (%d)", n, from, len(f.InactiveSSOUsers)),
			Header: []string{"USER", "LAST SIGN-IN", "IDLE (DAYS)"}}
		for _, u := range f.InactiveSSOUsers {
			t.Add(u.Name, lastUsedCell(u.LastSignIn), strconv.Itoa(u.IdleDays))
		}
		out = append(out, t)
	}
	if len(f.UnusedAssignments) > 0 {
		t := &Table{Title: fmt.Sprintf("Permission-set assignments never used in their account since %s (%d)", from, len(f.UnusedAssignments)),
			Header: []string{"ACCOUNT", "PERMISSION SET", "TYPE", "ASSIGNED TO"}}
		for _, a := range f.UnusedAssignments {
			t.Add(a.AccountID, a.PermissionSetName, principalKind(a.Principal.Type), a.Principal.Name)
		}
		out = append(out, t)
	}
	return out
}

// effectiveTables lays out the findings that use the policy evaluator:
// "Effective administrators" (through what) and "Privilege escalation
// paths" (shortest first, a row per step, with its actions and the
// statements that allow it), or, for one not computed, a table saying so
// and how to compute it.
func (f *Findings) effectiveTables() []*Table {
	admins := &Table{Title: fmt.Sprintf("Effective administrators (%d): allowed every action on every resource once SCPs, boundaries and denies apply", len(f.EffectiveAdmins)),
		Header: []string{"TYPE", "NAME", "ACCOUNT", "DECISION", "THROUGH", "HOLDS ADMIN POLICY"}}
	if !f.EffectiveAdminsRead {
		admins.Title = "Effective administrators: not computed (use --effective)"
	}
	for _, a := range f.EffectiveAdmins {
		through := EffectiveAdminThrough(a)
		if a.Decision == policy.Conditional {
			through += "; if " + alternatives(a.AllowedIf)
		}
		admins.Add(kindName(a.Principal.Type), a.Principal.Name, a.AccountID, decisionText(a.Decision), through, yesNo(a.HoldsAdminPolicy, true))
	}
	paths := &Table{Title: fmt.Sprintf("Privilege escalation paths (%d), shortest first", len(f.EscalationPaths)),
		Header: []string{"PRINCIPAL", "ACCOUNT", "BECOMES", "STEP", "WHO", "ACTIONS", "ON", "GAINS", "ALLOWED BY"}}
	if !f.EscalationPathsRead {
		paths.Title = "Privilege escalation paths: not computed (use --escalation)"
	}
	for _, p := range f.EscalationPaths {
		for i, st := range p.Steps {
			who, account, becomes := "", "", ""
			if i == 0 {
				who, account, becomes = kindName(p.Principal.Type)+" "+p.Principal.Name, p.Principal.AccountID, kindName(p.Admin.Type)+" "+p.Admin.Name
				if p.Decision == policy.Conditional {
					becomes += " (if " + alternatives(p.AllowedIf) + ")"
				}
			}
			paths.Add(who, account, becomes, strconv.Itoa(i+1), st.Principal.Name, strings.Join(st.Actions, " "), st.Target.Name, st.Gains, allowingStatements(st.Explanation))
		}
	}
	return []*Table{admins, paths}
}

// allowingStatements names the Allow statements of steps: "policy#Sid".
func allowingStatements(steps []policy.Step) string {
	var out []string
	seen := map[string]bool{}
	for _, s := range steps {
		if s.Effect != "Allow" {
			continue
		}
		k := s.Policy + " " + s.Statement
		if s.Kind == "boundary" {
			k = "boundary " + k
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return dash(strings.Join(out, ", "))
}

// EffectiveAdminThrough says through what an effective administrator is
// one: its path (direct, or the permission set and its role) and the
// identity or resource policies that allow it.
func EffectiveAdminThrough(a findings.EffectiveAdmin) string {
	if a.Path == "identity center" && a.Role != nil {
		return "permission set " + a.Via + " (role " + a.Role.Name + ")" + allowingPolicies(a.Explanation)
	}
	return a.Path + allowingPolicies(a.Explanation)
}

// assetTables lays out the asset findings: the exposures (worst first) and
// the public instances running as an administrator role; or, for a
// snapshot whose sync read no assets, one table saying so and how to read
// them.
func (f *Findings) assetTables() []*Table {
	if !f.AssetsRead {
		return []*Table{{Title: "Asset exposures: assets were not read (add sync.assets to the connection in warden.yaml, see docs/assets.md, and sync again)",
			Header: []string{"SEVERITY", "KIND", "TYPE", "ASSET", "ACCOUNT", "REGION", "TO", "FIX"}}}
	}
	ex := &Table{Title: fmt.Sprintf("Asset exposures (%d): resource policies and bucket ACLs open to anyone or to other accounts, KMS keys anyone in the account may manage, admin ports open to the internet", len(f.Exposures)),
		Header: []string{"SEVERITY", "KIND", "TYPE", "ASSET", "ACCOUNT", "REGION", "TO", "FIX"}}
	for _, sev := range []string{"high", "medium", "low"} {
		for _, e := range f.Exposures {
			if e.Severity != sev {
				continue
			}
			to := strings.Join(e.Actions, " ")
			switch e.Kind {
			case findings.ExposureCrossAccount, findings.ExposureCrossAccountGrant, findings.ExposureCrossAccountACL:
				to = "accounts " + strings.Join(e.Accounts, ",") + ": " + to
			case findings.ExposureOpenAdminPort:
				to = "ports " + portsCell(e.Ports) + " from the internet"
			}
			ex.Add(e.Severity, string(e.Kind), kindName(e.AssetType), e.Name, e.AccountID, e.Region, dash(to), e.Fix)
		}
	}
	title := fmt.Sprintf("Instances with a public IP running as an administrator role (%d): one compromised host is the account", len(f.PublicAdminInstances))
	if f.PublicAdminInstancesFrom == findings.DecidedByPolicies {
		title += "; roles holding an administrator policy (the effective administrators were not computed)"
	}
	pub := &Table{Title: title, Header: []string{"INSTANCE", "NAME", "ACCOUNT", "REGION", "PUBLIC IP", "ROLE", "DECISION", "FIX"}}
	for _, p := range f.PublicAdminInstances {
		pub.Add(p.InstanceID[strings.LastIndexByte(p.InstanceID, '/')+1:], dash(p.Name), p.AccountID, p.Region, p.PublicIP,
			p.Role[strings.LastIndexByte(p.Role, '/')+1:], dash(p.Decision), p.Fix)
	}
	return []*Table{ex, pub}
}
