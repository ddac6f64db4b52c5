package config

import (
	"reflect"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/warden-iam/warden/internal/suggest"
	"github.com/warden-iam/warden/internal/yamlpos"
)

// decoder turns a yaml.Node tree into the schema's Go values by their yaml
// tags. It is as strict as yaml.v3's KnownFields(true) (an unknown key is an
// error) but reports every problem with its line and column, by path rather
// than Go type name, with a suggestion for a misspelt key, and without ever
// repeating a value that could be a secret. It keeps going after a problem so
// one run names every mistake.
type decoder struct {
	r *reporter
	// visits counts nodes decoded, aliases expanded each time they are used.
	visits int
}

// maxDepth bounds nesting, which only an alias referring to itself exceeds.
const maxDepth = 64

// maxVisits bounds the work of decoding: a real warden.yaml is a few
// thousand nodes, while aliases of aliases ("billion laughs") expand
// exponentially.
const maxVisits = 1 << 18

// decode stores n into v (addressable), recording positions and problems.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	if !d.budget(n, path) {
		return
	}
	if depth > maxDepth {
		d.r.undecodable(n, path, "is nested too deeply; does an alias (*name) refer to its own anchor?")
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(n.Alias, v, path, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the field unset
	}
	if s, ok := v.Addr().Interface().(scalarForm); ok && n.Kind == yaml.ScalarNode {
		s.fromScalar(n.Value) // a mapping that may be written as one string
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path, depth)
	case reflect.Slice:
		d.sequence(n, v, path, depth)
	case reflect.Map:
		d.stringMap(n, v, path, depth)
	default:
		d.scalar(n, v, path)
	}
}

// scalarForm is a mapping of the schema that may also be written as one
// string (a schedule's cron expression).
type scalarForm interface{ fromScalar(string) }

// budget counts one unit of work and reports false once the limit is
// reached, reporting it the first time.
func (d *decoder) budget(n *yaml.Node, path string) bool {
	d.visits++
	if d.visits == maxVisits {
		d.r.undecodable(n, path, "expands to too many values; aliases (*name) are nested too deeply, so write the values out")
	}
	return d.visits < maxVisits
}

// structure decodes a mapping into a struct, refusing keys the struct has no
// field for.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, path, v)
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path, depth) {
		name := p.key.Value
		child := joinPath(path, name)
		i, ok := fields.index[name]
		if !ok {
			d.unknownKey(p.key, child, name, fields.names)
			continue
		}
		d.r.src.set(child, p.key)
		d.decode(p.value, v.Field(i), child, depth+1)
	}
}

// sequence decodes a list into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.SequenceNode {
		d.wrongKind(n, path, v)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := indexPath(path, i)
		d.r.src.set(child, item)
		d.decode(item, s.Index(i), child, depth+1)
	}
	v.Set(s)
}

// stringMap decodes a mapping into a map with string keys.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, path, v)
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, p := range d.pairs(n, path, depth) {
		child := joinPath(path, p.key.Value)
		d.r.src.set(child, p.key)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.value, elem, child, depth+1)
		m.SetMapIndex(reflect.ValueOf(p.key.Value), elem)
	}
	v.Set(m)
}

// scalar decodes a plain value (text, number, boolean) with yaml.v3's own
// rules.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.wrongKind(n, path, v)
		return
	}
	isInt := v.Kind() == reflect.Int || v.Kind() == reflect.Int64 || v.Kind() == reflect.Int32
	if isInt && n.ShortTag() != "!!int" {
		// yaml.v3 would truncate 2.5 to 2; a count must be written whole.
		d.r.undecodable(n, path, "must be %s, not %q", want(v), n.Value)
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		// Only numbers and booleans fail here, and their values are not
		// secrets, so the value is shown.
		d.r.undecodable(n, path, "must be %s, not %q", want(v), n.Value)
	}
}

// pair is one key and its value in a mapping.
type pair struct{ key, value *yaml.Node }

// pairs lists a mapping's entries with merge keys (<<: *anchor) expanded:
// keys written in the mapping win over merged ones, and earlier merge sources
// win over later ones, as in YAML. A key written twice is a problem.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSource(val, path, depth+1)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.r.addAt(k, path, "has a key that is %s; keys are plain words", yamlpos.Kind(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.r.addAt(k, joinPath(path, k.Value), "is written twice in the same mapping (first on line %d); keep one", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// mergeSource returns the entries a merge key brings in: a mapping, or a
// list of mappings.
func (d *decoder) mergeSource(n *yaml.Node, path string, depth int) []pair {
	if !d.budget(n, path) {
		return nil
	}
	if depth > maxDepth {
		d.r.undecodable(n, path, "is nested too deeply; does an alias (*name) refer to its own anchor?")
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return d.mergeSource(n.Alias, path, depth+1)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range n.Content {
			out = append(out, d.mergeSource(item, path, depth+1)...)
		}
		return out
	}
	d.r.undecodable(n, path, "merges (<<) %s; a merge takes a mapping or a list of mappings", yamlpos.Kind(n))
	return nil
}

// unknownKey reports a key the schema does not have: a refusal for a key
// that would hold a secret, otherwise a suggestion or the keys allowed here.
func (d *decoder) unknownKey(k *yaml.Node, path, name string, known []string) {
	if msg, ok := secretKeyMessage(name); ok {
		d.r.addAt(k, path, "%s", msg)
		return
	}
	if s := suggest.Closest(name, known); s != "" {
		d.r.addAt(k, path, "is not a known key; did you mean %q?", s)
		return
	}
	d.r.addAt(k, path, "is not a known key; the keys allowed here are %s", strings.Join(known, ", "))
}

// wrongKind reports a value of the wrong shape for its field.
func (d *decoder) wrongKind(n *yaml.Node, path string, v reflect.Value) {
	d.r.undecodable(n, path, "must be %s, not %s", want(v), yamlpos.Kind(n))
}

// want describes what a field holds.
func want(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Struct:
		return "a mapping of keys (key: value on their own lines)"
	case reflect.Map:
		return "a mapping (key: value)"
	case reflect.Slice:
		return "a list (items on lines starting with \"- \", or [a, b])"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	default:
		return "text"
	}
}

// structFields maps a struct's yaml keys to field indexes.
type structFields struct {
	index map[string]int
	names []string // sorted
}

var fieldCache sync.Map // reflect.Type → structFields

// fieldsOf returns the yaml keys of a struct type.
func fieldsOf(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f := structFields{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	fieldCache.Store(t, f)
	return f
}
