package collect

import (
	"context"
	"fmt"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/scim"
)

// SourceSCIM names Identity Center's SCIM API in Snapshot.Errors.
const SourceSCIM = "scim"

// SCIMUserLister lists a SCIM endpoint's users.
type SCIMUserLister interface {
	ListUsers(ctx context.Context, filter string, f func(scim.User)) error
}

// ApplySCIMStatus reads every user's "active" from Identity Center's SCIM
// API, in pages of 100 rather than one request per user, and records it on
// the Identity Center users of g, flagging each whose Identity Store status
// disagrees. It returns how many disagree. Identity Center's SCIM user id is
// the Identity Store user id. A listing that fails part way still records
// the users it read (the others' SCIM status stays nil, unknown), and
// returns the error.
func ApplySCIMStatus(ctx context.Context, c SCIMUserLister, g *model.Graph) (int, error) {
	active := map[string]bool{}
	err := c.ListUsers(ctx, "", func(u scim.User) {
		if u.Active != nil {
			active[u.ID] = *u.Active
		}
	})
	if err != nil {
		err = fmt.Errorf("read user status from SCIM (%d users read; the others' SCIM status is unknown in this snapshot): %w", len(active), err)
	}
	mismatches := 0
	for i := range g.Resources {
		r := &g.Resources[i]
		if r.Type != model.TypeSSOUser || r.SSOUser == nil {
			continue
		}
		a, ok := active[r.SSOUser.UserID]
		if !ok {
			continue
		}
		attrs := *r.SSOUser
		attrs.SCIMActive = &a
		if attrs.Status != "" && a != (attrs.Status == "ENABLED") {
			attrs.SCIMMismatch = true
			mismatches++
		}
		r.SSOUser = &attrs
	}
	return mismatches, err
}
