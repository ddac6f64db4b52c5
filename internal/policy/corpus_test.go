package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// corpusCase is one conformance case: a `policy eval` request, the
// decision AWS's documented logic reaches, and the documentation followed.
type corpusCase struct {
	Name    string          `json:"name"`
	Doc     string          `json:"doc"`
	Request json.RawMessage `json:"request"`
	Want    Decision        `json:"want"`
}

func loadCorpus(t testing.TB) []corpusCase {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in testdata/: %v", err)
	}
	var all []corpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []corpusCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i := range cs {
			cs[i].Name = filepath.Base(f) + "/" + cs[i].Name
		}
		all = append(all, cs...)
	}
	return all
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	ran := 0
	for _, c := range cases {
		if c.Doc == "" {
			t.Errorf("%s: no doc field citing the AWS documentation", c.Name)
		}
		reqs, _, err := ParseRequests(c.Request)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		got := Evaluate(&reqs[0])
		if got.Decision != c.Want {
			t.Errorf("%s: decision %s, want %s (explanation %+v; doc %s)", c.Name, got.Decision, c.Want, got.Explanation, c.Doc)
		}
		ran++
	}
	t.Logf("corpus: %d cases ran", ran)
}

func FuzzEvaluate(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(string(c.Request))
	}
	for _, c := range loadUnknown(f) {
		f.Add(string(c.Request))
	}
	f.Fuzz(func(t *testing.T, in string) {
		reqs, _, err := ParseRequests([]byte(in))
		if err != nil {
			return
		}
		for i := range reqs {
			a := Evaluate(&reqs[i])
			b := Evaluate(&reqs[i])
			if a.Decision != b.Decision || len(a.Explanation) != len(b.Explanation) {
				t.Fatalf("same input, different answers: %+v vs %+v", a, b)
			}
			// Three-valued: same answer twice, and never a decision the
			// concrete one (absent keys absent) contradicts.
			u := reqs[i]
			u.Unknown = true
			x, y := Evaluate(&u), Evaluate(&u)
			if jsonText(x) != jsonText(y) {
				t.Fatalf("unknown: same input, different answers: %s vs %s", jsonText(x), jsonText(y))
			}
			if x.Decision != Conditional && (x.Decision == Allowed) != (a.Decision == Allowed) {
				t.Fatalf("unknown gives %s, concrete %s", x.Decision, a.Decision)
			}
		}
	})
}

// TestCorpusConcurrent decides every case from several goroutines at once
// over shared requests (run with -race): the answers match the serial ones.
func TestCorpusConcurrent(t *testing.T) {
	cases := loadCorpus(t)
	reqs := make([]Request, len(cases))
	want := make([]Decision, len(cases))
	for i, c := range cases {
		rs, _, err := ParseRequests(c.Request)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		reqs[i] = rs[0]
		want[i] = Evaluate(&reqs[i]).Decision
	}
	errs := make(chan string, 4*len(reqs))
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range reqs {
				if got := Evaluate(&reqs[i]).Decision; got != want[i] {
					errs <- cases[i].Name + ": " + string(got) + ", want " + string(want[i])
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
