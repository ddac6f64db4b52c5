package webui

import (
	"strconv"
	"strings"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// exposureRules names the rule of each exposure kind on the findings page.
var exposureRules = map[findings.ExposureKind]string{
	findings.ExposurePublic:        "public-exposure",
	findings.ExposureCrossAccount:  "cross-account-exposure",
	findings.ExposureAccountManage: "account-manage-keys",
	findings.ExposureOpenAdminPort: "open-admin-ports",
	// A KMS key's grants to principals of other accounts.
	findings.ExposureCrossAccountGrant: "cross-account-grants",
	// A bucket ACL's grants to anyone, or to other accounts.
	findings.ExposurePublicACL:       "public-acls",
	findings.ExposureCrossAccountACL: "cross-account-acls",
}

// assetFindingRows are the asset findings of g, as `warden findings` has
// them: every exposure (findings.Exposures), then the instances with a
// public IP running as a role holding an administrator policy (the
// findings page decides them again with the effective administrators).
// The asset is the row's principal; href links it to its page.
func assetFindingRows(g *model.Graph) []findingRow {
	var rows []findingRow
	for _, e := range findings.Exposures(g) {
		rows = append(rows, findingRow{exposureRules[e.Kind], e.Severity,
			findings.Principal{ID: e.AssetID, Type: e.AssetType, Name: e.Name, AccountID: e.AccountID}, exposureDetail(e)})
	}
	for _, p := range findings.PublicAdminInstances(g) {
		rows = append(rows, findingRow{"public-admin-instances", p.Severity,
			findings.Principal{ID: p.InstanceID, Type: model.TypeEC2Instance, Name: p.Name, AccountID: p.AccountID}, publicAdminDetail(p)})
	}
	return rows
}

// exposureDetail says what an exposure lets in, where, and its fix.
func exposureDetail(e findings.Exposure) string {
	var what string
	switch e.Kind {
	case findings.ExposurePublic:
		what = "anyone may " + strings.Join(e.Actions, ", ")
	case findings.ExposureCrossAccount:
		what = "account(s) " + strings.Join(e.Accounts, ", ") + " may " + strings.Join(e.Actions, ", ")
	case findings.ExposureCrossAccountGrant:
		what = "grants let account(s) " + strings.Join(e.Accounts, ", ") + " " + strings.Join(e.Actions, ", ")
	case findings.ExposurePublicACL:
		what = "its ACL lets anyone " + strings.Join(e.Actions, ", ")
	case findings.ExposureCrossAccountACL:
		what = "its ACL lets account(s) " + strings.Join(e.Accounts, ", ") + " " + strings.Join(e.Actions, ", ")
	case findings.ExposureAccountManage:
		what = "every principal of the account may manage the key (" + strings.Join(e.Actions, ", ") + ")"
	case findings.ExposureOpenAdminPort:
		var ports []string
		for _, p := range e.Ports {
			ports = append(ports, strconv.Itoa(p))
		}
		what = "port(s) " + strings.Join(ports, ", ") + " open to the internet"
	}
	return what + " (" + e.Region + "). Fix: " + e.Fix
}

// publicAdminDetail says which administrator role a public instance runs
// as, and the fix.
func publicAdminDetail(p findings.PublicAdminInstance) string {
	return "public IP " + p.PublicIP + ", runs as administrator role " + p.Role[strings.LastIndexByte(p.Role, '/')+1:] + " (" + p.Region + "). Fix: " + p.Fix
}
