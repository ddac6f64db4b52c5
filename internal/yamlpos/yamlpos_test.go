package yamlpos

import (
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		file        string
		line, col   int
		where, want string
	}{
		{"w.yaml", 3, 5, "connections[0].id", "w.yaml:3:5: connections[0].id is missing"},
		{"w.yaml", 3, 0, "", "w.yaml:3: is missing"},
		{"w.yaml", 0, 5, "", "w.yaml: is missing"},
		{"w.yaml", 0, 0, "actions", "w.yaml: actions is missing"},
		{"", 2, 1, "", "2:1: is missing"},
		{"", 0, 0, "connections", "connections is missing"},
		{"", 0, 0, "", "is missing"},
	} {
		if got := Format(tt.file, tt.line, tt.col, tt.where, "is missing"); got != tt.want {
			t.Errorf("Format(%q, %d, %d, %q) = %q, want %q", tt.file, tt.line, tt.col, tt.where, got, tt.want)
		}
	}
	if got := At("c.yaml", nil, "actions[0]", "is missing"); got != "c.yaml: actions[0] is missing" {
		t.Errorf("At(nil) = %q", got)
	}
}

func TestKind(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("m: {a: 1}\nl: [1]\ns: x\nanchor: &x 1\nalias: *x\n"), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	want := map[string]string{"m": "a mapping", "l": "a list", "s": "a single value", "anchor": "a single value", "alias": "an alias"}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i].Value, m.Content[i+1]
		if got := Kind(v); got != want[k] {
			t.Errorf("Kind(%s) = %q, want %q", k, got, want[k])
		}
	}
	if got := Kind(nil); got != "empty" {
		t.Errorf("Kind(nil) = %q", got)
	}
	if got := Kind(&yaml.Node{}); got != "empty" {
		t.Errorf("Kind(zero node) = %q", got)
	}
}

func ExampleAt() {
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("actions:\n  - [create-user]\n"), &doc)
	item := doc.Content[0].Content[1].Content[0]
	fmt.Println(At("changes.yaml", item, "actions[0]", "must be a mapping, not "+Kind(item)))
	// Output: changes.yaml:2:5: actions[0] must be a mapping, not a list
}
