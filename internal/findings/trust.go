package findings

import (
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// Reason says why a trusted principal is outside its role's account.
type Reason string

// Reasons a trust reaches outside the role's account.
const (
	ReasonAnyone       Reason = "anyone"        // "*": any AWS principal
	ReasonOtherAccount Reason = "other_account" // an account, or a principal in one, that is not the role's
	ReasonFederated    Reason = "federated"     // a SAML or OIDC identity provider
)

// Trust is one principal outside a role's account that the role's trust
// policy allows to assume it.
type Trust struct {
	Role    Principal           `json:"role"`
	Trusted model.TrustedEntity `json:"trusted"`
	Reason  Reason              `json:"reason"`
	// Account is the other account, for ReasonOtherAccount.
	Account string `json:"account"`
}

// OutsideTrust returns every trusted principal of every role that lies outside
// the role's own account: anyone ("*"), another account or a principal in
// one, or a federated identity provider. AWS services are left out. The
// conditions of each statement (for example sts:ExternalId) travel with the
// result in Trusted.Conditions. Ordered by role name, then principal.
func OutsideTrust(g *model.Graph) []Trust {
	var out []Trust
	for i := range g.Resources {
		r := &g.Resources[i]
		if r.Type != model.TypeIAMRole || r.Role == nil {
			continue
		}
		for _, te := range r.Role.TrustedPrincipals {
			reason, account := outside(te, r.AccountID)
			if reason != "" {
				out = append(out, Trust{Role: principalOf(r), Trusted: te, Reason: reason, Account: account})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Role != b.Role {
			return principalLess(a.Role, b.Role)
		}
		if a.Trusted.Kind != b.Trusted.Kind {
			return a.Trusted.Kind < b.Trusted.Kind
		}
		return a.Trusted.Value < b.Trusted.Value
	})
	return out
}

// outside classifies a trusted entity of a role in account own; it returns
// "" when the entity is inside the account or an AWS service.
func outside(te model.TrustedEntity, own string) (Reason, string) {
	if te.Kind == "*" || te.Value == "*" {
		return ReasonAnyone, ""
	}
	switch te.Kind {
	case "Federated":
		return ReasonFederated, ""
	case "AWS":
		if acct := accountOf(te.Value); acct != "" && acct != own {
			return ReasonOtherAccount, acct
		}
	}
	return "", ""
}

// accountOf returns the account a trust policy's AWS principal names: a bare
// 12-digit account ID, or the account field of an ARN. It returns "" for
// anything else, such as the unique ID IAM leaves behind when a trusted
// principal is deleted.
func accountOf(v string) string {
	if model.IsAccountID(v) {
		return v
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && model.IsAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}
