package webui

import (
	"net/http"
	"strconv"

	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
)

// changesData is the changes page: the snapshots to pick from and the
// diff of the two picked.
type changesData struct {
	Conn      string
	Snapshots []model.Snapshot // newest first
	From, To  int64
	Report    *diff.Report
}

func (u *UI) changes(w http.ResponseWriter, r *http.Request, s *session) {
	conn, _, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	snaps, err := u.c.Store.Snapshots(r.Context(), conn)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The snapshots could not be read: "+err.Error())
		return
	}
	// Newest first, for the timeline.
	for i, j := 0, len(snaps)-1; i < j; i, j = i+1, j-1 {
		snaps[i], snaps[j] = snaps[j], snaps[i]
	}
	if len(snaps) > 1 && snaps[0].ID < snaps[1].ID {
		for i, j := 0, len(snaps)-1; i < j; i, j = i+1, j-1 {
			snaps[i], snaps[j] = snaps[j], snaps[i]
		}
	}
	d := changesData{Conn: conn, Snapshots: snaps}
	byID := map[int64]*model.Snapshot{}
	for i := range snaps {
		byID[snaps[i].ID] = &snaps[i]
	}
	if len(snaps) >= 2 {
		d.To, d.From = snaps[0].ID, snaps[1].ID
	}
	for name, p := range map[string]*int64{"from": &d.From, "to": &d.To} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || byID[n] == nil {
				u.fail(w, r, s, http.StatusBadRequest, "No snapshot "+v+" of connection "+conn+": pick one from the timeline on /changes.")
				return
			}
			*p = n
		}
	}
	if d.From != 0 && d.To != 0 && d.From != d.To {
		d.Report, err = diff.Compute(r.Context(), u.c.Store, byID[d.From], byID[d.To], diff.Filter{StaleDays: staleDays})
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The diff failed: "+err.Error())
			return
		}
	}
	u.render(w, r, s, http.StatusOK, "changes.html", page{Title: "Changes", Data: d})
}
