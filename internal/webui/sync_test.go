package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/schedule"
)

// TestSyncEventsStream: /sync/events streams, after a status event, the
// scheduler's start, progress and end events of a sync started by Sync
// now (as the API's stream names them), the end naming the snapshot the
// store has; and the sync page refreshes by itself without JavaScript
// while the sync runs.
func TestSyncEventsStream(t *testing.T) {
	s := newStack(t, small)
	c := client(t)
	signIn(t, c, s.http.URL, adminToken(t, s, "ops-admin"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.http.URL+"/sync/events", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/sync/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	type event struct {
		name string
		data string
	}
	events := make(chan event, 256)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.name != "":
				events <- e
				e = event{}
			}
		}
	}()
	first := <-events
	var statuses []schedule.Status
	if first.name != "status" || json.Unmarshal([]byte(first.data), &statuses) != nil || len(statuses) != 1 || statuses[0].Connection != "prod" || statuses[0].Running != nil {
		t.Fatalf("first event %+v, want the status of idle prod", first)
	}
	code, _ := post(t, c, s.http.URL+"/sync", url.Values{"csrf": {csrfOf(t, c, s.http.URL+"/sync")}, "connection": {"prod"}})
	if code != 200 {
		t.Fatalf("sync now: %d", code)
	}
	// While it runs, the page (without JavaScript) refreshes itself.
	if _, body, _ := get(t, c, s.http.URL+"/sync"); strings.Contains(body, `data-running=""`) {
		t.Log("the sync ended before the page was read; the refresh is not checked")
	} else if !strings.Contains(body, `<noscript><meta http-equiv="refresh" content="2"></noscript>`) {
		t.Error("the sync page of a running sync does not refresh without JavaScript")
	}
	var names []string
	var end schedule.Event
	for e := range events {
		var ev schedule.Event
		if err := json.Unmarshal([]byte(e.data), &ev); err != nil || ev.Run.Connection != "prod" {
			t.Fatalf("event %s: %s (%v)", e.name, e.data, err)
		}
		if want := eventName(ev); e.name != want {
			t.Errorf("event named %s holds a %s", e.name, want)
		}
		names = append(names, e.name)
		if e.name == "end" {
			end = ev
			break
		}
	}
	if len(names) < 3 || names[0] != "start" || names[1] != "progress" || names[len(names)-1] != "end" {
		t.Fatalf("events %v, want start, progress…, end", names)
	}
	latest, err := s.st.LatestSnapshot(context.Background(), "prod")
	if err != nil || end.Run.SnapshotID != latest.ID || latest.ID != s.snap+1 || end.Run.Actor != "ops-admin" {
		t.Errorf("end %+v; the store's latest snapshot %v (%v), want %d", end.Run, latest, err, s.snap+1)
	}
}
