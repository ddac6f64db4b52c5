package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/access"

	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
)

func init() {
	funcs["actorOf"] = func(conn string, a *diff.Actor) actorView { return actorView{Conn: conn, Actor: a} }
}

// actorView is who made a change (nil: not known), with the connection
// its page is in.
type actorView struct {
	Conn  string
	Actor *diff.Actor
}

// changesData is the changes page: the snapshots to pick from and the
// diff of the two picked.
type changesData struct {
	Conn      string
	Snapshots []model.Snapshot // newest first
	From, To  int64
	Report    *diff.Report
	// Actors is how many rows CloudTrail names the actor of; ActivityRead
	// whether the connection reads CloudTrail at all.
	Actors       int
	ActivityRead bool
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
		// The actors, as `warden diff` gives them: the write events
		// CloudTrail recorded between the two snapshots.
		from := byID[d.From]
		if to := byID[d.To]; to.StartedAt.Before(from.StartedAt) {
			from = to
		}
		events, read, err := access.StoredActivity(r.Context(), u.c.Store, conn, from.StartedAt.Truncate(time.Second))
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The activity could not be read: "+err.Error())
			return
		}
		d.ActivityRead = read
		d.Actors = diff.AddActors(d.Report, events)
	}
	u.render(w, r, s, http.StatusOK, "changes.html", page{Title: "Changes", Data: d})
}
