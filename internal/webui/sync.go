package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

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
	// Subscribe sends every event of the connection's syncs until cancel
	// is called (the events the API's /api/v1/sync/{connection}/events
	// streams).
	Subscribe(connection string) (events <-chan schedule.Event, cancel func(), err error)
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
		run, err := u.c.Syncs.Trigger(context.WithoutCancel(r.Context()), conn, s.token)
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
	p := page{Title: "Sync", Data: d}
	if d.Running {
		p.Refresh = 2 // without JavaScript; live.js follows the events instead
	}
	name := "sync.html"
	if r.URL.Query().Get("fragment") == "1" {
		name = "syncrows"
	}
	u.render(w, r, s, http.StatusOK, name, p)
}

// streamFor is how long one event stream of the sync page lasts: the
// browser's EventSource then reconnects (and is sent the status again),
// so a stream never holds a shutting-down server past its grace.
const streamFor = 10 * time.Second

// Event names of the sync page's stream, as the API's: a run's start, its
// progress, its end; and status, every connection's state, first.
const (
	eventStatus   = "status"
	eventStart    = "start"
	eventProgress = "progress"
	eventEnd      = "end"
)

// eventName is the name of e in the stream.
func eventName(e schedule.Event) string {
	switch {
	case e.Run.Finished != nil:
		return eventEnd
	case e.Progress != nil:
		return eventProgress
	}
	return eventStart
}

// syncEvents is /sync/events: server-sent events of every connection's
// syncs (internal/schedule's Subscribe, the events of the API's stream),
// after a status event with every connection's state.
func (u *UI) syncEvents(w http.ResponseWriter, r *http.Request, s *session) {
	if u.c.Syncs == nil {
		http.Error(w, "this service runs no scheduler", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "follow the sync events with GET (an EventSource)", http.StatusMethodNotAllowed)
		return
	}
	merged := make(chan schedule.Event, 64)
	done := make(chan struct{})
	var cancels []func()
	defer func() {
		close(done)
		for _, c := range cancels {
			c()
		}
	}()
	for _, st := range u.c.Syncs.Statuses() {
		events, cancel, err := u.c.Syncs.Subscribe(st.Connection)
		if err != nil {
			http.Error(w, "the scheduler is stopping: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		cancels = append(cancels, cancel)
		go func() {
			for e := range events {
				select {
				case merged <- e:
				case <-done:
					return
				}
			}
		}()
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(streamFor + 5*time.Second))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(name string, v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// Subscribed first, then the state: nothing falls between the two.
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil || !send(eventStatus, u.c.Syncs.Statuses()) {
		return
	}
	end := time.NewTimer(streamFor)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case e := <-merged:
			if !send(eventName(e), e) {
				return
			}
		}
	}
}
