package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

func init() {
	funcs["decision"] = decisionText
	funcs["decisionClass"] = func(d policy.Decision) string { return "decision-" + strings.ReplaceAll(string(d), "_", "-") }
}

// decisionText is a decision in words, as the CLI's tables write it.
func decisionText(d policy.Decision) string {
	switch d {
	case policy.Allowed:
		return "allowed"
	case policy.ExplicitDeny:
		return "explicit deny"
	case policy.ImplicitDeny:
		return "implicit deny"
	case policy.Conditional:
		return "allowed if …"
	}
	return string(d)
}

// inputProblem is a question the page cannot ask: what is wrong and what
// to give instead, the CLI's words; Matches are the principals an
// ambiguous name matches, to pick one.
type inputProblem struct {
	Problem string
	Fix     string
	Matches []model.Resource
}

// effectiveProblem turns an error of internal/effective into the problem
// `warden can` and `warden who-can` print for it; nil when the error is not
// the question's fault.
func effectiveProblem(err error) *inputProblem {
	var notFound *effective.NotFoundError
	var ambiguous *effective.AmbiguousError
	var input *effective.InputError
	switch {
	case errors.As(err, &notFound):
		return &inputProblem{Problem: notFound.Error(), Fix: "list them with `warden show users` (or roles), or use Search; give a name, an ARN or an Identity Center e-mail"}
	case errors.As(err, &ambiguous):
		return &inputProblem{Problem: ambiguous.Error(), Fix: "pick the one you mean below (or give its ARN)", Matches: ambiguous.Matches}
	case errors.As(err, &input):
		return &inputProblem{Problem: input.Problem, Fix: input.Fix}
	}
	return nil
}

// parseContextLines reads the context field, one key=value a line (a key
// on several lines is multivalued), as `--context key=value` flags are read.
func parseContextLines(text string) (map[string][]string, *inputProblem) {
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || !strings.Contains(k, ":") {
			return nil, &inputProblem{Problem: fmt.Sprintf("context line %q is not key=value with a condition key such as aws:SourceIp", line),
				Fix: "give one key=value a line, e.g. aws:MultiFactorAuthPresent=true (a key on several lines has several values)"}
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

// stepView is one statement of an explanation, with the page of its
// policy when the snapshot has one.
type stepView struct {
	policy.Step
	Href string
}

// altView is one alternative of an "allowed if" answer.
type altView struct {
	Requires []policy.Requirement
}

// caseView is one case of a can answer, laid out.
type caseView struct {
	effective.Case
	RoleHref string
	Steps    []stepView
}

// canData is the /can page: the form and the answer.
type canData struct {
	Conn      string
	Snap      *model.Snapshot
	Principal string
	Action    string
	Resource  string
	Context   string
	Asked     bool
	Bad       *inputProblem
	Answer    *effective.CanAnswer
	Cases     []caseView
	// PrincipalHref is the principal's page.
	PrincipalHref string
}

// WhoCanHref is the /who-can URL of the same action and resource.
func (d *canData) WhoCanHref() string {
	res := d.Resource
	if res == "" {
		res = "*"
	}
	v := url.Values{"c": {d.Conn}, "action": {d.Action}, "resource": {res}, "context": {d.Context}}
	return "/who-can?" + v.Encode()
}

// PickHref is the /can URL of the same question about another principal.
func (d *canData) PickHref(id string) string {
	v := url.Values{"c": {d.Conn}, "principal": {id}, "action": {d.Action}, "resource": {d.Resource}, "context": {d.Context}}
	return "/can?" + v.Encode()
}

func (u *UI) can(w http.ResponseWriter, r *http.Request, s *session) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	q := r.URL.Query()
	d := &canData{Conn: conn, Snap: snap, Principal: strings.TrimSpace(q.Get("principal")), Action: strings.TrimSpace(q.Get("action")),
		Resource: strings.TrimSpace(q.Get("resource")), Context: q.Get("context")}
	d.Asked = q.Has("principal") || q.Has("action")
	bad := func(p *inputProblem) {
		d.Bad = p
		u.render(w, r, s, http.StatusBadRequest, "can.html", page{Title: "Can", Data: d})
	}
	if !d.Asked {
		u.render(w, r, s, http.StatusOK, "can.html", page{Title: "Can", Data: d})
		return
	}
	if d.Principal == "" {
		bad(&inputProblem{Problem: "can takes a PRINCIPAL, got an empty one", Fix: "give a user or role name, an ARN, or an Identity Center user's e-mail"})
		return
	}
	ctxKeys, p := parseContextLines(d.Context)
	if p != nil {
		bad(p)
		return
	}
	question := effective.Question{Principal: d.Principal, Action: d.Action, Resource: d.Resource, Context: ctxKeys}
	if err := effective.CheckAction(question.Action); err != nil {
		bad(effectiveProblem(err))
		return
	}
	ans, err := effective.Can(r.Context(), u.c.Store, snap.ID, question)
	if err != nil {
		if p := effectiveProblem(err); p != nil {
			bad(p)
			return
		}
		u.fail(w, r, s, http.StatusInternalServerError, "The question could not be answered: "+err.Error())
		return
	}
	d.Answer = ans
	d.PrincipalHref = href(conn, ans.Principal.Type, ans.Principal.ID, ans.Principal.AccountID)
	l := newLinker(u.c.Store, conn, snap.ID)
	for _, c := range ans.Cases {
		cv := caseView{Case: c}
		acting := ans.Principal.ID
		if c.Role != nil {
			acting = c.Role.ID
			cv.RoleHref = href(conn, c.Role.Type, c.Role.ID, c.Role.AccountID)
		} else if ans.Principal.Type == model.TypeSSOUser {
			acting = "" // the permission set's own policies: no IAM principal
		}
		if cv.Steps, err = l.steps(r.Context(), acting, ans.Resource, c.Explanation); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The policies could not be read: "+err.Error())
			return
		}
		d.Cases = append(d.Cases, cv)
	}
	u.render(w, r, s, http.StatusOK, "can.html", page{Title: "Can " + ans.Principal.Name + " " + ans.Action, Data: d})
}

// linker finds the page of each policy an explanation names: the
// acting principal's identity policies and permissions boundary, the SCPs
// of the snapshot, the trust policy of the role assumed.
type linker struct {
	st   *store.DB
	conn string
	snap int64
	// held are each acting principal's attached policies by name.
	held map[string]map[string][]model.Resource
	// boundary is each acting principal's permissions boundary.
	boundary map[string]string
	scps     map[string]string // SCP name → ID
}

func newLinker(st *store.DB, conn string, snap int64) *linker {
	return &linker{st: st, conn: conn, snap: snap, held: map[string]map[string][]model.Resource{}, boundary: map[string]string{}}
}

func (l *linker) load(ctx context.Context, acting string) error {
	if _, ok := l.held[acting]; ok || acting == "" {
		return nil
	}
	hs, err := l.st.GrantsOf(ctx, l.snap, acting)
	if err != nil {
		return err
	}
	m := map[string][]model.Resource{}
	for _, h := range hs {
		t := h.Resource.Type
		if t == model.TypeIAMPolicy || t == model.TypeInlinePolicy {
			name := h.Resource.Name
			if name == "" {
				name = lastPart(h.Resource.ID)
			}
			m[name] = append(m[name], h.Resource)
		}
	}
	l.held[acting] = m
	p, err := l.st.Resource(ctx, l.snap, acting)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if p != nil {
		switch {
		case p.User != nil:
			l.boundary[acting] = p.User.PermissionsBoundary
		case p.Role != nil:
			l.boundary[acting] = p.Role.PermissionsBoundary
		}
	}
	return nil
}

func (l *linker) scpID(ctx context.Context, name string) (string, error) {
	if l.scps == nil {
		rs, err := l.st.Resources(ctx, l.snap, store.ResourceFilter{Type: model.TypeSCP})
		if err != nil {
			return "", err
		}
		l.scps = map[string]string{}
		for _, r := range rs {
			l.scps[r.Name] = r.ID
		}
	}
	return l.scps[name], nil
}

// steps lays out the explanation of a request made by the principal
// acting ("" when no IAM principal acts) on resource.
func (l *linker) steps(ctx context.Context, acting, resource string, ex []policy.Step) ([]stepView, error) {
	if err := l.load(ctx, acting); err != nil {
		return nil, err
	}
	out := make([]stepView, 0, len(ex))
	for _, s := range ex {
		v := stepView{Step: s}
		switch s.Kind {
		case "identity":
			for _, c := range l.held[acting][s.Policy] {
				if (s.Via == "inline") == (c.Type == model.TypeInlinePolicy) {
					v.Href = href(l.conn, c.Type, c.ID, c.AccountID)
					break
				}
			}
		case "boundary":
			if b := l.boundary[acting]; b != "" && lastPart(b) == s.Policy {
				v.Href = href(l.conn, model.TypeIAMPolicy, b, "")
			}
		case "scp":
			id, err := l.scpID(ctx, s.Policy)
			if err != nil {
				return nil, err
			}
			if id != "" {
				v.Href = href(l.conn, model.TypeSCP, id, "")
			}
		case "resource":
			if strings.Contains(resource, ":role/") {
				v.Href = href(l.conn, model.TypeIAMRole, resource, "")
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// lastPart is the last part of an ARN or ID, as effective names a policy
// that has no name.
func lastPart(id string) string {
	if i := strings.LastIndexAny(id, "/:"); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}
