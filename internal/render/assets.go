package render

import (
	"fmt"
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
	t := &Table{Header: []string{"ACCOUNT", "REGION", "BUCKET", "POLICY", "ACL GRANTS", "RESTRICT PUBLIC", "EXPOSED TO"}}
	for _, r := range rows {
		restrict := "no"
		if r.BlockPublicAccess != nil && r.BlockPublicAccess.RestrictPublicBuckets {
			restrict = "yes"
		}
		acl := "not read"
		if r.ACLGrants != nil {
			acl = strconv.Itoa(*r.ACLGrants)
		}
		t.Add(r.AccountID, r.Region, r.Name, yesNo(r.HasPolicy, true), acl, restrict, exposureCell(r.Exposure))
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
	t := &Table{Header: []string{"ACCOUNT", "REGION", "FUNCTION", "RUNTIME", "ROLE", "POLICY", "ALIASES", "EXPOSED TO"}}
	for _, r := range rows {
		aliases := dash(strings.Join(r.Aliases, " "))
		if r.AliasPolicies > 0 {
			aliases += fmt.Sprintf(" (%d with a policy)", r.AliasPolicies)
		}
		t.Add(r.AccountID, r.Region, r.Name, dash(r.Runtime), dash(r.Role), yesNo(r.HasPolicy, true), aliases, exposureCell(r.Exposure))
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

// SecurityGroupsTable lays out security group rows: a row per group, its
// inbound rules summed up, those open to the internet marked with "!".
func SecurityGroupsTable(rows []inventory.SecurityGroupRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "REGION", "GROUP", "NAME", "VPC", "INGRESS (! open to the internet)", "OPEN ADMIN PORTS"}}
	for _, r := range rows {
		var rules []string
		for _, x := range r.Ingress {
			rules = append(rules, RuleText(x))
		}
		t.Add(r.AccountID, r.Region, r.GroupID, r.Name, dash(r.VPC), dash(strings.Join(rules, "; ")), portsCell(r.OpenAdminPorts))
	}
	return t
}

// RuleText says what one inbound rule admits: "tcp 22 from 0.0.0.0/0!",
// with "!" after a rule open to the internet.
func RuleText(x inventory.SecurityGroupRule) string {
	proto, ports := x.Protocol, strconv.Itoa(x.FromPort)
	if x.Protocol == "-1" {
		proto, ports = "all", "all ports"
	} else if x.ToPort != x.FromPort {
		ports += "-" + strconv.Itoa(x.ToPort)
	}
	from := append(append(append([]string{}, x.CIDRs...), x.IPv6CIDRs...), x.Groups...)
	s := proto + " " + ports + " from " + strings.Join(from, " ")
	if x.OpenToInternet {
		s += "!"
	}
	return s
}
