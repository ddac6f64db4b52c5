package webui

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// whoCanPageSize is how many principals one page of /who-can shows; the
// CSV and JSON downloads have them all.
var whoCanPageSize = 100

// whoCanCache keeps the last answers, so that paging and the downloads do
// not decide the whole snapshot again (who-can on * over a large
// organization takes seconds).
type whoCanCache struct {
	mu      sync.Mutex
	entries []whoCanCached
}

type whoCanCached struct {
	key string
	ans *effective.WhoCanAnswer
}

// whoCanCacheSize is how many answers the cache keeps.
const whoCanCacheSize = 4

func whoCanKey(snap int64, q effective.WhoCanQuestion) string {
	keys := make([]string, 0, len(q.Context))
	for k := range q.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strconv.FormatInt(snap, 10) + "\x00" + q.Action + "\x00" + q.Resource + "\x00" + q.Account)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + strings.Join(q.Context[k], "\x01"))
	}
	return b.String()
}

func (c *whoCanCache) get(ctx context.Context, u *UI, snap int64, q effective.WhoCanQuestion) (*effective.WhoCanAnswer, error) {
	key := whoCanKey(snap, q)
	c.mu.Lock()
	for _, e := range c.entries {
		if e.key == key {
			c.mu.Unlock()
			return e.ans, nil
		}
	}
	c.mu.Unlock()
	ans, err := effective.WhoCan(ctx, u.c.Store, snap, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries = append([]whoCanCached{{key, ans}}, c.entries...)
	if len(c.entries) > whoCanCacheSize {
		c.entries = c.entries[:whoCanCacheSize]
	}
	c.mu.Unlock()
	return ans, nil
}

// CanHref is the /can URL of the question about one principal of the
// answer.
func (d *whoCanData) CanHref(principal string) string {
	v := url.Values{"c": {d.Conn}, "principal": {principal}, "action": {d.Action}, "resource": {d.Resource}, "context": {d.Context}}
	return "/can?" + v.Encode()
}

// hopView is one role on the way, with its page.
type hopView struct {
	effective.Hop
	Href string
}

// entryView is one principal of a who-can answer, laid out.
type entryView struct {
	effective.Entry
	Href  string
	Chain []hopView
	Steps []stepView
}

// whoCanData is the /who-can page.
type whoCanData struct {
	Conn     string
	Snap     *model.Snapshot
	Action   string
	Resource string
	Account  string
	Context  string
	Accounts []string
	Asked    bool
	Bad      *inputProblem
	Answer   *effective.WhoCanAnswer
	// Allowed and Conditional count the answer's principals by decision.
	Allowed, Conditional int
	Rows                 []entryView
	Page, Pages          int
	From, To             int // the rows shown, 1-based
	PrevURL, NextURL     string
	CSVURL, JSONURL      string
}

func (d *whoCanData) query(path string, page int) string {
	v := url.Values{"c": {d.Conn}, "action": {d.Action}, "resource": {d.Resource}}
	if d.Account != "" {
		v.Set("account", d.Account)
	}
	if d.Context != "" {
		v.Set("context", d.Context)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return path + "?" + v.Encode()
}

// whoCan serves /who-can (format ""), /who-can.csv and /who-can.json.
func (u *UI) whoCan(w http.ResponseWriter, r *http.Request, s *session, format string) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	q := r.URL.Query()
	d := &whoCanData{Conn: conn, Snap: snap, Action: strings.TrimSpace(q.Get("action")), Resource: strings.TrimSpace(q.Get("resource")),
		Account: strings.TrimSpace(q.Get("account")), Context: q.Get("context"), Asked: q.Has("action") || q.Has("resource")}
	accts, err := u.accountIDs(r.Context(), snap.ID)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The accounts could not be read: "+err.Error())
		return
	}
	d.Accounts = accts
	bad := func(p *inputProblem) {
		if format != "" {
			http.Error(w, p.Problem+": "+p.Fix, http.StatusBadRequest)
			return
		}
		d.Bad = p
		u.render(w, r, s, http.StatusBadRequest, "whocan.html", page{Title: "Who can", Data: d})
	}
	if !d.Asked && format == "" {
		u.render(w, r, s, http.StatusOK, "whocan.html", page{Title: "Who can", Data: d})
		return
	}
	ctxKeys, p := parseContextLines(d.Context)
	if p != nil {
		bad(p)
		return
	}
	question := effective.WhoCanQuestion{Action: d.Action, Resource: d.Resource, Account: d.Account, Context: ctxKeys}
	if err := question.Check(); err != nil {
		bad(effectiveProblem(err))
		return
	}
	pg := 1
	if v := q.Get("page"); v != "" {
		if pg, err = strconv.Atoi(v); err != nil || pg < 1 {
			bad(&inputProblem{Problem: "page " + strconv.Quote(v) + " is not a page number", Fix: "give a page number from 1, or follow the page links"})
			return
		}
	}
	ans, err := u.whoCans.get(r.Context(), u, snap.ID, question)
	if err != nil {
		if p := effectiveProblem(err); p != nil {
			bad(p)
			return
		}
		u.fail(w, r, s, http.StatusInternalServerError, "The question could not be answered: "+err.Error())
		return
	}
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="who-can.json"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = render.JSON(w, ans)
		return
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="who-can.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		t := render.WhoCanTables(ans)[0]
		_ = cw.Write(append(append([]string{}, t.Header...), "ARN"))
		for i, row := range t.Rows {
			_ = cw.Write(append(append([]string{}, row...), ans.Principals[i].Principal.ARN))
		}
		cw.Flush()
		return
	}
	d.Answer = ans
	for _, e := range ans.Principals {
		if e.Decision == policy.Allowed {
			d.Allowed++
		} else {
			d.Conditional++
		}
	}
	n := len(ans.Principals)
	d.Pages = max(1, (n+whoCanPageSize-1)/whoCanPageSize)
	if pg > d.Pages {
		bad(&inputProblem{Problem: "page " + strconv.Itoa(pg) + " is past the last page, " + strconv.Itoa(d.Pages), Fix: "follow the page links"})
		return
	}
	d.Page = pg
	lo, hi := (pg-1)*whoCanPageSize, min(n, pg*whoCanPageSize)
	d.From, d.To = lo+1, hi
	if pg > 1 {
		d.PrevURL = d.query("/who-can", pg-1)
	}
	if pg < d.Pages {
		d.NextURL = d.query("/who-can", pg+1)
	}
	d.CSVURL, d.JSONURL = d.query("/who-can.csv", 1), d.query("/who-can.json", 1)
	l := newLinker(u.c.Store, conn, snap.ID)
	for _, e := range ans.Principals[lo:hi] {
		v := entryView{Entry: e, Href: href(conn, e.Principal.Type, e.Principal.ID, e.Principal.AccountID)}
		acting := e.Principal.ID
		for _, h := range e.Chain {
			v.Chain = append(v.Chain, hopView{Hop: h, Href: href(conn, h.Role.Type, h.Role.ID, h.Role.AccountID)})
			acting = h.Role.ID
		}
		if v.Steps, err = l.steps(r.Context(), acting, ans.Resource, e.Explanation); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The policies could not be read: "+err.Error())
			return
		}
		d.Rows = append(d.Rows, v)
	}
	u.render(w, r, s, http.StatusOK, "whocan.html", page{Title: "Who can " + ans.Action, Data: d})
}

// accountIDs are the snapshot's accounts, for the account filters.
func (u *UI) accountIDs(ctx context.Context, snap int64) ([]string, error) {
	rs, err := u.c.Store.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeAccount})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		id := r.AccountID
		if id == "" {
			id = lastPart(r.ID)
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}
