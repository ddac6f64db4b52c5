package diff

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"

	"github.com/warden-iam/warden/internal/model"
)

// documentPaths are the fields of a resource that hold a policy document:
// compared statement by statement, not as two blobs.
var documentPaths = map[string]bool{
	"policy.document":              true,
	"inline_policy.document":       true,
	"role.trust_policy":            true,
	"scp.document":                 true,
	"permission_set.inline_policy": true,
	"bucket.policy":                true,
	"kms_key.policy":               true,
	"function.policy":              true,
	"secret.policy":                true,
}

// resources lists every resource added, removed or changed, a changed one
// with the fields that differ.
func (c *computer) resources() []ResourceDiff {
	out := make([]ResourceDiff, 0, len(c.cs.Resources))
	for _, rc := range c.cs.Resources {
		d := ResourceDiff{Fields: []FieldChange{}}
		switch {
		case rc.Before == nil:
			d.Change, d.Resource = Added, refOf(rc.After)
		case rc.After == nil:
			d.Change, d.Resource = Removed, refOf(rc.Before)
		default:
			d.Change, d.Resource = Changed, refOf(rc.After)
			d.Fields = FieldChanges(rc.Before, rc.After)
		}
		d.Text = resourceText(d)
		out = append(out, d)
	}
	slices.SortFunc(out, func(x, y ResourceDiff) int {
		return cmp.Or(cmp.Compare(x.Resource.AccountID, y.Resource.AccountID), cmp.Compare(x.Resource.Type, y.Resource.Type),
			cmp.Compare(x.Resource.Name, y.Resource.Name), cmp.Compare(x.Resource.ID, y.Resource.ID))
	})
	return out
}

// FieldChanges returns the fields that differ from resource a to b, by
// their path in the resource's JSON, sorted by path. Objects are compared
// key by key; lists and scalars as values; policy documents statement by
// statement.
func FieldChanges(a, b *model.Resource) []FieldChange {
	out := []FieldChange{}
	diffValues("", jsonValue(a), jsonValue(b), &out)
	return out
}

// jsonValue returns v as the generic value its JSON decodes to.
func jsonValue(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func diffValues(path string, a, b any, out *[]FieldChange) {
	if reflect.DeepEqual(a, b) {
		return
	}
	am, aObj := a.(map[string]any)
	bm, bObj := b.(map[string]any)
	if aObj && bObj || aObj && b == nil || a == nil && bObj {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			diffValues(join(path, k), am[k], bm[k], out)
		}
		return
	}
	if documentPaths[path] {
		if diffDocuments(path, a, b, out) {
			return
		}
	}
	*out = append(*out, FieldChange{Path: path, Before: a, After: b, StatementsAdded: []json.RawMessage{}, StatementsRemoved: []json.RawMessage{}})
}

// diffDocuments compares two policy documents held as JSON text: the
// statements removed and added, each as normalized JSON, and the other keys
// (Version, Id) as fields. It returns false when either is not a JSON
// object, so the caller shows both values.
func diffDocuments(path string, a, b any, out *[]FieldChange) bool {
	da, okA := document(a)
	db, okB := document(b)
	if !okA || !okB {
		return false
	}
	sa, sb := statements(da["Statement"]), statements(db["Statement"])
	delete(da, "Statement")
	delete(db, "Statement")
	fc := FieldChange{Path: path, StatementsAdded: minus(sb, sa), StatementsRemoved: minus(sa, sb)}
	if len(fc.StatementsAdded) > 0 || len(fc.StatementsRemoved) > 0 {
		*out = append(*out, fc)
	}
	keys := map[string]bool{}
	for k := range da {
		keys[k] = true
	}
	for k := range db {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		diffValues(path+"."+k, da[k], db[k], out)
	}
	return true
}

// document decodes a policy document held as a JSON string; an absent or
// empty one is an empty document.
func document(v any) (map[string]any, bool) {
	s, ok := v.(string)
	if v == nil || ok && s == "" {
		return map[string]any{}, true
	}
	if !ok {
		return nil, false
	}
	var d map[string]any
	if json.Unmarshal([]byte(s), &d) != nil || d == nil {
		return nil, false
	}
	return d, true
}

// statements returns a document's statements (a list, or one object) as
// normalized JSON: keys sorted, no spaces.
func statements(v any) []json.RawMessage {
	list, ok := v.([]any)
	if !ok && v != nil {
		list = []any{v}
	}
	out := make([]json.RawMessage, 0, len(list))
	for _, s := range list {
		raw, _ := json.Marshal(s) // decoded JSON always marshals, with sorted keys
		out = append(out, raw)
	}
	return out
}

// minus returns the statements of a not in b, counting repeats, in a's
// order.
func minus(a, b []json.RawMessage) []json.RawMessage {
	left := map[string]int{}
	for _, s := range b {
		left[string(s)]++
	}
	out := []json.RawMessage{}
	for _, s := range a {
		if left[string(s)] > 0 {
			left[string(s)]--
			continue
		}
		out = append(out, s)
	}
	return out
}
