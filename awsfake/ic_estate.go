package awsfake

import (
	"fmt"
	"math/rand"
	"slices"
	"time"
)

// IdentityCenterEstate describes a generated Identity Center instance in
// the management account: users, groups with members, permission sets and
// assignments of users and groups across the member accounts.
type IdentityCenterEstate struct {
	Users          int
	Groups         int
	PermissionSets int
	// AssignmentsPerAccount is how many permission sets each active member
	// account gets (each assigned to one to three groups, and sometimes to
	// a user directly); default 2.
	AssignmentsPerAccount int
}

// permissionSetShapes are the permission sets an estate draws from, as
// organizations name them.
var permissionSetShapes = []struct {
	name    string
	managed []string
}{
	{"AdministratorAccess", []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
	{"ReadOnlyAccess", []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
	{"PowerUserAccess", []string{"arn:aws:iam::aws:policy/PowerUserAccess"}},
	{"ViewOnlyAccess", []string{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}},
	{"SecurityAudit", []string{"arn:aws:iam::aws:policy/SecurityAudit"}},
	{"DataEngineer", []string{"arn:aws:iam::aws:policy/AmazonS3FullAccess"}},
}

// build generates the Identity Center of an organization and adds the
// reserved role of each provisioned pair to the member accounts, as AWS
// does when it provisions a permission set.
func (e IdentityCenterEstate) build(rng *rand.Rand, mgmt string, members []*Account, now time.Time) *IdentityCenter {
	if e.AssignmentsPerAccount <= 0 {
		e.AssignmentsPerAccount = 2
	}
	inst := "ssoins-" + randLower(rng, 16)
	ic := &IdentityCenter{InstanceARN: "arn:aws:sso:::instance/" + inst, IdentityStoreID: "d-" + randLower(rng, 10),
		OwnerAccountID: mgmt, Name: "warden-fake", CreatedAt: now.AddDate(-3, 0, 0),
		Users: map[string]*SSOUser{}, Groups: map[string]*SSOGroup{}, PermissionSets: map[string]*PermissionSet{},
		SCIMTenant: randLower(rng, 12) + "-" + randLower(rng, 4), SCIMToken: "fake-scim-token-" + randLower(rng, 32)}
	var userIDs []string
	for i := 0; i < e.Users; i++ {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
		id := uuidFrom(fmt.Sprintf("user/%s/%d", ic.IdentityStoreID, i))
		name := fmt.Sprintf("%s.%s%d@example.com", first, last, i)
		u := &SSOUser{ID: id, UserName: name, DisplayName: title(first) + " " + title(last), GivenName: title(first), FamilyName: title(last),
			Email: name, Status: "ENABLED", CreatedAt: ago(now, rng, 1000)}
		if i%9 == 4 {
			u.Status = "DISABLED"
		}
		if i%3 != 0 {
			u.ExternalIDIssuer, u.ExternalID = "https://idp.example.com", fmt.Sprintf("00u%07d", i)
		}
		ic.Users[id] = u
		userIDs = append(userIDs, id)
	}
	var groupIDs []string
	for i := 0; i < e.Groups; i++ {
		id := uuidFrom(fmt.Sprintf("group/%s/%d", ic.IdentityStoreID, i))
		g := &SSOGroup{ID: id, DisplayName: fmt.Sprintf("%s-%s-%d", teams[i%len(teams)], []string{"engineers", "admins", "readers", "oncall"}[i%4], i),
			Description: "Team " + teams[i%len(teams)], CreatedAt: ago(now, rng, 1000)}
		if len(userIDs) > 0 {
			for n := 1 + rng.Intn(min(40, len(userIDs))); n > 0; n-- {
				uid := userIDs[rng.Intn(len(userIDs))]
				if !slices.Contains(g.Members, uid) {
					g.Members = append(g.Members, uid)
				}
			}
		}
		ic.Groups[id] = g
		groupIDs = append(groupIDs, id)
	}
	var psARNs []string
	for i := 0; i < e.PermissionSets; i++ {
		shape := permissionSetShapes[i%len(permissionSetShapes)]
		name := shape.name
		if i >= len(permissionSetShapes) {
			name = fmt.Sprintf("%s-%d", shape.name, i)
		}
		ps := &PermissionSet{ARN: "arn:aws:sso:::permissionSet/" + inst + "/ps-" + randLower(rng, 16), Name: name,
			Description: "Access for " + name, SessionDuration: []string{"PT1H", "PT4H", "PT8H", "PT12H"}[rng.Intn(4)],
			CreatedAt: ago(now, rng, 900), ManagedPolicies: append([]string(nil), shape.managed...),
			Tags: []Tag{{Key: "owner", Value: teams[i%len(teams)]}}}
		if i%3 == 1 {
			ps.RelayState = "https://console.aws.amazon.com/s3/home"
		}
		if i%4 == 2 {
			ps.InlinePolicy = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"NoIAMUsers%d","Effect":"Deny","Action":"iam:*User*","Resource":"*"}]}`, i)
		}
		if i%5 == 3 {
			ps.BoundaryManagedPolicyARN = "arn:aws:iam::aws:policy/PowerUserAccess"
		}
		ic.PermissionSets[ps.ARN] = ps
		psARNs = append(psARNs, ps.ARN)
	}
	if len(psARNs) == 0 || len(userIDs) == 0 {
		return ic
	}
	for _, m := range members {
		for _, k := range rng.Perm(len(psARNs))[:min(e.AssignmentsPerAccount, len(psARNs))] {
			ps := ic.PermissionSets[psARNs[k]]
			if len(groupIDs) > 0 {
				for n := 1 + rng.Intn(3); n > 0; n-- {
					ic.Assignments = appendAssignment(ic.Assignments, Assignment{AccountID: m.ID, PermissionSetARN: ps.ARN, PrincipalType: "GROUP", PrincipalID: groupIDs[rng.Intn(len(groupIDs))]})
				}
			}
			if len(groupIDs) == 0 || rng.Intn(3) == 0 {
				ic.Assignments = appendAssignment(ic.Assignments, Assignment{AccountID: m.ID, PermissionSetARN: ps.ARN, PrincipalType: "USER", PrincipalID: userIDs[rng.Intn(len(userIDs))]})
			}
			r := ReservedRole(ps, m.ID)
			m.IAM.Roles[r.Name] = r
		}
	}
	return ic
}

// appendAssignment appends a unless it is already there.
func appendAssignment(list []Assignment, a Assignment) []Assignment {
	if slices.Contains(list, a) {
		return list
	}
	return append(list, a)
}

// title capitalises a lowercase name.
func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
