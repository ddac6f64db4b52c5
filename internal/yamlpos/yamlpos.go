// Package yamlpos words the parts of an error about a YAML file that every
// YAML file warden reads (warden.yaml, a changes file) shares: where a
// problem is, as file:line:col, and what kind of node stands there, in
// warden's words rather than yaml.v3's (!!seq, !!map).
package yamlpos

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind describes what a node is, without its value: "a mapping", "a list",
// "an alias", "a single value", or "empty" for a nil or empty node.
func Kind(n *yaml.Node) string {
	if n == nil {
		return "empty"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "empty"
}

// Format returns one problem as "file:line:col: where message". Each part
// is left out when unknown: file when empty, line when 0, column when line
// or column is 0, where when empty; so a problem of the whole file is
// "file: message" and one without a file is "where message".
func Format(file string, line, col int, where, message string) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		b.WriteString(":")
	}
	if line > 0 {
		b.WriteString(strconv.Itoa(line))
		b.WriteString(":")
		if col > 0 {
			b.WriteString(strconv.Itoa(col))
			b.WriteString(":")
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if where != "" {
		b.WriteString(where)
		b.WriteString(" ")
	}
	b.WriteString(message)
	return b.String()
}

// At is Format at node n's line and column (none when n is nil).
func At(file string, n *yaml.Node, where, message string) string {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	return Format(file, line, col, where, message)
}
