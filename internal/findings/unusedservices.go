package findings

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// DefaultUnusedServiceDays is how long a granted service must go unused
// to be reported.
const DefaultUnusedServiceDays = 90

// LastAccessed is one principal's IAM last accessed data, the input of
// UnusedServices: the services its permissions policies grant, each with
// its last use, as read (collect.PrincipalLastAccessed; its services'
// JSON decodes into Services).
type LastAccessed struct {
	Principal string       `json:"principal"` // the user's or role's ARN
	ReadAt    time.Time    `json:"read_at"`
	Services  []ServiceUse `json:"services"`
}

// ServiceUse is one granted service and its last use (nil: not used in
// IAM's tracking period); Actions are the tracked actions, at action level
// for the services AWS tracks.
type ServiceUse struct {
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	LastUsed  *time.Time  `json:"last_authenticated"`
	Actions   []ActionUse `json:"actions,omitempty"`
}

// ActionUse is one tracked action and its last use (nil: not used).
type ActionUse struct {
	Name     string     `json:"name"`
	LastUsed *time.Time `json:"last_accessed"`
}

// UnusedServices is a principal granted services it has not used for the
// days asked: those services, the ones it used, and a right-sized policy
// that keeps only what was used.
type UnusedServices struct {
	ID        string          `json:"id"`
	Principal Principal       `json:"principal"`
	ReadAt    time.Time       `json:"read_at"`
	Granted   int             `json:"granted"`
	Unused    []UnusedService `json:"unused"`
	Used      []string        `json:"used"` // namespaces
	// Policy is one policy document allowing what the principal's Allow
	// statements allow, less the unused services and, where AWS tracks
	// actions, less the unused tracked actions; Deny statements kept.
	Policy string `json:"policy"`
	// Notes say where Policy could not be narrowed exactly (NotAction
	// statements; wildcards over services AWS tracks only in part).
	Notes []string `json:"notes,omitempty"`
}

// UnusedService is one granted service not used for the days asked
// (LastUsed nil: never, in IAM's tracking period).
type UnusedService struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	LastUsed  *time.Time `json:"last_used"`
}

// UnusedServicesFor returns, for every principal of g with last accessed
// data, the services its policies grant that it has not used for more
// than days days (a principal created less than days ago is not judged),
// with a right-sized policy. Sorted by most unused services, then ID.
func UnusedServicesFor(g *model.Graph, data []LastAccessed, now time.Time, days int) []UnusedServices {
	if days <= 0 {
		days = DefaultUnusedServiceDays
	}
	limit := now.Add(-time.Duration(days) * 24 * time.Hour)
	x := newIndex(g)
	byARN := map[string]*model.Resource{}
	for i := range g.Resources {
		if r := &g.Resources[i]; isPrincipal(r) && r.ARN != "" {
			byARN[r.ARN] = r
		}
	}
	var out []UnusedServices
	for _, d := range data {
		p := byARN[d.Principal]
		if p == nil || (!p.CreatedAt.IsZero() && p.CreatedAt.After(limit)) {
			continue
		}
		f := UnusedServices{ID: p.ID, Principal: principalOf(p), ReadAt: d.ReadAt, Granted: len(d.Services), Unused: []UnusedService{}, Used: []string{}}
		used := map[string]ServiceUse{}
		for _, s := range d.Services {
			if s.LastUsed != nil && s.LastUsed.After(limit) {
				used[strings.ToLower(s.Namespace)] = s
				f.Used = append(f.Used, s.Namespace)
				continue
			}
			f.Unused = append(f.Unused, UnusedService{Namespace: s.Namespace, Name: s.Name, LastUsed: s.LastUsed})
		}
		if len(f.Unused) == 0 {
			continue
		}
		var docs []string
		for _, path := range x.policyPaths(p) {
			if r := x.byID[path.PolicyID]; r != nil {
				docs = append(docs, Document(r))
			}
		}
		f.Policy, f.Notes = rightSize(docs, used, limit)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Unused) != len(out[j].Unused) {
			return len(out[i].Unused) > len(out[j].Unused)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// rightSize rewrites the Allow statements of docs to keep only the
// actions of used services: a pattern of a service AWS tracks at action
// level (its data lists actions) becomes the used tracked actions it
// matches, or stays as written when it matches none of the tracked ones
// (an action AWS does not track, whose use is unknown); a pattern of a
// used service AWS does not track stays; "*" becomes the used services'
// patterns. A statement left with no action is dropped; NotAction and Deny
// statements are kept as written.
func rightSize(docs []string, used map[string]ServiceUse, limit time.Time) (string, []string) {
	var statements []map[string]json.RawMessage
	notes := map[string]bool{}
	for _, doc := range docs {
		for _, st := range statementsOf(doc) {
			var effect string
			_ = json.Unmarshal(st["Effect"], &effect)
			if effect != "Allow" {
				statements = append(statements, st)
				continue
			}
			if _, ok := st["NotAction"]; ok {
				notes["a NotAction statement is kept as written: last accessed data cannot narrow it"] = true
				statements = append(statements, st)
				continue
			}
			kept := map[string]bool{}
			for _, a := range actionsOf(st["Action"]) {
				for _, k := range narrow(a, used, limit, notes) {
					kept[k] = true
				}
			}
			if len(kept) == 0 {
				continue
			}
			acts := make([]string, 0, len(kept))
			for k := range kept {
				acts = append(acts, k)
			}
			sort.Strings(acts)
			b, _ := json.Marshal(acts)
			if len(acts) == 1 {
				b, _ = json.Marshal(acts[0])
			}
			c := map[string]json.RawMessage{}
			for k, v := range st {
				c[k] = v
			}
			c["Action"] = b
			delete(c, "Sid")
			statements = append(statements, c)
		}
	}
	if statements == nil {
		statements = []map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(struct {
		Version   string
		Statement []map[string]json.RawMessage
	}{"2012-10-17", statements})
	var ns []string
	for n := range notes {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return string(b), ns
}

// narrow returns what action pattern a keeps of the used services.
func narrow(a string, used map[string]ServiceUse, limit time.Time, notes map[string]bool) []string {
	if a == "*" {
		var out []string
		for ns := range used {
			out = append(out, narrow(ns+":*", used, limit, notes)...)
		}
		return out
	}
	prefix, name, ok := strings.Cut(a, ":")
	if !ok {
		return nil
	}
	var out []string
	for ns, s := range used {
		if !wildcard(strings.ToLower(prefix), ns) {
			continue
		}
		if len(s.Actions) == 0 {
			out = append(out, ns+":"+name)
			continue
		}
		matched := false
		for _, act := range s.Actions {
			if !wildcard(strings.ToLower(name), strings.ToLower(act.Name)) {
				continue
			}
			matched = true
			if act.LastUsed != nil && act.LastUsed.After(limit) {
				out = append(out, ns+":"+act.Name)
			}
		}
		switch {
		case !matched:
			out = append(out, ns+":"+name) // not tracked: its use is unknown
		case strings.ContainsAny(name, "*?"):
			notes[ns+":"+name+" is narrowed to the tracked actions used; AWS does not track every "+ns+" action (data-plane actions): add back those the principal needs"] = true
		}
	}
	return out
}

// statementsOf returns a policy document's statements, one or a list.
func statementsOf(doc string) []map[string]json.RawMessage {
	var d struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(d.Statement, &list) == nil {
		return list
	}
	var one map[string]json.RawMessage
	if json.Unmarshal(d.Statement, &one) == nil {
		return []map[string]json.RawMessage{one}
	}
	return nil
}

// actionsOf reads an Action element: one string or a list.
func actionsOf(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

// wildcard matches IAM's * and ? wildcards.
func wildcard(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if wildcard(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}
