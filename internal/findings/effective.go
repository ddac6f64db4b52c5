package findings

import (
	"context"
	"fmt"
	"sort"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// AdminProbes are the requests an effective administrator must be allowed,
// each on every resource ("*"): "*:*" (an Action that takes in every
// service's actions) and one action of each service an exception usually
// leaves out (IAM, Organizations, Account, STS, CloudTrail, KMS …), so an
// allow of NotAction iam:* (PowerUserAccess) or a deny of one service is
// not taken for full access.
var AdminProbes = []string{"*:*", "iam:CreateUser", "iam:AttachRolePolicy", "iam:PassRole", "sts:AssumeRole",
	"organizations:LeaveOrganization", "account:PutAlternateContact", "s3:DeleteBucket", "ec2:RunInstances",
	"kms:Decrypt", "lambda:CreateFunction", "cloudtrail:StopLogging"}

// EffectiveAdmin is an IAM user or role (or an Identity Center user,
// through a permission set's role) that can do every action on every
// resource once SCPs, permissions boundaries and explicit denies are
// applied, as AWS's evaluation logic decides it.
type EffectiveAdmin struct {
	Principal effective.Ref `json:"principal"`
	// AccountID is the account the principal acts in.
	AccountID string `json:"account_id"`
	// Path is "direct" for an IAM user or role, "identity center" for an
	// Identity Center user through Role; Via names the permission set.
	Path string         `json:"path"`
	Via  string         `json:"via"`
	Role *effective.Ref `json:"role"`
	// Decision is allowed, or allowed_if when some probe is allowed only
	// under conditions on keys a snapshot does not know (MFA, source IP …):
	// AllowedIf are those conditions (every probe's, all to hold).
	Decision  policy.Decision      `json:"decision"`
	AllowedIf []policy.Alternative `json:"allowed_if"`
	// Explanation are the statements that allow "*:*".
	Explanation []policy.Step `json:"explanation"`
	// HoldsAdminPolicy is the older, separate fact: the principal holds a
	// policy allowing "*" on "*" (Admins), whatever limits it.
	HoldsAdminPolicy bool `json:"holds_admin_policy"`
}

// EffectiveAdmins lists the effective administrators of snapshot s (opened
// with effective.Load) whose graph is g: the principals allowed every one
// of AdminProbes on "*". Allowed ones come first, then by type, account
// and name.
func EffectiveAdmins(ctx context.Context, s *effective.Snapshot, g *model.Graph) ([]EffectiveAdmin, error) {
	return EffectiveAdminsHolding(ctx, s, g, Admins(g))
}

// EffectiveAdminsHolding is EffectiveAdmins for a caller that has
// Admins(g) already (held): it does not run that rule again.
func EffectiveAdminsHolding(ctx context.Context, s *effective.Snapshot, g *model.Graph, held []Admin) ([]EffectiveAdmin, error) {
	byID := make(map[string]*model.Resource, len(g.Resources)/2)
	for i := range g.Resources {
		if r := &g.Resources[i]; isPrincipal(r) {
			byID[r.ID] = r
		}
	}
	holds := map[string]bool{}
	for _, a := range held {
		holds[a.ID] = true
	}
	first, err := s.WhoCan(ctx, effective.WhoCanQuestion{Action: AdminProbes[0], Resource: "*"})
	if err != nil {
		return nil, fmt.Errorf("effective administrators: %w", err)
	}
	// The IAM principals allowed "*:*" are asked the other probes.
	admin := map[string]*EffectiveAdmin{}
	for _, e := range first.Principals {
		if e.Path != "direct" {
			continue
		}
		r := byID[e.Principal.ID]
		if r == nil {
			continue
		}
		a := &EffectiveAdmin{Principal: e.Principal, AccountID: e.AccountID, Path: "direct", Decision: e.Decision,
			AllowedIf: nonNilAlts(e.AllowedIf), Explanation: e.Explanation, HoldsAdminPolicy: holds[e.Principal.ID]}
		ok := true
		for _, action := range AdminProbes[1:] {
			ans, err := s.Can(ctx, r, effective.Question{Principal: r.ARN, Action: action, Resource: "*"})
			if err != nil {
				return nil, fmt.Errorf("effective administrators: %s %s: %w", r.ID, action, err)
			}
			switch ans.Decision {
			case policy.Allowed:
			case policy.Conditional:
				a.Decision = policy.Conditional
				a.AllowedIf = andAlts(a.AllowedIf, caseAlts(ans))
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			admin[r.ID] = a
		}
	}
	var out []EffectiveAdmin
	for _, a := range admin {
		out = append(out, *a)
	}
	// Identity Center users, through a role that is an administrator.
	for _, e := range first.Principals {
		if e.Path != "identity center" || len(e.Chain) != 1 {
			continue
		}
		role := admin[e.Chain[0].Role.ID]
		if role == nil {
			continue
		}
		ref := e.Chain[0].Role
		out = append(out, EffectiveAdmin{Principal: e.Principal, AccountID: e.AccountID, Path: "identity center", Via: e.Chain[0].Via,
			Role: &ref, Decision: role.Decision, AllowedIf: role.AllowedIf, Explanation: role.Explanation})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if (a.Decision == policy.Allowed) != (b.Decision == policy.Allowed) {
			return a.Decision == policy.Allowed
		}
		if a.Principal.Type != b.Principal.Type {
			return a.Principal.Type < b.Principal.Type
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Principal.Name != b.Principal.Name {
			return a.Principal.Name < b.Principal.Name
		}
		return a.Via < b.Via
	})
	return out, nil
}

// caseAlts are the conditions of a conditional answer: its conditional
// cases' alternatives.
func caseAlts(a *effective.CanAnswer) []policy.Alternative {
	var out []policy.Alternative
	for _, c := range a.Cases {
		if c.Decision == policy.Conditional {
			out = append(out, c.AllowedIf...)
		}
	}
	return out
}

func nonNilAlts(a []policy.Alternative) []policy.Alternative {
	if a == nil {
		return []policy.Alternative{}
	}
	return a
}

// maxAlts bounds the alternatives a finding carries.
const maxAlts = 32

// andAlts is the alternatives under which both a and b hold (an empty
// list: always), without repeating a requirement, at most maxAlts.
func andAlts(a, b []policy.Alternative) []policy.Alternative {
	switch {
	case len(a) == 0:
		return nonNilAlts(b)
	case len(b) == 0:
		return a
	}
	out := []policy.Alternative{}
	seen := map[string]bool{}
	for _, x := range a {
		for _, y := range b {
			if len(out) == maxAlts {
				return out
			}
			var reqs []policy.Requirement
			have := map[string]bool{}
			for _, r := range append(append([]policy.Requirement{}, x.Requires...), y.Requires...) {
				if k := r.String(); !have[k] {
					have[k] = true
					reqs = append(reqs, r)
				}
			}
			key := fmt.Sprint(reqs)
			if !seen[key] {
				seen[key] = true
				out = append(out, policy.Alternative{Requires: reqs})
			}
		}
	}
	return out
}
