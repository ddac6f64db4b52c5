package diff

import (
	"cmp"
	"slices"

	"github.com/warden-iam/warden/internal/model"
)

// keys lists the access keys created, deleted, activated and deactivated.
func (c *computer) keys() []KeyChange {
	out := []KeyChange{}
	for _, rc := range c.cs.Resources {
		if !isType(rc, model.TypeAccessKey) {
			continue
		}
		var k KeyChange
		switch {
		case rc.Before == nil:
			k = KeyChange{Change: Created, Key: refOf(rc.After), User: c.ref(rc.After.ParentID, true), Status: keyStatus(rc.After)}
		case rc.After == nil:
			k = KeyChange{Change: Deleted, Key: refOf(rc.Before), User: c.ref(rc.Before.ParentID, false), Status: keyStatus(rc.Before)}
		case keyStatus(rc.Before) == keyStatus(rc.After):
			continue
		default:
			k = KeyChange{Change: Deactivated, Key: refOf(rc.After), User: c.ref(rc.After.ParentID, true), Status: keyStatus(rc.After)}
			if k.Status == "Active" {
				k.Change = Activated
			}
		}
		k.Text = keyText(k)
		out = append(out, k)
	}
	slices.SortFunc(out, func(x, y KeyChange) int {
		return cmp.Or(cmp.Compare(x.User.Name, y.User.Name), cmp.Compare(x.Key.Name, y.Key.Name), cmp.Compare(x.Key.ID, y.Key.ID))
	})
	return out
}

func keyStatus(r *model.Resource) string {
	if r.AccessKey == nil {
		return ""
	}
	return r.AccessKey.Status
}

// The kinds of CredentialChange.
const (
	KindConsole = "console_access"
	KindMFA     = "mfa"
	KindRootMFA = "root_mfa"
)

// credentials lists console access (a login profile) and MFA added or
// removed: a user's console access and MFA as the credential report gives
// them (compared only when both snapshots read the report for the user: an
// unread report is unknown, not a change), MFA devices added or removed,
// and an account root user's MFA. A user's MFA turned on or off with a
// device added or removed is reported once, with the device.
func (c *computer) credentials() []CredentialChange {
	out := []CredentialChange{}
	devices := map[string]bool{} // user ID + change, of devices added or removed
	for _, rc := range c.cs.Resources {
		if !isType(rc, model.TypeMFADevice) || rc.Before != nil && rc.After != nil {
			continue
		}
		d, change, after := rc.After, Added, true
		if d == nil {
			d, change, after = rc.Before, Removed, false
		}
		dev := refOf(d)
		cc := CredentialChange{Change: change, Kind: KindMFA, User: c.ref(d.ParentID, after), Device: &dev}
		devices[d.ParentID+"\x00"+change] = true
		out = append(out, cc)
	}
	for _, rc := range c.cs.Resources {
		switch {
		case isType(rc, model.TypeIAMUser):
			b, a := userAttrs(rc.Before), userAttrs(rc.After)
			if b == nil || a == nil {
				continue // the credential report was not read for the user in one of them
			}
			u := rc.After
			if u == nil {
				u = rc.Before
			}
			user := refOf(u)
			if b.ConsoleAccess != a.ConsoleAccess {
				out = append(out, CredentialChange{Change: addedIf(a.ConsoleAccess), Kind: KindConsole, User: user})
			}
			if change := addedIf(a.MFAActive); b.MFAActive != a.MFAActive && !devices[user.ID+"\x00"+change] {
				out = append(out, CredentialChange{Change: change, Kind: KindMFA, User: user})
			}
		case isType(rc, model.TypeAccount) && rc.Before != nil && rc.After != nil:
			b, a := rc.Before.Account, rc.After.Account
			if b != nil && a != nil && b.CredentialReport && a.CredentialReport && b.RootMFAActive != a.RootMFAActive {
				out = append(out, CredentialChange{Change: addedIf(a.RootMFAActive), Kind: KindRootMFA, User: refOf(rc.After)})
			}
		}
	}
	for i := range out {
		out[i].Text = credentialText(out[i])
	}
	slices.SortFunc(out, func(x, y CredentialChange) int {
		return cmp.Or(cmp.Compare(x.User.Name, y.User.Name), cmp.Compare(x.User.ID, y.User.ID), cmp.Compare(x.Kind, y.Kind),
			cmp.Compare(viaID(x.Device), viaID(y.Device)), cmp.Compare(x.Change, y.Change))
	})
	return out
}

// userAttrs returns the console and MFA state of a user as known in one
// snapshot: a user absent from it has neither; nil means unknown (no
// credential report row).
func userAttrs(r *model.Resource) *model.UserAttrs {
	if r == nil {
		return &model.UserAttrs{CredentialReport: true}
	}
	if r.User == nil || !r.User.CredentialReport {
		return nil
	}
	return r.User
}

func addedIf(v bool) string {
	if v {
		return Added
	}
	return Removed
}
