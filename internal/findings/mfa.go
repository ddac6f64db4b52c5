package findings

import (
	"sort"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// RootUserName is the name findings give an account's root user.
const RootUserName = "<root>"

// ConsoleUser is a user who can sign in to the console without MFA.
type ConsoleUser struct {
	Principal
	// Root is true for the account's root user; Principal then names the
	// account resource and RootUserName.
	Root             bool       `json:"root"`
	PasswordLastUsed *time.Time `json:"password_last_used"`
}

// ConsoleWithoutMFA returns the users with a console password and no active
// MFA device, and the root users without MFA, root users first, then by
// name. Users and accounts whose credential report was unavailable are left
// out: their console and MFA state is unknown.
func ConsoleWithoutMFA(g *model.Graph) []ConsoleUser {
	var out []ConsoleUser
	for i := range g.Resources {
		r := &g.Resources[i]
		switch {
		case r.Type == model.TypeIAMUser && r.User != nil:
			u := r.User
			if u.CredentialReport && u.ConsoleAccess && !u.MFAActive {
				out = append(out, ConsoleUser{Principal: principalOf(r), PasswordLastUsed: u.PasswordLastUsed})
			}
		case r.Type == model.TypeAccount && r.Account != nil:
			a := r.Account
			if a.CredentialReport && !a.RootMFAActive {
				p := Principal{ID: r.ID, Type: r.Type, Name: RootUserName, AccountID: r.AccountID}
				out = append(out, ConsoleUser{Principal: p, Root: true, PasswordLastUsed: a.RootPasswordLastUse})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Root != b.Root {
			return a.Root
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		return principalLess(a.Principal, b.Principal)
	})
	return out
}
