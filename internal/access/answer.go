package access

import (
	"context"
	"fmt"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Answer is the answer to one access query: exactly one of IAM (an IAM
// user, group or role), SSO (an Identity Center user) and Holders (a
// managed policy or permission set: who holds it) is set.
type Answer struct {
	IAM     *Access
	SSO     *SSOAccess
	Holders *Holders
	// Key is the access key the query named by its ID, when it named one;
	// IAM is then the access of the key's owner.
	Key *Ref
	// Asset is set instead of the others when the query names an asset (a
	// bucket, key, function, secret or instance, by ARN): who can act on
	// it.
	Asset *AssetAccess
}

// NotFoundError says no principal of the snapshot matches the query.
type NotFoundError struct {
	Query    string
	Snapshot int64
}

// Error names the query and the snapshot it was looked up in.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no user, group or role matches %q in snapshot %d", e.Query, e.Snapshot)
}

// AmbiguousError says the query matches several principals; Matches lists
// them, so the caller can ask for the ARN of one.
type AmbiguousError struct {
	Query   string
	Matches []model.Resource
}

// Error names the query and how many principals it matches.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q matches %d principals", e.Query, len(e.Matches))
}

// Query answers the access question query (a user, group or role name, an
// ARN, an Identity Center user name or e-mail address, or an e-mail
// address held in a tag) in snapshot snap of st. An e-mail address naming
// one Identity Center user and IAM users tagged with it means that person:
// the Identity Center view, which lists the linked IAM users too. It
// returns a *NotFoundError or an *AmbiguousError when the query names no
// principal or several, and store errors wrapped with what was being read.
// A query that names no principal but is the ID of an access key (AKIA…,
// ASIA…) answers with the key and the access of the user who owns it; one
// naming a managed policy or a permission set (by ARN, or by name when no
// principal has it) answers with who holds it.
func Query(ctx context.Context, st store.Store, snap int64, query string) (*Answer, error) {
	found, err := st.FindPrincipal(ctx, snap, query)
	if err != nil {
		return nil, fmt.Errorf("look up %q in snapshot %d: %w", query, snap, err)
	}
	if len(found) == 0 && isAccessKeyID(query) {
		return keyOwner(ctx, st, snap, query)
	}
	if sso := onlySSOUser(found); sso != nil {
		found = []model.Resource{*sso}
	}
	switch len(found) {
	case 0:
		return nil, &NotFoundError{Query: query, Snapshot: snap}
	case 1:
	default:
		return nil, &AmbiguousError{Query: query, Matches: found}
	}
	p := &found[0]
	if IsAsset(p) {
		a, err := Asset(ctx, st, snap, p)
		if err != nil {
			return nil, err
		}
		return &Answer{Asset: a}, nil
	}
	if p.Type == model.TypeIAMPolicy || p.Type == model.TypePermissionSet {
		h, err := HoldersOf(ctx, st, snap, p)
		if err != nil {
			return nil, err
		}
		return &Answer{Holders: h}, nil
	}
	if p.Type == model.TypeSSOUser {
		a, err := SSOUser(ctx, st, snap, p)
		if err != nil {
			return nil, err
		}
		return &Answer{SSO: a}, nil
	}
	a, err := Principal(ctx, st, snap, p)
	if err != nil {
		return nil, err
	}
	return &Answer{IAM: a}, nil
}

// Principal is the access of IAM principal p (a user, group or role) in
// snapshot snap of st: what it holds and, for a group, its members.
func Principal(ctx context.Context, st store.Store, snap int64, p *model.Resource) (*Access, error) {
	held, err := st.GrantsOf(ctx, snap, p.ID)
	if err != nil {
		return nil, fmt.Errorf("read what %s holds: %w", p.ID, err)
	}
	var members []store.Holder
	if p.Type == model.TypeIAMGroup {
		if members, err = st.HoldersOf(ctx, snap, model.EntitlementID(p.ID, model.EntMember)); err != nil {
			return nil, fmt.Errorf("read the members of %s: %w", p.ID, err)
		}
	}
	return NewAccess(p, held, members), nil
}

// SSOUser is the access of Identity Center user p in snapshot snap of st,
// with the IAM users linked to the same person (named like its user name
// or an e-mail address, or tagged with one).
func SSOUser(ctx context.Context, st store.Store, snap int64, p *model.Resource) (*SSOAccess, error) {
	fail := func(err error) error { return fmt.Errorf("read what %s holds: %w", p.Name, err) }
	held, err := st.GrantsOf(ctx, snap, p.ID)
	if err != nil {
		return nil, fail(err)
	}
	accts, err := st.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeAccount})
	if err != nil {
		return nil, fail(err)
	}
	accounts := map[string]model.Resource{}
	for _, r := range accts {
		accounts[r.ID] = r
	}
	a, err := NewSSOAccess(p, held, accounts, func(roleID string) ([]store.HeldGrant, error) {
		return st.GrantsOf(ctx, snap, roleID)
	})
	if err != nil {
		return nil, fail(err)
	}
	linked, err := st.IAMUsersMatching(ctx, snap, append([]string{p.Name}, a.Emails...))
	if err != nil {
		return nil, fail(err)
	}
	for i := range linked {
		uh, err := st.GrantsOf(ctx, snap, linked[i].ID)
		if err != nil {
			return nil, fail(err)
		}
		a.LinkedIAMUsers = append(a.LinkedIAMUsers, NewAccess(&linked[i], uh, nil))
	}
	return a, nil
}

// onlySSOUser returns the one Identity Center user among several matches
// when the others are all IAM users, else nil.
func onlySSOUser(found []model.Resource) *model.Resource {
	var sso *model.Resource
	for i := range found {
		switch found[i].Type {
		case model.TypeSSOUser:
			if sso != nil {
				return nil
			}
			sso = &found[i]
		case model.TypeIAMUser:
		default:
			return nil
		}
	}
	if len(found) < 2 {
		return nil
	}
	return sso
}

// isAccessKeyID reports whether s has the form of an access key ID: AKIA
// (long-term) or ASIA (temporary) and then upper-case letters and digits.
func isAccessKeyID(s string) bool {
	if len(s) <= 4 || s[:4] != "AKIA" && s[:4] != "ASIA" {
		return false
	}
	for _, c := range s[4:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// keyOwner answers for access key keyID: the key and its owner's access,
// or a *NotFoundError when no key of the snapshot has that ID.
func keyOwner(ctx context.Context, st store.Store, snap int64, keyID string) (*Answer, error) {
	keys, err := st.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeAccessKey})
	if err != nil {
		return nil, fmt.Errorf("read the access keys of snapshot %d: %w", snap, err)
	}
	for i := range keys {
		k := &keys[i]
		if k.Name != keyID {
			continue
		}
		owner, err := st.Resource(ctx, snap, k.ParentID)
		if err != nil {
			return nil, fmt.Errorf("read %s, the owner of access key %s: %w", k.ParentID, keyID, err)
		}
		a, err := Principal(ctx, st, snap, owner)
		if err != nil {
			return nil, err
		}
		key := refOf(k)
		return &Answer{IAM: a, Key: &key}, nil
	}
	return nil, &NotFoundError{Query: keyID, Snapshot: snap}
}
