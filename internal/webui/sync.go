package webui

import (
	"context"
	"net/http"
	"net/url"

	"github.com/warden-iam/warden/internal/schedule"
)

// Syncs is the scheduler the sync page shows and starts (*schedule.Scheduler).
type Syncs interface {
	// Statuses is every connection's sync state.
	Statuses() []schedule.Status
	// Trigger starts a sync of connection now, asked for by actor.
	Trigger(ctx context.Context, connection, actor string) (schedule.Run, error)
	// Runs is a connection's last runs, newest first.
	Runs(connection string, limit int) ([]schedule.Run, error)
}

// syncRow is a connection on the sync page.
type syncRow struct {
	schedule.Status
	History []schedule.Run
}

// syncData is the sync page.
type syncData struct {
	Rows    []syncRow
	Running bool
	Started string
}

func (u *UI) sync(w http.ResponseWriter, r *http.Request, s *session) {
	if u.c.Syncs == nil {
		u.fail(w, r, s, http.StatusServiceUnavailable, "This service runs no scheduler, so it cannot show or start syncs.")
		return
	}
	if r.Method == http.MethodPost {
		if !s.admin() {
			u.fail(w, r, s, http.StatusForbidden, "Starting a sync needs a session signed in with an admin token (`warden token create NAME --scope admin`).")
			return
		}
		conn := r.PostFormValue("connection")
		run, err := u.c.Syncs.Trigger(r.Context(), conn, s.token)
		if err != nil {
			u.fail(w, r, s, http.StatusConflict, "The sync of "+conn+" did not start: "+err.Error())
			return
		}
		http.Redirect(w, r, "/sync?started="+url.QueryEscape(run.ID), http.StatusSeeOther)
		return
	}
	d := syncData{Started: r.URL.Query().Get("started")}
	for _, st := range u.c.Syncs.Statuses() {
		row := syncRow{Status: st}
		row.History, _ = u.c.Syncs.Runs(st.Connection, 10)
		d.Running = d.Running || st.Running != nil
		d.Rows = append(d.Rows, row)
	}
	u.render(w, r, s, http.StatusOK, "sync.html", page{Title: "Sync", Data: d})
}
