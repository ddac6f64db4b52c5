package findings

import (
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// Rules, as CountByRule names them: the keys of `warden findings -o json`
// that list findings (top_holders is a ranking, not a finding).
const (
	RuleAdmins            = "admins"
	RuleStaleKeys         = "stale_keys"
	RuleConsoleWithoutMFA = "console_without_mfa"
	RuleOutsideTrust      = "outside_trust"
	RuleSSOAdmins         = "sso_admins"
	// RuleUnusedServices needs IAM last accessed data besides the graph
	// (UnusedServicesFor), so CountByRule does not count it.
	RuleUnusedServices = "unused_services"
)

// CountByRule is how many findings each rule finds in g at now, keys older
// than staleDays being stale: every rule is present, 0 when it found none.
func CountByRule(g *model.Graph, now time.Time, staleDays int) map[string]int {
	return map[string]int{
		RuleAdmins:            len(Admins(g)),
		RuleStaleKeys:         len(StaleKeys(g, now, staleDays)),
		RuleConsoleWithoutMFA: len(ConsoleWithoutMFA(g)),
		RuleOutsideTrust:      len(OutsideTrust(g)),
		RuleSSOAdmins:         len(SSOAdmins(g)),
	}
}
