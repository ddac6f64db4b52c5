package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/render"
)

// simFields are the simulator form's fields, the `warden policy eval`
// request's own: the text fields, then those holding JSON.
var (
	simTextFields = []string{"principal", "action", "resource", "resource_account"}
	simJSONFields = []string{"context", "identity_policies", "permissions_boundary", "scps", "rcps", "resource_policy", "session_policy"}
)

func init() {
	funcs["inc"] = func(i int) int { return i + 1 }
	funcs["simField"] = func(name, label string, values map[string]string, text bool, rows int, placeholder, hint string) simFieldView {
		return simFieldView{Name: name, Label: label, Value: values[name], Text: text, Rows: rows, Placeholder: placeholder, Hint: hint}
	}
}

// simFieldView is one field of the simulator form.
type simFieldView struct {
	Name, Label, Value string
	Text               bool
	Rows               int
	Placeholder, Hint  string
}

// simResult is one decided request.
type simResult struct {
	Decision policy.Decision
	Steps    []stepView
	// JSON is the result as `warden policy eval -o json` prints it.
	JSON string
}

// simulatorData is the /simulator page.
type simulatorData struct {
	// Fields are the form's values by request field; Request is the
	// whole-request field (it wins when given).
	Fields  map[string]string
	Request string
	Asked   bool
	Bad     *inputProblem
	Results []simResult
	Batch   bool
}

// simExample is the form's example: an identity policy that allows,
// under an SCP chain whose OU denies outside eu-west-1.
var simExample = map[string]string{
	"principal":         "arn:aws:iam::111111111111:user/alice",
	"action":            "s3:GetObject",
	"resource":          "arn:aws:s3:::reports/2026/q4.csv",
	"resource_account":  "111111111111",
	"context":           `{"aws:RequestedRegion": "us-east-1"}`,
	"identity_policies": `[{"name": "reports-read", "document": {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}}]`,
	"scps": `[{"target": "r-root", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]},
 {"target": "ou-prod", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
   {"name": "eu-only", "document": {"Version": "2012-10-17", "Statement": [{"Sid": "DenyOutsideEU", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}}]},
 {"target": "111111111111", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]`,
}

func (u *UI) simulator(w http.ResponseWriter, r *http.Request, s *session) {
	d := &simulatorData{Fields: map[string]string{}}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if r.URL.Query().Get("example") == "1" {
			for k, v := range simExample {
				d.Fields[k] = v
			}
		}
		u.render(w, r, s, http.StatusOK, "simulator.html", page{Title: "Policy simulator", Data: d})
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		u.fail(w, r, s, http.StatusMethodNotAllowed, "The simulator takes GET (the form) and POST (a request to decide).")
		return
	}
	d.Asked = true
	for _, f := range append(append([]string{}, simTextFields...), simJSONFields...) {
		d.Fields[f] = r.PostFormValue(f)
	}
	d.Request = r.PostFormValue("request")
	data := []byte(d.Request)
	if strings.TrimSpace(d.Request) == "" {
		var p *inputProblem
		if data, p = simAssemble(d.Fields); p != nil {
			d.Bad = p
			u.render(w, r, s, http.StatusBadRequest, "simulator.html", page{Title: "Policy simulator", Data: d})
			return
		}
	}
	results, batch, p := simDecide(data)
	if p != nil {
		d.Bad = p
		u.render(w, r, s, http.StatusBadRequest, "simulator.html", page{Title: "Policy simulator", Data: d})
		return
	}
	d.Results, d.Batch = results, batch
	u.render(w, r, s, http.StatusOK, "simulator.html", page{Title: "Policy simulator", Data: d})
}

// simAssemble makes the request of the form's fields: text fields as
// strings, the others as the JSON they hold; an empty field is left out
// (none, as in the request format).
func simAssemble(fields map[string]string) ([]byte, *inputProblem) {
	var b bytes.Buffer
	b.WriteByte('{')
	add := func(k string, raw []byte) {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(": ")
		b.Write(raw)
	}
	for _, f := range simTextFields {
		if v := strings.TrimSpace(fields[f]); v != "" {
			raw, _ := json.Marshal(v)
			add(f, raw)
		}
	}
	for _, f := range simJSONFields {
		v := strings.TrimSpace(fields[f])
		if v == "" {
			continue
		}
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return nil, requestProblem(&policy.RequestError{Field: f, Err: fmt.Errorf("not JSON: %v", err)})
		}
		add(f, []byte(v))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// simDecide decides a request (or a JSON array of them) as `warden policy
// eval` does.
func simDecide(data []byte) ([]simResult, bool, *inputProblem) {
	reqs, batch, err := policy.ParseRequests(data)
	if err != nil {
		return nil, batch, requestProblem(err)
	}
	out := make([]simResult, len(reqs))
	for i := range reqs {
		res := policy.Evaluate(&reqs[i])
		ex := res.Explanation
		if ex == nil {
			ex = []policy.Step{}
		}
		var js bytes.Buffer
		_ = render.JSON(&js, struct {
			Decision    string        `json:"decision"`
			Explanation []policy.Step `json:"explanation"`
		}{string(res.Decision), ex})
		r := simResult{Decision: res.Decision, JSON: js.String()}
		for _, st := range ex {
			r.Steps = append(r.Steps, stepView{Step: st})
		}
		out[i] = r
	}
	return out, batch, nil
}

// requestProblem is a malformed request as `warden policy eval` reports it.
func requestProblem(err error) *inputProblem {
	var re *policy.RequestError
	if errors.As(err, &re) {
		return &inputProblem{Problem: fmt.Sprintf("malformed request: field %s: %v", re.Field, re.Err),
			Fix: "correct that field; `warden policy eval --help` shows the request format"}
	}
	return &inputProblem{Problem: "malformed request: " + err.Error(), Fix: "`warden policy eval --help` shows the request format"}
}
