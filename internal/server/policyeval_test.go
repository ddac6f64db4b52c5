package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/policy"
)

// TestPolicyEval: the whole conformance corpus of internal/policy, posted
// as one batch with a read token, comes back decided as the corpus says
// (each case traced to AWS's documentation), equal to policy.EvaluateAll;
// one request gives one result, and a malformed field is a 400 naming it.
func TestPolicyEval(t *testing.T) {
	files, err := filepath.Glob("../policy/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in ../policy/testdata: %v", err)
	}
	var reqs []json.RawMessage
	var want []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct {
			Request json.RawMessage `json:"request"`
			Want    string          `json:"want"`
		}
		if err := json.Unmarshal(b, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			reqs = append(reqs, c.Request)
			want = append(want, c.Want)
		}
	}
	if len(reqs) < 300 {
		t.Fatalf("the corpus has %d cases, want at least 300", len(reqs))
	}
	batch, _ := json.Marshal(reqs)
	e := newEnv(t, smallEstate, Config{})
	status, _, body := e.do(t, "POST", PolicyEvalPath, e.read, batch)
	if status != http.StatusOK {
		t.Fatalf("POST %s: %d %s", PolicyEvalPath, status, body)
	}
	validate(t, e.srv, "POST", PolicyEvalPath, status, body)
	var got []policy.EvalResult
	if err := json.Unmarshal(body, &got); err != nil || len(got) != len(reqs) {
		t.Fatalf("answer: %v, %d results for %d requests", err, len(got), len(reqs))
	}
	parsed, _, err := policy.ParseRequests(batch)
	if err != nil {
		t.Fatal(err)
	}
	local := policy.EvaluateAll(parsed)
	for i := range got {
		if got[i].Decision != want[i] {
			t.Errorf("request %d: %s, the corpus says %s", i, got[i].Decision, want[i])
		}
		g, _ := json.Marshal(got[i])
		l, _ := json.Marshal(local[i])
		if !bytes.Equal(g, l) {
			t.Errorf("request %d: the API answers %s, policy.EvaluateAll %s", i, g, l)
		}
	}
	// One request, one result (not an array).
	status, _, body = e.do(t, "POST", PolicyEvalPath, e.read, reqs[0])
	var one policy.EvalResult
	if status != http.StatusOK || json.Unmarshal(body, &one) != nil || one.Decision != want[0] {
		t.Fatalf("one request: %d %s", status, body)
	}
	validate(t, e.srv, "POST", PolicyEvalPath, status, body)
	// A malformed field is named.
	status, _, body = e.do(t, "POST", PolicyEvalPath, e.read, []byte(`{"principal": "p", "action": "s3:GetObject", "resource_policy": "not json"}`))
	var er Error
	if status != http.StatusBadRequest || json.Unmarshal(body, &er) != nil || !strings.Contains(er.Problem, "resource_policy") || er.Fix == "" {
		t.Fatalf("malformed: %d %s", status, body)
	}
	validate(t, e.srv, "POST", PolicyEvalPath, status, body)
	// Other POSTs still need an admin token.
	if status, _, _ := e.do(t, "POST", "/api/v1/sync/prod", e.read, nil); status != http.StatusForbidden {
		t.Errorf("POST /api/v1/sync/prod with a read token: %d, want 403", status)
	}
}
