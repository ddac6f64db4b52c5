// Package scimsync pushes people and groups from a source of truth (a CSV
// or JSON file) into IAM Identity Center through its SCIM API: the source is
// validated and mapped first, then the target is read once, every write is
// planned (a dry run reports the plan, so its report is the real run's),
// the plan is checked against the leaver limit, and only the differences
// are written (users created or changed attribute by attribute, groups
// created, memberships added and removed in batches, leavers deactivated
// or deleted by policy). A Ledger (warden's store) says who was pushed
// before and records every write. A second run with no source change
// writes nothing.
package scimsync

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Record is one person of the source, as its fields are named there.
type Record struct {
	Row    int               // 1-based line (CSV) or position (JSON), for problems
	Fields map[string]string // source field → value
	Groups []string          // group names
}

// Source is what a source file holds.
type Source struct {
	Records []Record
	Columns []string // the source's field names
}

// LoadSource reads a CSV (header row; groups separated by ";") or JSON
// (an array of objects, or {"people": [...]}; "groups" a list) file.
func LoadSource(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	defer f.Close()
	r := withoutBOM(f)
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return readJSON(r, path)
	}
	return readCSV(r, path)
}

// withoutBOM skips the UTF-8 byte order mark some spreadsheet programs and
// editors write at the start of a file, which would otherwise become part
// of the first column's name.
func withoutBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if head, err := br.Peek(3); err == nil && string(head) == "\ufeff" {
		br.Discard(3)
	}
	return br
}

func readCSV(r io.Reader, path string) (*Source, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header row: %w", path, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	src := &Source{Columns: header}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d is not valid CSV: %v", path, row, err)
		}
		r := Record{Row: row, Fields: map[string]string{}}
		for i, col := range header {
			v := strings.TrimSpace(rec[i])
			if col == "groups" {
				for _, g := range strings.Split(v, ";") {
					if g = strings.TrimSpace(g); g != "" {
						r.Groups = append(r.Groups, g)
					}
				}
				continue
			}
			r.Fields[col] = v
		}
		src.Records = append(src.Records, r)
	}
	return src, nil
}

func readJSON(r io.Reader, path string) (*Source, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var people []map[string]any
	if err := json.Unmarshal(data, &people); err != nil {
		var wrapped struct {
			People []map[string]any `json:"people"`
		}
		if err2 := json.Unmarshal(data, &wrapped); err2 != nil {
			return nil, fmt.Errorf("%s: not a JSON array of people or {\"people\": [...]}: %v", path, err)
		}
		people = wrapped.People
	}
	cols := map[string]bool{}
	src := &Source{}
	for i, p := range people {
		rec := Record{Row: i + 1, Fields: map[string]string{}}
		for k, v := range p {
			if k == "groups" {
				list, ok := v.([]any)
				if !ok {
					return nil, fmt.Errorf("%s: person %d: groups must be a list of names", path, i+1)
				}
				for _, g := range list {
					if s, ok := g.(string); ok && s != "" {
						rec.Groups = append(rec.Groups, s)
					}
				}
				continue
			}
			cols[k] = true
			switch x := v.(type) {
			case string:
				rec.Fields[k] = strings.TrimSpace(x)
			case bool:
				rec.Fields[k] = strconv.FormatBool(x)
			case float64:
				rec.Fields[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case nil:
			default:
				return nil, fmt.Errorf("%s: person %d: %s must be a string, number or boolean", path, i+1, k)
			}
		}
		src.Records = append(src.Records, rec)
	}
	for c := range cols {
		src.Columns = append(src.Columns, c)
	}
	sort.Strings(src.Columns)
	return src, nil
}

// Mapping says which source field fills each SCIM attribute.
type Mapping map[string]string

// Attributes are the SCIM attributes a mapping may fill.
var Attributes = []string{"externalId", "userName", "displayName", "name.givenName", "name.familyName", "emails", "active", "title", "department"}

// DefaultMapping is the vendors' usual mapping, from warden's source field
// names. An empty displayName is given name and family name.
func DefaultMapping() Mapping {
	return Mapping{"externalId": "external_id", "userName": "user_name", "displayName": "display_name",
		"name.givenName": "given_name", "name.familyName": "family_name", "emails": "email", "active": "active",
		"title": "title", "department": "department"}
}

// Person is a source record mapped to SCIM attributes.
type Person struct {
	Row                           int
	ExternalID, UserName, Display string
	GivenName, FamilyName, Email  string
	Title, Department             string
	Active                        bool
	Groups                        []string
}

// Map validates the mapping against the source's fields and every record
// against Identity Center's requirements, and returns the people. All
// problems are returned together, each with its row, before anything is
// written.
func Map(src *Source, m Mapping) ([]Person, error) {
	var problems []string
	known := map[string]bool{}
	for _, a := range Attributes {
		known[a] = true
	}
	cols := map[string]bool{}
	for _, c := range src.Columns {
		cols[c] = true
	}
	defaults := DefaultMapping()
	required := map[string]bool{"externalId": true, "userName": true, "name.givenName": true, "name.familyName": true}
	for attr, field := range m {
		switch {
		case !known[attr]:
			problems = append(problems, fmt.Sprintf("mapping: %q is not an attribute warden writes (use one of %s)", attr, strings.Join(Attributes, ", ")))
		case !required[attr] && field == defaults[attr] && !cols[field]:
			// An optional attribute's default field the source lacks: left empty.
		case field != "" && !cols[field] && len(src.Records) > 0:
			problems = append(problems, fmt.Sprintf("mapping: %s comes from field %q, which the source does not have (it has %s)", attr, field, strings.Join(src.Columns, ", ")))
		}
	}
	for _, req := range []string{"externalId", "userName", "name.givenName", "name.familyName"} {
		if m[req] == "" {
			problems = append(problems, "mapping: "+req+" must come from a source field")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	get := func(r Record, attr string) string { return r.Fields[m[attr]] }
	var people []Person
	seenName, seenID := map[string]int{}, map[string]int{}
	for _, r := range src.Records {
		p := Person{Row: r.Row, ExternalID: get(r, "externalId"), UserName: get(r, "userName"), Display: get(r, "displayName"),
			GivenName: get(r, "name.givenName"), FamilyName: get(r, "name.familyName"), Email: get(r, "emails"),
			Title: get(r, "title"), Department: get(r, "department"), Active: true, Groups: r.Groups}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("row %d: "+format, append([]any{r.Row}, args...)...))
		}
		if p.ExternalID == "" {
			bad("no external id (field %s): every person needs a stable id", m["externalId"])
		}
		if p.UserName == "" {
			bad("no user name (field %s)", m["userName"])
		}
		if p.GivenName == "" || p.FamilyName == "" {
			bad("given and family names are required by Identity Center")
		}
		if p.Display == "" {
			p.Display = strings.TrimSpace(p.GivenName + " " + p.FamilyName)
		}
		if p.Email != "" {
			if _, err := mail.ParseAddress(p.Email); err != nil || strings.Contains(p.Email, ",") {
				bad("e-mail %q is not one address (Identity Center keeps a single e-mail)", p.Email)
			}
		}
		if v := get(r, "active"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad("active %q is not true or false", v)
			}
			p.Active = b
		}
		if k := strings.ToLower(p.UserName); k != "" {
			if first, ok := seenName[k]; ok {
				bad("user name %q repeats row %d", p.UserName, first)
			}
			seenName[k] = r.Row
		}
		if p.ExternalID != "" {
			if first, ok := seenID[p.ExternalID]; ok {
				bad("external id %q repeats row %d", p.ExternalID, first)
			}
			seenID[p.ExternalID] = r.Row
		}
		people = append(people, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the source has %d problem(s), nothing was written:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	return people, nil
}
