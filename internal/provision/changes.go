package provision

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/warden-iam/warden/internal/suggest"
	"github.com/warden-iam/warden/internal/yamlpos"
)

// A changes file is YAML:
//
//	actions:
//	  - action: create-user
//	    user: alice
//	    groups: [engineers]
//
// Its keys are the command line's flag names with underscores (policy_arn,
// document_file, console_password…); the action's fields are found by
// their yaml tags, with the aliases below. It is read node by node, as
// warden.yaml is, so each problem is reported as file:line:col with the
// key's path (actions[1].groups) in warden's words, and every problem of
// the file at once.

// keyAliases maps a flag's name (with underscores) to the field it sets
// when the field's own key differs.
var keyAliases = map[string]string{"boundary": "permissions_boundary"}

// maxChangesFile bounds a changes file's size: a real one is a few
// kilobytes.
const maxChangesFile = 4 << 20

// ChangesError lists every problem of a changes file, one per line, each
// as file:line:col: path message.
type ChangesError struct {
	Problems []string
}

// Error implements error.
func (e *ChangesError) Error() string { return strings.Join(e.Problems, "\n") }

// changesReader decodes one changes file, collecting problems.
type changesReader struct {
	path     string
	problems []string
}

func (r *changesReader) at(n *yaml.Node, where, format string, args ...any) {
	r.problems = append(r.problems, yamlpos.At(r.path, n, where, fmt.Sprintf(format, args...)))
}

// LoadBatch reads and validates a changes file: every problem is reported
// with its line, column and the key's path, and a document_file is read
// relative to the changes file.
func LoadBatch(path string) ([]Action, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read changes file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChangesFile+1))
	if err != nil {
		return nil, fmt.Errorf("read changes file %s: %w", path, err)
	}
	if len(data) > maxChangesFile {
		return nil, fmt.Errorf("%s: the changes file is over %d MiB; a changes file lists actions, a few kilobytes: split it", path, maxChangesFile>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := &changesReader{path: path}
	actions := r.read(data)
	if len(r.problems) > 0 {
		return nil, &ChangesError{Problems: r.problems}
	}
	return actions, nil
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (r *changesReader) read(data []byte) []Action {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			r.at(nil, "", "the file is empty: list the changes under actions: (see `warden apply --help`)")
			return nil
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			r.at(&yaml.Node{Line: line}, "", "is not valid YAML from this line: %s; check the indentation (spaces, never tabs), colons and quotes", m[2])
			return nil
		}
		r.at(nil, "", "is not valid YAML: %s", msg)
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		r.at(root, "", "the file must be a mapping with actions: and a list of actions under it, not %s", yamlpos.Kind(root))
		return nil
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "actions" {
			r.at(k, k.Value, "is not a known key; a changes file has only actions:")
			continue
		}
		list = v
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null") {
		r.at(root, "", "no actions: list them under actions: (see `warden apply --help`)")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		r.at(list, "actions", "must be a list of actions (items on lines starting with \"- \"), not %s", yamlpos.Kind(list))
		return nil
	}
	if len(list.Content) == 0 {
		r.at(list, "actions", "is empty: list at least one action")
		return nil
	}
	out := make([]Action, 0, len(list.Content))
	for i, item := range list.Content {
		where := fmt.Sprintf("actions[%d]", i)
		a, ok := r.action(item, where)
		if !ok {
			continue
		}
		if err := a.Validate(); err != nil {
			r.at(item, where, "%v", err)
			continue
		}
		out = append(out, a)
	}
	return out
}

// fieldsByKey maps each key of an action to its field index.
var fieldsByKey = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeOf(Action{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	for alias, key := range keyAliases {
		m[alias] = m[key]
	}
	return m
}()

// actionKeys are the keys an action may have, sorted: its fields' keys,
// their aliases and document_file.
var actionKeys = func() []string {
	keys := []string{"document_file"}
	for k := range fieldsByKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}()

// action decodes one action's mapping.
func (r *changesReader) action(n *yaml.Node, where string) (Action, bool) {
	var a Action
	if n.Kind != yaml.MappingNode {
		r.at(n, where, "must be a mapping of keys (action: create-user, user: alice, …), not %s", yamlpos.Kind(n))
		return a, false
	}
	ok := true
	v := reflect.ValueOf(&a).Elem()
	seen := map[string]*yaml.Node{}
	var docFile *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := where + "." + k.Value
		if first, dup := seen[k.Value]; dup {
			r.at(k, path, "is written twice in this action (first on line %d): keep one", first.Line)
			ok = false
			continue
		}
		seen[k.Value] = k
		if k.Value == "document_file" {
			docFile = val
			continue
		}
		idx, known := fieldsByKey[k.Value]
		if !known {
			if s := suggest.Closest(strings.ReplaceAll(k.Value, "-", "_"), actionKeys); s != "" {
				r.at(k, path, "is not a known key; did you mean %q?", s)
			} else {
				r.at(k, path, "is not a known key; the keys are %s", strings.Join(actionKeys, ", "))
			}
			ok = false
			continue
		}
		if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
			continue
		}
		if !r.value(val, v.Field(idx), path) {
			ok = false
		}
	}
	if docFile != nil && ok {
		if a.Document != "" {
			r.at(docFile, where+".document_file", "and document are both given: keep one")
			return a, false
		}
		if docFile.Kind != yaml.ScalarNode || docFile.Value == "" {
			r.at(docFile, where+".document_file", "must be a file name")
			return a, false
		}
		name := docFile.Value
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(r.path), name)
		}
		doc, err := ReadDocumentFile(name)
		if err != nil {
			r.at(docFile, where+".document_file", "cannot be read (%v): check the path, relative to the changes file", errors.Unwrap(err))
			return a, false
		}
		a.Document = doc
	}
	return a, ok
}

// value decodes a scalar, list of text, or mapping of text into a field.
func (r *changesReader) value(n *yaml.Node, f reflect.Value, path string) bool {
	switch f.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			r.at(n, path, "must be text, not %s", yamlpos.Kind(n))
			return false
		}
		f.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			r.at(n, path, "must be true or false, not %s", describe(n))
			return false
		}
		f.SetBool(b)
	case reflect.Slice:
		var items []*yaml.Node
		switch n.Kind {
		case yaml.SequenceNode:
			items = n.Content
		case yaml.ScalarNode:
			items = []*yaml.Node{n} // one item written alone
		default:
			r.at(n, path, "must be a list (items on lines starting with \"- \", or [a, b]), not %s", yamlpos.Kind(n))
			return false
		}
		list := make([]string, 0, len(items))
		for i, item := range items {
			if item.Kind != yaml.ScalarNode {
				r.at(item, fmt.Sprintf("%s[%d]", path, i), "must be text, not %s", yamlpos.Kind(item))
				return false
			}
			list = append(list, item.Value)
		}
		f.Set(reflect.ValueOf(list))
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			r.at(n, path, "must be a mapping (key: value), not %s", yamlpos.Kind(n))
			return false
		}
		m := map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
				r.at(k, path+"."+k.Value, "must be text: value")
				return false
			}
			m[k.Value] = v.Value
		}
		f.Set(reflect.ValueOf(m))
	}
	return true
}

// describe names a node in an error: a single value quoted, else its kind.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return yamlpos.Kind(n)
}
