package webui

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// page is what every template gets.
type page struct {
	Title    string
	Error    string
	Next     string
	CSRF     string
	Token    string
	Admin    bool
	SignedIn bool
	// Refresh, when set, reloads the page after that many seconds in a
	// browser without JavaScript (live.js follows the page otherwise).
	Refresh int
	Data    any
}

var funcs = template.FuncMap{
	"list": func(v ...string) []string { return v },
	"href": href,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02")
	},
	"took": func(s *model.Snapshot) string {
		if s.FinishedAt.IsZero() {
			return "—"
		}
		return s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond).String()
	},
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p page) {
	if s != nil {
		p.CSRF, p.Token, p.Admin, p.SignedIn = s.csrf, s.token, s.admin(), true
	}
	var b bytes.Buffer
	if err := u.tmpl.ExecuteTemplate(&b, name, p); err != nil {
		u.c.Logger.Error("web UI page failed", "page", name, "error", err)
		http.Error(w, "the page could not be drawn; the log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	u.render(w, r, s, status, "error.html", page{Title: "Error", Error: msg})
}

// connectionIDs are warden.yaml's connections, else the store's.
func (u *UI) connectionIDs(r *http.Request) ([]string, error) {
	if len(u.c.Connections) > 0 {
		ids := make([]string, len(u.c.Connections))
		for i, c := range u.c.Connections {
			ids[i] = c.ID
		}
		return ids, nil
	}
	return u.c.Store.Connections(r.Context())
}

// connRow is a connection on the overview.
type connRow struct {
	ID     string
	Snap   *model.Snapshot
	Counts []kv
	// Rules are the latest snapshot's findings by rule (nil while they
	// are being counted); Charts the series over the snapshot history.
	Rules   []kv
	Charts  []chart
	Pending bool
}

type kv struct {
	Key   string
	Value int
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, s *session) {
	if r.URL.Path != "/" {
		u.fail(w, r, s, http.StatusNotFound, "There is no page "+r.URL.Path+".")
		return
	}
	ids, err := u.connectionIDs(r)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return
	}
	rows := make([]connRow, 0, len(ids))
	for _, id := range ids {
		row := connRow{ID: id}
		snap, err := u.c.Store.LatestSnapshot(r.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
		if snap != nil {
			row.Snap = snap
			for k, v := range snap.Counts {
				row.Counts = append(row.Counts, kv{k, v})
			}
			sort.Slice(row.Counts, func(i, j int) bool { return row.Counts[i].Key < row.Counts[j].Key })
			if err := u.history(r, &row); err != nil {
				u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
				return
			}
		}
		rows = append(rows, row)
	}
	u.render(w, r, s, http.StatusOK, "overview.html", page{Title: "Overview", Data: rows})
}

// history fills a connection's findings by rule and its charts over its
// newest snapshots (oldest first), waiting a little for counts not made yet.
func (u *UI) history(r *http.Request, row *connRow) error {
	snaps, err := u.c.Store.Snapshots(r.Context(), row.ID)
	if err != nil {
		return err
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ID < snaps[j].ID })
	if len(snaps) > chartSnapshots {
		snaps = snaps[len(snaps)-chartSnapshots:]
	}
	if len(snaps) == 0 || snaps[len(snaps)-1].ID != row.Snap.ID {
		snaps = append(snaps, *row.Snap)
	}
	day := u.latestDay()
	ptrs := make([]*model.Snapshot, len(snaps))
	ats := make([]time.Time, len(snaps))
	for i := range snaps {
		ptrs[i] = &snaps[i]
		ats[i] = findingsAt(&snaps[i], i == len(snaps)-1, day)
	}
	fs := u.counts.getAll(u, ptrs, ats, findingsWait)
	if last := fs[len(fs)-1]; last != nil {
		for _, rule := range ruleNames {
			row.Rules = append(row.Rules, kv{rule, last.byRule[rule]})
		}
	}
	for _, f := range fs {
		row.Pending = row.Pending || f == nil
	}
	row.Charts = charts(row.ID, snaps, fs)
	return nil
}

// latest is the newest snapshot of the connection the request names (c=),
// or of the first connection.
func (u *UI) latest(r *http.Request) (string, *model.Snapshot, error) {
	conn := r.URL.Query().Get("c")
	if conn == "" {
		ids, err := u.connectionIDs(r)
		if err != nil {
			return "", nil, err
		}
		if len(ids) == 0 {
			return "", nil, errors.New("there is no connection yet: add one to warden.yaml and sync it")
		}
		conn = ids[0]
	}
	snap, err := u.c.Store.LatestSnapshot(r.Context(), conn)
	if errors.Is(err, store.ErrNotFound) {
		return conn, nil, errors.New("connection " + conn + " has no snapshot yet: sync it first")
	}
	return conn, snap, err
}

// searchData is the search page.
type searchData struct {
	Conn    string
	Query   string
	Results []model.Resource
}

// searchLimit bounds the results of one search.
const searchLimit = 25

func (u *UI) search(w http.ResponseWriter, r *http.Request, s *session) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	d := searchData{Conn: conn, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Query != "" {
		d.Results, err = u.index.find(r.Context(), u.c.Store, snap.ID, d.Query, searchLimit)
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The search failed: "+err.Error())
			return
		}
	}
	name := "search.html"
	if r.URL.Query().Get("fragment") == "1" {
		name = "results.html"
	}
	u.render(w, r, s, http.StatusOK, name, page{Title: "Search", Data: d})
}

// principalData is the principal page.
type principalData struct {
	Conn    string
	Snap    *model.Snapshot
	Answer  *access.Answer
	Diagram template.HTML
	Matches []model.Resource
	// Resource is the principal as stored (display name, tags).
	Resource *model.Resource
	// History is what it gained and lost, newest first; Activity its
	// last activity (IAM principals only).
	History  []historyEntry
	Activity *activityView
	// RunsAsBy are the instances and functions that run as the role.
	RunsAsBy []access.Ref
}

func (u *UI) principal(w http.ResponseWriter, r *http.Request, s *session) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	q := r.URL.Query().Get("id")
	if q == "" {
		u.fail(w, r, s, http.StatusBadRequest, "Name a principal: /principal?c=CONNECTION&id=ID, or use Search.")
		return
	}
	if strings.HasPrefix(q, "arn:") {
		// An asset has a page of its own: answering who can act on it here
		// would decide every principal for nothing.
		if res, err := u.c.Store.Resource(r.Context(), snap.ID, q); err == nil && res != nil && access.IsAsset(res) {
			http.Redirect(w, r, href(conn, res.Type, res.ID, res.AccountID), http.StatusSeeOther)
			return
		}
	}
	d := principalData{Conn: conn, Snap: snap}
	ans, err := access.Query(r.Context(), u.c.Store, snap.ID, q)
	var amb *access.AmbiguousError
	var nf *access.NotFoundError
	switch {
	case errors.As(err, &amb):
		d.Matches = amb.Matches
		u.render(w, r, s, http.StatusOK, "principal.html", page{Title: q, Data: d})
		return
	case errors.As(err, &nf):
		u.fail(w, r, s, http.StatusNotFound, "No principal of connection "+conn+" matches "+q+".")
		return
	case err != nil:
		u.fail(w, r, s, http.StatusInternalServerError, "The access could not be read: "+err.Error())
		return
	}
	if h := ans.Holders; h != nil {
		// A managed policy or permission set has a page of its own.
		http.Redirect(w, r, href(conn, h.Resource.Type, h.Resource.ID, h.Resource.AccountID), http.StatusSeeOther)
		return
	}
	d.Answer = ans
	var id string
	switch {
	case ans.IAM != nil:
		id = ans.IAM.Principal.ID
	case ans.SSO != nil:
		id = ans.SSO.Principal.ID
	}
	if id != "" {
		if d.Resource, err = u.c.Store.Resource(r.Context(), snap.ID, id); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The principal could not be read: "+err.Error())
			return
		}
	}
	d.Diagram = diagram(ans, conn)
	if id != "" {
		if d.History, err = u.principalHistory(r.Context(), conn, []string{id}); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The history could not be read: "+err.Error())
			return
		}
	}
	if ans.IAM != nil && ans.IAM.Principal.Type == model.TypeIAMRole {
		if d.RunsAsBy, err = u.runsAs(r, snap.ID, ans.IAM.Principal.ID); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
	}
	if ans.IAM != nil && ans.IAM.Principal.Type != model.TypeIAMGroup {
		if d.Activity, err = u.activity(r.Context(), conn, ans.IAM.Principal.AccountID, ans.IAM.ARN); err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The activity could not be read: "+err.Error())
			return
		}
	}
	title := q
	if ans.IAM != nil {
		title = ans.IAM.Principal.Name
	} else if ans.SSO != nil {
		title = ans.SSO.Principal.Name
	}
	u.render(w, r, s, http.StatusOK, "principal.html", page{Title: title, Data: d})
}
