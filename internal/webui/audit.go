package webui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/warden-iam/warden/internal/store"
)

// auditPageSize is the records of one audit log page.
const auditPageSize = 50

// auditRow is one audited call, with the principal it acted on.
type auditRow struct {
	store.AuditRecord
	Principal string // the user, group or role named in the call's inputs
}

// auditData is the audit log page.
type auditData struct {
	Conn          string
	Conns         []string
	Actor, Action string
	Actors        []string
	Actions       []string
	Rows          []auditRow
	Total         int    // records matching the filters
	Before        int64  // this page's cursor (0: the newest)
	Older, Newest string // links to the next older page and back to the newest
}

// audit is /audit: every audited write of the connection (provisioning
// calls of the CLI, the API and the leaver flow), newest first,
// filterable by actor and action, paginated by a cursor (before=ID: the
// records older than ID), so a page's URL keeps showing the same records
// however many are written after.
func (u *UI) audit(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	ids, err := u.connectionIDs(r)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return
	}
	d := auditData{Conn: q.Get("c"), Conns: ids, Actor: q.Get("actor"), Action: q.Get("action")}
	if d.Conn == "" {
		if len(ids) == 0 {
			u.fail(w, r, s, http.StatusNotFound, "There is no connection yet: add one to warden.yaml.")
			return
		}
		d.Conn = ids[0]
	}
	if v := q.Get("before"); v != "" {
		if d.Before, err = strconv.ParseInt(v, 10, 64); err != nil || d.Before <= 0 {
			u.fail(w, r, s, http.StatusBadRequest, "before= is the id of an audit record, a positive number: follow the Older link of /audit.")
			return
		}
	}
	recs, err := u.c.Store.Audit(r.Context(), d.Conn, 0) // newest first
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The audit log could not be read: "+err.Error())
		return
	}
	actors, actions := map[string]bool{}, map[string]bool{}
	for _, rec := range recs {
		actors[rec.Actor], actions[rec.Action] = true, true
		if d.Actor != "" && rec.Actor != d.Actor || d.Action != "" && rec.Action != d.Action {
			continue
		}
		d.Total++
		if d.Before != 0 && rec.ID >= d.Before || len(d.Rows) > auditPageSize {
			continue
		}
		d.Rows = append(d.Rows, auditRow{AuditRecord: rec, Principal: principalOf(rec.Params)})
	}
	d.Actors, d.Actions = sortedKeys(actors), sortedKeys(actions)
	link := func(before int64) string {
		v := url.Values{"c": {d.Conn}}
		if d.Actor != "" {
			v.Set("actor", d.Actor)
		}
		if d.Action != "" {
			v.Set("action", d.Action)
		}
		if before != 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		return "/audit?" + v.Encode()
	}
	if len(d.Rows) > auditPageSize { // one more than a page was read: there are older ones
		d.Rows = d.Rows[:auditPageSize]
		d.Older = link(d.Rows[auditPageSize-1].ID)
	}
	if d.Before != 0 {
		d.Newest = link(0)
	}
	u.render(w, r, s, http.StatusOK, "audit.html", page{Title: "Audit log", Data: d})
}

// principalOf is the IAM principal a call's inputs name, for a link.
func principalOf(params map[string]string) string {
	for _, k := range []string{"UserName", "GroupName", "RoleName"} {
		if v := params[k]; v != "" {
			return v
		}
	}
	return ""
}
