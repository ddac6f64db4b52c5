package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/yamlpos"
)

// Problem is one mistake in a configuration file.
type Problem struct {
	File   string // the file name given to Load or Parse; empty for a File built in code
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Path   string // the key, e.g. "connections[1].id"; empty for the whole file
	// Message says what is wrong and what to do.
	Message string
}

// String formats the problem as file:line:col: path message.
func (p Problem) String() string {
	return yamlpos.Format(p.File, p.Line, p.Column, p.Path, p.Message)
}

// ValidationError lists every problem found in a configuration file, in
// file order.
type ValidationError struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by position, then path, so output follows
// the file.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Path < b.Path
	})
}

// asError returns nil for no problems, else a sorted *ValidationError.
func asError(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	if n := len(ps); n > MaxProblems {
		ps = append(ps[:MaxProblems:MaxProblems], Problem{File: ps[0].File, Message: fmt.Sprintf(
			"and %d more problem(s) not listed; correct the ones above, then validate again", n-MaxProblems)})
	}
	return &ValidationError{Problems: ps}
}
