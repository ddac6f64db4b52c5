package access

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Sources of a principal's activity, as Seen.Source.
const (
	// SeenPassword is the credential report's password_last_used.
	SeenPassword = "password"
	// SeenAccessKey is an access key's last use (the credential report).
	SeenAccessKey = "access_key"
	// SeenRoleLastUsed is a role's RoleLastUsed (IAM's own record).
	SeenRoleLastUsed = "role_last_used"
	// SeenCloudTrail is a CloudTrail management event the principal made,
	// or, for a role, an assumption of it.
	SeenCloudTrail = "cloudtrail"
	// SeenSignIn is an Identity Center user's sign-in (CloudTrail's
	// UserAuthentication) or use of an account through a permission set
	// (an assumption of its AWSReservedSSO_ role).
	SeenSignIn = "identity_center"
)

// Seen is one source's newest sighting of a principal.
type Seen struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"` // SeenPassword, SeenAccessKey, …
	// Event is the CloudTrail event's name ("" for other sources).
	Event   string `json:"event"`
	Account string `json:"account"`
	Region  string `json:"region"`
	// From is where: the event's source IP address, or the service an
	// access key was last used with.
	From string `json:"from"`
	// Detail names what was used: the access key's ID, the role assumed.
	Detail string `json:"detail"`
}

// PrincipalActivity is one principal's last activity from every source.
type PrincipalActivity struct {
	ID        string             `json:"id"`
	Type      model.ResourceType `json:"type"`
	Name      string             `json:"name"`
	AccountID string             `json:"account_id"`
	// Last is the newest of Seen; null when no source saw the principal.
	Last *Seen `json:"last"`
	// Seen is each source's newest sighting, newest first (never null).
	Seen []Seen `json:"seen"`
}

// ActivityReport is `warden show activity`: the last activity of every IAM
// user, role and Identity Center user of a snapshot, and who assumed which
// role.
type ActivityReport struct {
	// Since is the start of the window: sightings and events before it are
	// left out.
	Since time.Time `json:"since"`
	// Account is the account asked for; "" is every account.
	Account string `json:"account"`
	// Events is how many stored CloudTrail events the window holds.
	Events     int                 `json:"events"`
	Principals []PrincipalActivity `json:"principals"`
	RoleUses   []RoleUse           `json:"role_uses"`
}

// principalIndex finds the principal of a snapshot an event names.
type principalIndex struct {
	byARN   map[string]*model.Resource // users and roles by ARN
	role    map[string]*model.Resource // roles by account + "/" + name
	ssoName map[string]*model.Resource // Identity Center users by user name
	ssoID   map[string]*model.Resource // and by user ID
}

func newPrincipalIndex(g *model.Graph) *principalIndex {
	x := &principalIndex{byARN: map[string]*model.Resource{}, role: map[string]*model.Resource{},
		ssoName: map[string]*model.Resource{}, ssoID: map[string]*model.Resource{}}
	for i := range g.Resources {
		r := &g.Resources[i]
		switch r.Type {
		case model.TypeIAMUser:
			x.byARN[r.ARN] = r
		case model.TypeIAMRole:
			x.byARN[r.ARN] = r
			x.role[r.AccountID+"/"+r.Name] = r
		case model.TypeSSOUser:
			x.ssoName[r.Name] = r
			if r.SSOUser != nil {
				x.ssoID[r.SSOUser.UserID] = r
			}
		}
	}
	return x
}

// roleOf returns the role a role ARN names (its path may be left out, as
// in an assumed-role session's ARN).
func (x *principalIndex) roleOf(arn string) *model.Resource {
	if r := x.byARN[arn]; r != nil {
		return r
	}
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return nil
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	return x.role[parts[4]+"/"+name]
}

// actor returns the principal that made an event: the IAM user, the role of
// an assumed-role session, or the Identity Center user of a sign-in or of
// an AWSReservedSSO_ role assumption; nil when it is none of the
// snapshot's, or the event is a failed sign-in.
func (x *principalIndex) actor(e collect.ActivityEvent) *model.Resource {
	if e.Failed {
		return nil // a failed sign-in is no use of the access
	}
	switch e.ActorType {
	case "IAMUser":
		return x.byARN[e.ActorARN]
	case "AssumedRole":
		return x.roleOf(principalOf(e))
	}
	if e.IsIdentityCenterSignIn() {
		if u := x.ssoID[e.OnBehalfOf]; u != nil {
			return u
		}
		return x.ssoName[e.Username]
	}
	if _, _, reserved := e.ReservedPermissionSet(); reserved && e.ActorType == "SAMLUser" {
		return x.ssoName[e.Username]
	}
	return nil
}

// seenTracker keeps each principal's newest sighting per source.
type seenTracker map[string]map[string]Seen // principal ID → source → newest

func (t seenTracker) see(id string, s Seen) {
	if t[id] == nil {
		t[id] = map[string]Seen{}
	}
	if cur, ok := t[id][s.Source]; !ok || s.At.After(cur.At) {
		t[id][s.Source] = s
	}
}

// PrincipalActivities returns the last activity of every IAM user, role
// and Identity Center user of g in account ("" for all), from the
// credential report, RoleLastUsed and the CloudTrail events, counting only
// what happened at or after since; ordered by account, type and name.
func PrincipalActivities(g *model.Graph, events []collect.ActivityEvent, account string, since time.Time) []PrincipalActivity {
	x := newPrincipalIndex(g)
	seen := seenTracker{}
	keep := func(t *time.Time) bool { return t != nil && !t.Before(since) }
	for i := range g.Resources {
		r := &g.Resources[i]
		switch {
		case r.Type == model.TypeIAMUser && r.User != nil && keep(r.User.PasswordLastUsed):
			seen.see(r.ID, Seen{At: *r.User.PasswordLastUsed, Source: SeenPassword, Account: r.AccountID})
		case r.Type == model.TypeIAMRole && r.Role != nil && keep(r.Role.LastUsed):
			seen.see(r.ID, Seen{At: *r.Role.LastUsed, Source: SeenRoleLastUsed, Account: r.AccountID, Region: r.Role.LastUsedRegion})
		case r.Type == model.TypeAccessKey && r.AccessKey != nil && keep(r.AccessKey.LastUsed):
			seen.see(r.ParentID, Seen{At: *r.AccessKey.LastUsed, Source: SeenAccessKey, Account: r.AccountID,
				Region: known(r.AccessKey.LastUsedRegion), From: known(r.AccessKey.LastUsedService), Detail: r.Name})
		}
	}
	for _, e := range events {
		if e.Time.Before(since) {
			continue
		}
		s := Seen{At: e.Time, Source: SeenCloudTrail, Event: e.Name, Account: e.Account, Region: e.Region, From: e.SourceIP}
		if p := x.actor(e); p != nil {
			if p.Type == model.TypeSSOUser {
				s.Source = SeenSignIn
				if !e.IsIdentityCenterSignIn() {
					s.Detail = e.RoleARN
				}
			} else if strings.HasPrefix(e.Name, "AssumeRole") {
				s.Detail = e.RoleARN
			}
			seen.see(p.ID, s)
		}
		if strings.HasPrefix(e.Name, "AssumeRole") && e.RoleARN != "" {
			if r := x.roleOf(e.RoleARN); r != nil {
				s.Source, s.Detail = SeenCloudTrail, principalOf(e)
				seen.see(r.ID, s)
			}
		}
	}
	var out []PrincipalActivity
	for i := range g.Resources {
		r := &g.Resources[i]
		if r.Type != model.TypeIAMUser && r.Type != model.TypeIAMRole && r.Type != model.TypeSSOUser {
			continue
		}
		if account != "" && r.AccountID != account {
			continue
		}
		out = append(out, principalActivity(r, seen[r.ID]))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return out
}

// principalActivity assembles one principal's sightings, newest first.
func principalActivity(r *model.Resource, bySource map[string]Seen) PrincipalActivity {
	p := PrincipalActivity{ID: r.ID, Type: r.Type, Name: r.Name, AccountID: r.AccountID, Seen: []Seen{}}
	for _, s := range bySource {
		p.Seen = append(p.Seen, s)
	}
	sort.Slice(p.Seen, func(i, j int) bool {
		if !p.Seen[i].At.Equal(p.Seen[j].At) {
			return p.Seen[i].At.After(p.Seen[j].At)
		}
		return p.Seen[i].Source < p.Seen[j].Source
	})
	if len(p.Seen) > 0 {
		last := p.Seen[0]
		p.Last = &last
	}
	return p
}

// known is s, or "" for the credential report's N/A.
func known(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

// Activity returns the activity report of g over events in account ("" for
// all) since since. Role uses are those of roles in account (every role
// when account is "").
func Activity(g *model.Graph, events []collect.ActivityEvent, account string, since time.Time) *ActivityReport {
	var window []collect.ActivityEvent
	for _, e := range events {
		if !e.Time.Before(since) && (account == "" || e.Account == account) {
			window = append(window, e)
		}
	}
	rep := &ActivityReport{Since: since.UTC(), Account: account, Events: len(window),
		Principals: PrincipalActivities(g, events, account, since), RoleUses: RoleUses(window)}
	if rep.Principals == nil {
		rep.Principals = []PrincipalActivity{}
	}
	if rep.RoleUses == nil {
		rep.RoleUses = []RoleUse{}
	}
	return rep
}

// ActivityOfPrincipal returns one principal's activity (nil when g has no
// such user or role), for `warden access`.
func ActivityOfPrincipal(g *model.Graph, events []collect.ActivityEvent, id string, since time.Time) *PrincipalActivity {
	for _, p := range PrincipalActivities(g, events, "", since) {
		if p.ID == id {
			return &p
		}
	}
	return nil
}

// ActivityStore is what reading stored activity needs. *store.DB is one.
type ActivityStore interface {
	Activity(ctx context.Context, connection, account string, since time.Time) ([]store.ActivityRecord, error)
	ActivityCursors(ctx context.Context, connection string) ([]store.ActivityCursor, error)
}

// StoredActivity returns a connection's stored CloudTrail events at or
// after since, oldest first, and whether the connection reads activity at
// all (it has events or read cursors): a connection without `activity:`
// has neither, and its answers leave activity out.
func StoredActivity(ctx context.Context, st ActivityStore, connection string, since time.Time) (events []collect.ActivityEvent, read bool, err error) {
	recs, err := st.Activity(ctx, connection, "", since)
	if err != nil {
		return nil, false, err
	}
	if events, err = EventsFromStore(recs); err != nil {
		return nil, false, err
	}
	if len(events) > 0 {
		return events, true, nil
	}
	cursors, err := st.ActivityCursors(ctx, connection)
	if err != nil {
		return nil, false, err
	}
	return events, len(cursors) > 0, nil
}

// ActivityPart are the resource types the activity answers read: a graph
// of just these gives the same answers as the whole graph.
var ActivityPart = []model.ResourceType{model.TypeIAMUser, model.TypeIAMRole, model.TypeAccessKey, model.TypeSSOUser}

// ActivityGraphStore is what AddActivity reads. *store.DB is one.
type ActivityGraphStore interface {
	ActivityStore
	LastAccessedStore
	Subgraph(ctx context.Context, snapshotID int64, types []model.ResourceType, account string) (*model.Graph, error)
}

// AddActivity sets the last activity (CloudTrail's 90 days before now,
// the credential report, RoleLastUsed) of an answer's IAM principal or
// Identity Center user, when the snapshot's connection reads activity;
// otherwise, and for holders, the answer is left as it was.
func AddActivity(ctx context.Context, st ActivityGraphStore, snap *model.Snapshot, ans *Answer, now time.Time) error {
	if ans.Holders != nil || ans.SSO == nil && ans.IAM == nil {
		return nil
	}
	if ans.IAM != nil && ans.IAM.ARN != "" {
		la, err := LastAccessedOf(ctx, st, snap.ConnectionID, ans.IAM.Principal.AccountID, ans.IAM.ARN)
		if err != nil {
			return err
		}
		ans.IAM.LastAccessed = la
	}
	since := now.Add(-collect.MaxLookback)
	events, read, err := StoredActivity(ctx, st, snap.ConnectionID, since)
	if err != nil || !read {
		return err
	}
	g, err := st.Subgraph(ctx, snap.ID, ActivityPart, "")
	if err != nil {
		return err
	}
	if ans.SSO != nil {
		ans.SSO.Activity = ActivityOfPrincipal(g, events, ans.SSO.Principal.ID, since)
	} else {
		ans.IAM.Activity = ActivityOfPrincipal(g, events, ans.IAM.Principal.ID, since)
	}
	return nil
}
