// Package render turns warden's data into output: aligned text tables for
// people and indented JSON with stable keys for programs. It builds the rows
// each CLI view shows (users, groups, roles, policies, keys, a principal's
// access, a sync summary, findings) and writes them; it never reads a store or
// calls AWS.
package render

import (
	"encoding/json"
	"fmt"
	"io"
)

// Format is how a command prints its answer.
type Format string

// The output formats.
const (
	FormatTable Format = "table" // aligned columns for a terminal
	FormatJSON  Format = "json"  // indented JSON with the keys documented in README.md
)

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q: use table or json", s)
}

// JSON writes v to w as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
