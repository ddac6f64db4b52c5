package scimsync

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSourceWithByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"people.csv":  "\ufeffuserName,email,groups\nalice,alice@example.com,eng;ops\n",
		"people.json": "\ufeff[{\"userName\": \"alice\", \"email\": \"alice@example.com\", \"groups\": [\"eng\", \"ops\"]}]",
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := LoadSource(path)
			if err != nil {
				t.Fatalf("a source with a byte order mark: %v", err)
			}
			if len(src.Records) != 1 {
				t.Fatalf("read %d records, want 1", len(src.Records))
			}
			r := src.Records[0]
			if got := r.Fields["userName"]; got != "alice" {
				t.Errorf("userName = %q (fields %q), want alice", got, r.Fields)
			}
			if !reflect.DeepEqual(r.Groups, []string{"eng", "ops"}) {
				t.Errorf("groups = %q, want [eng ops]", r.Groups)
			}
		})
	}
}
