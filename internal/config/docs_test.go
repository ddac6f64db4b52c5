package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDocsDescribeSchema keeps docs/config.md true to the code: it must show
// Example() verbatim and document every key of the schema by its full path.
func TestDocsDescribeSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "```yaml\n"+Example()+"```\n") {
		t.Error("docs/config.md does not show Example() verbatim in a ```yaml block; paste the output of `warden config example`")
	}
	keys := schemaKeys(reflect.TypeOf(File{}), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d schema keys: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("docs/config.md does not document `%s`", k)
		}
	}
}

// schemaKeys lists the full path of every leaf key under a struct type, a
// list of structs adding "[]".
func schemaKeys(t reflect.Type, prefix string) []string {
	var out []string
	f := fieldsOf(t)
	for _, name := range f.names {
		ft := t.Field(f.index[name]).Type
		path := joinPath(prefix, name)
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, schemaKeys(ft, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, schemaKeys(ft.Elem(), path+"[]")...)
		default:
			out = append(out, path)
		}
	}
	return out
}
