package webui

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/policy"
)

// corpusCase is one case of internal/policy's conformance corpus: a
// request and the decision AWS's documentation gives it.
type corpusCase struct {
	Name    string          `json:"name"`
	Request json.RawMessage `json:"request"`
	Want    policy.Decision `json:"want"`
}

func loadPolicyCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "policy", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var out []corpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []corpusCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, cs...)
	}
	return out
}

// verdicts are the decisions a page states, in order.
func verdicts(body string) []string {
	var out []string
	for _, p := range strings.Split(body, `<span class="verdict">`)[1:] {
		out = append(out, html.UnescapeString(p[:strings.Index(p, "</span>")]))
	}
	return out
}

// TestSimulatorPage decides every case of the policy conformance corpus
// through the form, pasted whole and field by field, and compares with the
// decision the corpus gives (from AWS's documentation) and with
// policy.Evaluate's explanation (what `warden policy eval` prints).
func TestSimulatorPage(t *testing.T) {
	s := newStack(t, small)
	c := signedIn(t, s)
	code, body, _ := get(t, c, s.http.URL+"/simulator")
	if code != 200 || !strings.Contains(body, `id="sim-form"`) {
		t.Fatalf("/simulator: %d", code)
	}
	for _, f := range append(append([]string{}, simTextFields...), append(simJSONFields, "request")...) {
		if !strings.Contains(body, `<label for="f-`+f+`">`) {
			t.Errorf("field %s has no label", f)
		}
	}
	csrf := csrfOf(t, c, s.http.URL+"/simulator")
	if code, _ := post(t, c, s.http.URL+"/simulator", url.Values{"request": {`{}`}}); code != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token: %d", code)
	}
	cases := loadPolicyCorpus(t)
	if len(cases) < 300 {
		t.Fatalf("the corpus has %d cases", len(cases))
	}
	for _, cc := range cases {
		reqs, _, err := policy.ParseRequests(cc.Request)
		if err != nil {
			t.Fatalf("%s: %v", cc.Name, err)
		}
		want := policy.Evaluate(&reqs[0])
		if want.Decision != cc.Want {
			t.Fatalf("%s: policy.Evaluate says %s, the corpus %s", cc.Name, want.Decision, cc.Want)
		}
		// Whole.
		code, body := post(t, c, s.http.URL+"/simulator", url.Values{"csrf": {csrf}, "request": {string(cc.Request)}})
		if code != 200 || strings.Join(verdicts(body), ",") != decisionText(cc.Want) {
			t.Errorf("%s pasted whole: %d %q, want %s", cc.Name, code, verdicts(body), cc.Want)
			continue
		}
		steps := htmlTables(body, "steps")
		if len(want.Explanation) > 0 {
			if len(steps) != 1 || len(steps[0]) != len(want.Explanation) {
				t.Errorf("%s: statements %q, want %d", cc.Name, steps, len(want.Explanation))
				continue
			}
			for j, st := range want.Explanation {
				w := []string{st.Kind, dashed(st.Policy), dashed(st.Via), dashed(st.Statement), st.Effect, st.Note}
				if strings.Join(steps[0][j], "|") != strings.Join(w, "|") {
					t.Errorf("%s statement %d: %q, want %q", cc.Name, j, steps[0][j], w)
				}
			}
		}
		// Field by field.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(cc.Request, &fields); err != nil {
			t.Fatal(err)
		}
		v := url.Values{"csrf": {csrf}}
		for k, raw := range fields {
			var str string
			if contains(simTextFields, k) && json.Unmarshal(raw, &str) == nil {
				v.Set(k, str)
			} else {
				v.Set(k, string(raw))
			}
		}
		code, body = post(t, c, s.http.URL+"/simulator", v)
		if code != 200 || strings.Join(verdicts(body), ",") != decisionText(cc.Want) {
			t.Errorf("%s field by field: %d %q, want %s", cc.Name, code, verdicts(body), cc.Want)
		}
	}
	// A batch: a result per request, in order.
	batch := "[" + string(cases[0].Request) + "," + string(cases[1].Request) + "]"
	code, body = post(t, c, s.http.URL+"/simulator", url.Values{"csrf": {csrf}, "request": {batch}})
	if got := verdicts(body); code != 200 || len(got) != 2 || got[0] != decisionText(cases[0].Want) || got[1] != decisionText(cases[1].Want) {
		t.Errorf("batch: %d %q", code, got)
	}
	// Malformed fields are named as `warden policy eval` names them.
	for _, b := range []struct {
		v       url.Values
		problem string
	}{
		{url.Values{"principal": {"arn:aws:iam::111111111111:user/a"}, "action": {"s3:GetObject"},
			"identity_policies": {`[{"name": "p", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}}]`}},
			`malformed request: field identity_policies[0].document.Statement[0].Effect: "Permit": use "Allow" or "Deny"`},
		{url.Values{"principal": {"arn:aws:iam::111111111111:user/a"}}, "malformed request: field action: missing"},
		{url.Values{"principal": {"arn:aws:iam::111111111111:user/a"}, "action": {"s3:GetObject"}, "context": {"aws:SourceIp=1"}}, "malformed request: field context: not JSON"},
		{url.Values{"principal": {"arn:aws:iam::111111111111:user/a"}, "action": {"s3:GetObject"}, "scps": {`[{"policies": []}]`}}, "malformed request: field scps[0].target: missing"},
		{url.Values{"request": {`{"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "colour": 1}`}}, "malformed request: field colour: unknown field"},
	} {
		b.v.Set("csrf", csrf)
		code, body := post(t, c, s.http.URL+"/simulator", b.v)
		if code != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(b.problem)) {
			t.Errorf("%v: %d, want 400 with %q", b.v, code, b.problem)
		}
		// The form keeps what was typed.
		for k, vs := range b.v {
			if k != "csrf" && !strings.Contains(body, html.EscapeString(vs[0])) {
				t.Errorf("the form lost field %s", k)
			}
		}
	}
	// The example decides: the OU's SCP denies outside eu-west-1.
	code, body, _ = get(t, c, s.http.URL+"/simulator?example=1")
	if code != 200 || !strings.Contains(body, "DenyOutsideEU") {
		t.Fatalf("example: %d", code)
	}
	v := url.Values{"csrf": {csrf}}
	for k, x := range simExample {
		v.Set(k, x)
	}
	if _, body := post(t, c, s.http.URL+"/simulator", v); strings.Join(verdicts(body), ",") != "explicit deny" {
		t.Errorf("the example: %q, want explicit deny", verdicts(body))
	}
}
