package access

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
)

// LastActivity is the newest thing a principal was seen doing in CloudTrail:
// when, which event, in which account and region.
type LastActivity struct {
	Principal string    `json:"principal"` // the IAM user's or role's ARN
	At        time.Time `json:"at"`
	Event     string    `json:"event"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Source    string    `json:"source"` // "cloudtrail"
}

// RoleUse is one edge of who assumed which role: how often, first and last.
type RoleUse struct {
	Principal string    `json:"principal"` // who assumed (user, role or SAML provider ARN, or service)
	Role      string    `json:"role"`
	Count     int       `json:"count"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
}

// EventsFromStore decodes stored activity records (their Data is a
// collect.ActivityEvent).
func EventsFromStore(recs []store.ActivityRecord) ([]collect.ActivityEvent, error) {
	out := make([]collect.ActivityEvent, 0, len(recs))
	for _, r := range recs {
		var e collect.ActivityEvent
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return nil, fmt.Errorf("activity event %s: %w", r.EventID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// principalOf returns the IAM principal an event's actor is: an assumed
// role session is its role (arn:aws:iam::ACCOUNT:role/NAME; the path is not
// in the session ARN), a user or root is itself.
func principalOf(e collect.ActivityEvent) string {
	arn := e.ActorARN
	if e.ActorType == "AssumedRole" && strings.Contains(arn, ":assumed-role/") {
		rest := arn[strings.Index(arn, ":assumed-role/")+len(":assumed-role/"):]
		role, _, _ := strings.Cut(rest, "/")
		return "arn:aws:iam::" + e.ActorAccount + ":role/" + role
	}
	return arn
}

// LastActivities returns each principal's newest event, by principal ARN.
// A role also counts as active when it was assumed (the AssumeRole event's
// role), since its sessions' own calls may be data events CloudTrail's
// history does not keep.
func LastActivities(events []collect.ActivityEvent) []LastActivity {
	last := map[string]LastActivity{}
	see := func(p string, e collect.ActivityEvent) {
		if p == "" {
			return
		}
		if cur, ok := last[p]; !ok || e.Time.After(cur.At) {
			last[p] = LastActivity{Principal: p, At: e.Time, Event: e.Name, Account: e.Account, Region: e.Region, Source: "cloudtrail"}
		}
	}
	for _, e := range events {
		see(principalOf(e), e)
		if strings.HasPrefix(e.Name, "AssumeRole") {
			see(e.RoleARN, e)
		}
	}
	out := make([]LastActivity, 0, len(last))
	for _, l := range last {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Principal < out[j].Principal })
	return out
}

// RoleUses returns the role-use edges of AssumeRole, AssumeRoleWithSAML and
// AssumeRoleWithWebIdentity events, by role then principal.
func RoleUses(events []collect.ActivityEvent) []RoleUse {
	edges := map[[2]string]*RoleUse{}
	for _, e := range events {
		if !strings.HasPrefix(e.Name, "AssumeRole") || e.RoleARN == "" {
			continue
		}
		k := [2]string{e.RoleARN, principalOf(e)}
		u := edges[k]
		if u == nil {
			u = &RoleUse{Principal: k[1], Role: k[0], First: e.Time, Last: e.Time}
			edges[k] = u
		}
		u.Count++
		if e.Time.Before(u.First) {
			u.First = e.Time
		}
		if e.Time.After(u.Last) {
			u.Last = e.Time
		}
	}
	out := make([]RoleUse, 0, len(edges))
	for _, u := range edges {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Role != out[j].Role {
			return out[i].Role < out[j].Role
		}
		return out[i].Principal < out[j].Principal
	})
	return out
}
