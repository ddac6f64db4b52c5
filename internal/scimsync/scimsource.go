package scimsync

import (
	"context"
	"fmt"
	"strconv"

	"github.com/warden-iam/warden/internal/scim"
)

// SourceLister reads another system's SCIM API.
type SourceLister interface {
	ListUsers(ctx context.Context, filter string, f func(scim.User)) error
	ListGroups(ctx context.Context, filter string, f func(scim.Group)) error
}

// LoadSCIMSource reads people and groups from any SCIM 2.0 server, as a
// source with warden's field names: each user's externalId (else its id)
// is the stable external id. Groups that list no members (Identity
// Center's SCIM does not) are asked for their members with a
// groups.value filter.
func LoadSCIMSource(ctx context.Context, c SourceLister) (*Source, error) {
	var users []scim.User
	if err := c.ListUsers(ctx, "", func(u scim.User) { users = append(users, u) }); err != nil {
		return nil, fmt.Errorf("read the source's users: %w", err)
	}
	var groups []scim.Group
	if err := c.ListGroups(ctx, "", func(g scim.Group) { groups = append(groups, g) }); err != nil {
		return nil, fmt.Errorf("read the source's groups: %w", err)
	}
	memberOf := map[string][]string{} // user id → group names
	for _, g := range groups {
		members := g.Members
		if len(members) == 0 {
			err := c.ListUsers(ctx, fmt.Sprintf("groups.value eq %q", g.ID), func(u scim.User) { members = append(members, scim.Member{Value: u.ID}) })
			if err != nil {
				return nil, fmt.Errorf("read the members of source group %s: %w", g.DisplayName, err)
			}
		}
		for _, m := range members {
			memberOf[m.Value] = append(memberOf[m.Value], g.DisplayName)
		}
	}
	src := &Source{Columns: []string{"active", "department", "display_name", "email", "external_id", "family_name", "given_name", "title", "user_name"}}
	for i, u := range users {
		ext := u.ExternalID
		if ext == "" {
			ext = u.ID
		}
		r := Record{Row: i + 1, Groups: memberOf[u.ID], Fields: map[string]string{"external_id": ext, "user_name": u.UserName,
			"display_name": u.DisplayName, "title": u.Title, "active": "true"}}
		if u.Name != nil {
			r.Fields["given_name"], r.Fields["family_name"] = u.Name.GivenName, u.Name.FamilyName
		}
		if len(u.Emails) > 0 {
			r.Fields["email"] = u.Emails[0].Value
		}
		if u.Active != nil {
			r.Fields["active"] = strconv.FormatBool(*u.Active)
		}
		if u.Enterprise != nil {
			r.Fields["department"] = u.Enterprise.Department
		}
		src.Records = append(src.Records, r)
	}
	return src, nil
}
