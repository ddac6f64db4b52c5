package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is rows of text cells under a header, with an optional title line.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	// More is the number of rows left out of Rows; it is shown as a last line.
	More int
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Limit keeps the first n rows and counts the rest in More; n <= 0 keeps all.
func (t *Table) Limit(n int) {
	if n > 0 && len(t.Rows) > n {
		t.More += len(t.Rows) - n
		t.Rows = t.Rows[:n]
	}
}

// Write prints the table with aligned columns; a table without rows prints
// its title and "(none)".
func (t *Table) Write(w io.Writer) error {
	if t.Title != "" {
		if _, err := fmt.Fprintln(w, t.Title); err != nil {
			return err
		}
	}
	if len(t.Rows) == 0 {
		_, err := fmt.Fprintln(w, "  (none)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if len(t.Header) > 0 {
		writeRow(tw, t.Header)
	}
	for _, r := range t.Rows {
		writeRow(tw, r)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.More > 0 {
		_, err := fmt.Fprintf(w, "  … and %d more\n", t.More)
		return err
	}
	return nil
}

func writeRow(w io.Writer, cells []string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = cellReplacer.Replace(c)
	}
	fmt.Fprintln(w, strings.Join(clean, "\t"))
}

// cellReplacer keeps a cell on one line and in one column.
var cellReplacer = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

// Tables writes several tables separated by blank lines.
func Tables(w io.Writer, tables ...*Table) error {
	for i, t := range tables {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		if err := t.Write(w); err != nil {
			return err
		}
	}
	return nil
}

// Cell formats for values the views share.

// dateCell shows a day, or "-" when the time is unknown.
func dateCell(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

// lastUsedCell shows when something was last used, or "never".
func lastUsedCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.DateOnly)
}

// yesNo shows a boolean; known false shows "?" for a value warden could not read.
func yesNo(v, known bool) string {
	switch {
	case !known:
		return "?"
	case v:
		return "yes"
	}
	return "no"
}

// list joins names for one cell, "-" when there are none.
func list(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}
