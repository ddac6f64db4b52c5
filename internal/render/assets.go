package render

import (
	"strconv"
	"strings"

	"github.com/warden-iam/warden/internal/inventory"
)

// exposureCell says how an asset is exposed: public, the other accounts,
// account-manage; "-" for none.
func exposureCell(e inventory.Exposure) string {
	var parts []string
	if e.Public {
		parts = append(parts, "PUBLIC")
	}
	if len(e.CrossAccount) > 0 {
		parts = append(parts, "accounts "+strings.Join(e.CrossAccount, ","))
	}
	if e.AccountManage {
		parts = append(parts, "anyone in the account manages it")
	}
	return list(parts)
}

func portsCell(ports []int) string {
	var s []string
	for _, p := range ports {
		s = append(s, strconv.Itoa(p))
	}
	return list(s)
}

// InstancesTable lays out instance rows.
func InstancesTable(rows []inventory.InstanceRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "INSTANCE", "NAME", "STATE", "PUBLIC IP", "ROLE", "OPEN ADMIN PORTS"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Region, r.InstanceID, r.Name, r.State, dash(r.PublicIP), dash(r.Role), portsCell(r.OpenAdminPorts))
	}
	return t
}

// BucketsTable lays out bucket rows.
func BucketsTable(rows []inventory.BucketRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "BUCKET", "POLICY", "RESTRICT PUBLIC", "EXPOSED TO"}}
	for _, r := range rows {
		restrict := "no"
		if r.BlockPublicAccess != nil && r.BlockPublicAccess.RestrictPublicBuckets {
			restrict = "yes"
		}
		t.Add(r.AccountID, r.Region, r.Name, yesNo(r.HasPolicy, true), restrict, exposureCell(r.Exposure))
	}
	return t
}

// KMSKeysTable lays out KMS key rows.
func KMSKeysTable(rows []inventory.KMSKeyRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "KEY ID", "STATE", "GRANTS", "DESCRIPTION", "EXPOSED TO"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Region, r.KeyID, r.State, strconv.Itoa(r.Grants), dash(r.Description), exposureCell(r.Exposure))
	}
	return t
}

// FunctionsTable lays out Lambda function rows.
func FunctionsTable(rows []inventory.FunctionRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "FUNCTION", "RUNTIME", "ROLE", "POLICY", "EXPOSED TO"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Region, r.Name, dash(r.Runtime), dash(r.Role), yesNo(r.HasPolicy, true), exposureCell(r.Exposure))
	}
	return t
}

// SecretsTable lays out secret rows (never a value).
func SecretsTable(rows []inventory.SecretRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "SECRET", "POLICY", "EXPOSED TO"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Region, r.Name, yesNo(r.HasPolicy, true), exposureCell(r.Exposure))
	}
	return t
}
