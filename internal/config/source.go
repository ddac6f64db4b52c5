package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// position is a 1-based line and column in a file.
type position struct{ line, col int }

// source remembers where each key of a parsed file was written, by path
// ("connections[1].organization.include.accounts[0]"), so problems found
// after decoding still point at their line.
type source struct {
	name string
	pos  map[string]position
	// inherited holds the values filled from defaults rather than written,
	// by path.
	inherited map[string]any
}

func newSource(name string) *source {
	return &source{name: name, pos: map[string]position{}, inherited: map[string]any{}}
}

// set records the position of path; the first record wins, so a key written
// explicitly is not moved by a later merge.
func (s *source) set(path string, n *yaml.Node) {
	if _, ok := s.pos[path]; !ok {
		s.pos[path] = position{n.Line, n.Column}
	}
}

// has reports whether path was written in the file.
func (s *source) has(path string) bool {
	_, ok := s.pos[path]
	return ok
}

// locate returns the position of path, or of its nearest written ancestor
// (a missing key is reported where its mapping starts).
func (s *source) locate(path string) position {
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath appends a key to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// reporter collects problems, placing each at the position of its path.
type reporter struct {
	src      *source // nil for a File built in code
	problems []Problem
	// undecoded holds the paths whose value could not be decoded; checks of
	// those paths (and what is below them) are skipped, so one mistake is
	// reported once.
	undecoded map[string]bool
}

// add records a problem at path, unless path's value was already reported
// as undecodable.
func (r *reporter) add(path, format string, args ...any) {
	for q := path; q != ""; q = parentPath(q) {
		if r.undecoded[q] {
			return
		}
	}
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if r.src != nil {
		p.File = r.src.name
		pos := r.src.locate(path)
		p.Line, p.Column = pos.line, pos.col
	}
	r.problems = append(r.problems, p)
}

// undecodable records a problem with the value at path, at node n, and
// marks path as undecoded so later checks skip it.
func (r *reporter) undecodable(n *yaml.Node, path, format string, args ...any) {
	if r.undecoded == nil {
		r.undecoded = map[string]bool{}
	}
	r.undecoded[path] = true
	r.addAt(n, path, format, args...)
}

// addAt records a problem at node n.
func (r *reporter) addAt(n *yaml.Node, path, format string, args ...any) {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if r.src != nil {
		p.File = r.src.name
	}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	r.problems = append(r.problems, p)
}

// written reports whether path was set in the file. For a File built in
// code every field counts as written.
func (r *reporter) written(path string) bool {
	return r.src == nil || r.src.has(path)
}

// inherited reports whether v at path is the value filled from defaults
// when the file was loaded; such a value is checked where it was written
// instead. A value changed since is not inherited.
func (r *reporter) inherited(path string, v any) bool {
	if r.src == nil {
		return false
	}
	iv, ok := r.src.inherited[path]
	return ok && iv == v
}

// lineOf returns the line path was written on, 0 when unknown.
func (r *reporter) lineOf(path string) int {
	if r.src == nil {
		return 0
	}
	return r.src.locate(path).line
}
