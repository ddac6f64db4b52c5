// Package findings holds warden's rules over a snapshot: stale access keys,
// console users without MFA, who holds the most access, who is an
// administrator, and which roles trust principals outside their account.
//
// Every rule is a pure function of a model.Graph (and, where time matters, of
// the time passed in), returning typed results in a stable order, so the CLI,
// the service and tests all read the same answers.
package findings

import "github.com/warden-iam/warden/internal/model"

// Principal names the IAM user or role a finding is about.
type Principal struct {
	ID        string             `json:"id"`
	Type      model.ResourceType `json:"type"`
	Name      string             `json:"name"`
	AccountID string             `json:"account_id"`
}

// principalOf returns the Principal describing r.
func principalOf(r *model.Resource) Principal {
	return Principal{ID: r.ID, Type: r.Type, Name: r.Name, AccountID: r.AccountID}
}

// isPrincipal reports whether a resource can authenticate to AWS and so hold
// access on its own: an IAM user or role. Groups only pass their access on to
// their members.
func isPrincipal(r *model.Resource) bool {
	return r.Type == model.TypeIAMUser || r.Type == model.TypeIAMRole
}
