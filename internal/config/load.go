package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, decodes, completes with defaults and validates the
// configuration file at path. Problems in the file come back as a
// *ValidationError naming each one with path:line:col.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w; write one with `warden config example > warden.yaml`", err)
	}
	defer fh.Close()
	// One byte more than the limit tells a file at the limit from a larger
	// one without reading all of a huge file.
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		size := int64(len(data))
		if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		return nil, tooLarge(path, size)
	}
	return Parse(data, path)
}

// MaxFileSize is the largest connections file warden reads, in bytes. A
// real warden.yaml is a few KiB; a file over a MiB is the wrong file, and
// would cost seconds and gigabytes to report on.
const MaxFileSize = 1 << 20

// MaxProblems is the most problems a ValidationError lists, in file order;
// a last line says how many more there are.
const MaxProblems = 50

// tooLarge is the one problem of a file over MaxFileSize.
func tooLarge(name string, size int64) error {
	return &ValidationError{Problems: []Problem{{File: name, Message: fmt.Sprintf(
		"the file is %d bytes, over the %d bytes (1 MiB) warden reads in a connections file; check that --config (or WARDEN_CONFIG) names warden.yaml, which is a few KiB",
		size, MaxFileSize)}}}
}

// Parse is Load for content already in memory; name is the file name used in
// problem reports.
func Parse(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, tooLarge(name, int64(len(data)))
	}
	f := &File{src: newSource(name)}
	r := &reporter{src: f.src}
	root := parseYAML(data, r)
	if root == nil {
		return nil, asError(r.problems)
	}
	f.src.set("", root)
	d := decoder{r: r}
	d.decode(root, reflect.ValueOf(f).Elem(), "", 0)
	f.applyDefaults()
	f.validate(r)
	if err := asError(r.problems); err != nil {
		return nil, err
	}
	return f, nil
}

// yamlErrLine matches yaml.v3 syntax errors ("yaml: line 3: …").
var yamlErrLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// parseYAML parses data as one YAML document and returns its root node, or
// nil after reporting why it cannot.
func parseYAML(data []byte, r *reporter) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			r.add("", "the file is empty; start from `warden config example`")
		} else {
			syntaxProblem(r, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		r.addAt(at, "", "a second YAML document starts here; warden.yaml is a single document, so remove the --- line and what follows, or merge it into the first")
	case !errors.Is(err, io.EOF):
		syntaxProblem(r, err)
		return nil
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		r.add("", "the file is empty; start from `warden config example`")
		return nil
	}
	return doc.Content[0]
}

// syntaxProblem reports a YAML syntax error at its line.
func syntaxProblem(r *reporter, err error) {
	p := Problem{File: r.src.name, Message: "is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = "is not valid YAML in the part starting on this line: " + m[2] + "; check the indentation (spaces, never tabs), colons and quotes from here to the next line that reads correctly"
	}
	p.Message = "the file " + p.Message
	r.problems = append(r.problems, p)
}
