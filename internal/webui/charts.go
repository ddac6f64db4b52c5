package webui

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// findingsWait is how long a page waits for a snapshot's findings to be
// counted before it shows "being counted" (they go on being counted).
const findingsWait = 2 * time.Second

// chartSnapshots is how many of a connection's newest snapshots the
// overview's charts show.
const chartSnapshots = 30

// keptRows is how many snapshots' finding rows (not only counts) are kept.
const keptRows = 4

// snapFindings are one snapshot's findings: the rows (kept for the newest
// few) and the count of each rule.
type snapFindings struct {
	rows   []findingRow
	byRule map[string]int
}

// countKey names one count: a snapshot, and the time stale keys are
// judged at (the day, for a connection's latest snapshot; the snapshot's
// own time for older ones).
type countKey struct {
	snap int64
	at   time.Time
}

// findingsCache keeps each snapshot's findings: snapshots never change, so
// a count is made once (reading the whole snapshot, seconds on a large
// organization), in the background, one at a time.
type findingsCache struct {
	mu      sync.Mutex
	done    map[countKey]*snapFindings
	running map[countKey]chan struct{}
	work    sync.Mutex // one count at a time: they are CPU-bound
}

// latestDay is the time stale keys of a latest snapshot are judged at:
// the start of today (UTC), so that one count serves a whole day.
func (u *UI) latestDay() time.Time {
	return u.c.Now().UTC().Truncate(24 * time.Hour)
}

// findingsAt is the time stale keys of snap are judged at.
func findingsAt(snap *model.Snapshot, latest bool, day time.Time) time.Time {
	if latest {
		return day
	}
	if !snap.FinishedAt.IsZero() {
		return snap.FinishedAt.UTC()
	}
	return snap.StartedAt.UTC()
}

// get returns snap's findings at at, counting them when not yet counted
// and waiting at most wait; nil when they are still being counted.
func (c *findingsCache) get(u *UI, snap *model.Snapshot, at time.Time, wait time.Duration) *snapFindings {
	out := c.getAll(u, []*model.Snapshot{snap}, []time.Time{at}, wait)
	return out[0]
}

// getAll is get for several snapshots: the counts missing are made in
// order in the background; it waits at most wait for all of them.
func (c *findingsCache) getAll(u *UI, snaps []*model.Snapshot, ats []time.Time, wait time.Duration) []*snapFindings {
	out := make([]*snapFindings, len(snaps))
	var waits []chan struct{}
	c.mu.Lock()
	if c.done == nil {
		c.done, c.running = map[countKey]*snapFindings{}, map[countKey]chan struct{}{}
	}
	var todo []countKey
	for i, s := range snaps {
		k := countKey{s.ID, ats[i]}
		if f, ok := c.done[k]; ok {
			out[i] = f
			continue
		}
		ch, ok := c.running[k]
		if !ok {
			ch = make(chan struct{})
			c.running[k] = ch
			todo = append(todo, k)
		}
		waits = append(waits, ch)
	}
	c.mu.Unlock()
	if len(waits) == 0 {
		return out
	}
	if len(todo) > 0 {
		go c.count(u, todo)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-timer.C:
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range snaps {
		if out[i] == nil {
			out[i] = c.done[countKey{s.ID, ats[i]}]
		}
	}
	return out
}

// count makes the counts of keys, one after the other.
func (c *findingsCache) count(u *UI, keys []countKey) {
	c.work.Lock()
	defer c.work.Unlock()
	for _, k := range keys {
		f := &snapFindings{byRule: map[string]int{}}
		g, err := u.c.Store.Graph(context.Background(), k.snap)
		if err != nil {
			u.c.Logger.Error("web UI: counting findings failed", "snapshot", k.snap, "error", err)
		} else {
			f.rows = findingRows(g, k.at)
			for _, r := range f.rows {
				f.byRule[r.Rule]++
			}
		}
		c.mu.Lock()
		if err == nil {
			c.done[k] = f
			c.trim()
		}
		close(c.running[k])
		delete(c.running, k)
		c.mu.Unlock()
	}
}

// trim keeps the rows of the newest keptRows counts only.
func (c *findingsCache) trim() {
	var keys []countKey
	for k, f := range c.done {
		if f.rows != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) <= keptRows {
		return
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		if a.snap != b.snap {
			return int(b.snap - a.snap)
		}
		return b.at.Compare(a.at)
	})
	for _, k := range keys[keptRows:] {
		c.done[k].rows = nil
	}
}

// series is one line of the overview's charts.
type series struct {
	Key, Title string
	value      func(s *model.Snapshot, f *snapFindings) (int, bool)
}

var chartSeries = []series{
	{"principals", "Principals", func(s *model.Snapshot, _ *snapFindings) (int, bool) {
		return s.Counts[string(model.TypeIAMUser)] + s.Counts[string(model.TypeIAMRole)] + s.Counts[string(model.TypeSSOUser)], true
	}},
	{"administrators", "Administrators", func(_ *model.Snapshot, f *snapFindings) (int, bool) {
		if f == nil {
			return 0, false
		}
		return f.byRule["admins"] + f.byRule["sso-admins"], true
	}},
	{"stale-keys", "Stale access keys", func(_ *model.Snapshot, f *snapFindings) (int, bool) {
		if f == nil {
			return 0, false
		}
		return f.byRule["stale-keys"], true
	}},
	{"outside-trust", "Trust outside the account", func(_ *model.Snapshot, f *snapFindings) (int, bool) {
		if f == nil {
			return 0, false
		}
		return f.byRule["outside-trust"], true
	}},
}

// point is one snapshot's value of a chart.
type point struct {
	Snap  int64
	At    time.Time
	Value int
	Known bool
}

// chart is one series over a connection's snapshots, drawn and as rows.
type chart struct {
	Key, Title string
	Points     []point
	SVG        template.HTML
	Last       int
}

// charts draws each series over snaps (oldest first) with their findings.
func charts(conn string, snaps []model.Snapshot, fs []*snapFindings) []chart {
	out := make([]chart, 0, len(chartSeries))
	for _, sr := range chartSeries {
		c := chart{Key: sr.Key, Title: sr.Title}
		for i := range snaps {
			v, ok := sr.value(&snaps[i], fs[i])
			at := snaps[i].FinishedAt
			if at.IsZero() {
				at = snaps[i].StartedAt
			}
			c.Points = append(c.Points, point{Snap: snaps[i].ID, At: at, Value: v, Known: ok})
			if ok {
				c.Last = v
			}
		}
		c.SVG = lineChart(conn, c.Key, c.Title, c.Points)
		out = append(out, c)
	}
	return out
}

const (
	chartW, chartH = 280, 90
	chartPadL      = 34
	chartPadR      = 8
	chartPadT      = 8
	chartPadB      = 16
)

// lineChart draws points as a small SVG line chart with a title and a
// description (its text alternative); each point is a link to the
// changes of that snapshot.
func lineChart(conn, key, title string, pts []point) template.HTML {
	lo, hi, known := 0, 0, 0
	for _, p := range pts {
		if !p.Known {
			continue
		}
		if known == 0 || p.Value < lo {
			lo = p.Value
		}
		if known == 0 || p.Value > hi {
			hi = p.Value
		}
		known++
	}
	lo = min(lo, 0)
	if hi == lo {
		hi = lo + 1
	}
	plotW, plotH := chartW-chartPadL-chartPadR, chartH-chartPadT-chartPadB
	x := func(i int) float64 {
		if len(pts) == 1 {
			return float64(chartPadL + plotW/2)
		}
		return float64(chartPadL) + float64(i)*float64(plotW)/float64(len(pts)-1)
	}
	y := func(v int) float64 {
		return float64(chartPadT) + float64(plotH)*(1-float64(v-lo)/float64(hi-lo))
	}
	id := html.EscapeString("svg-" + conn + "-" + key)
	var desc string
	if known == 0 {
		desc = fmt.Sprintf("%s: not counted yet.", title)
	} else {
		first, last := -1, -1
		for i, p := range pts {
			if p.Known {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		desc = fmt.Sprintf("%s over %d snapshot(s): %d at snapshot %d, %d at snapshot %d (lowest %d, highest %d).",
			title, known, pts[first].Value, pts[first].Snap, pts[last].Value, pts[last].Snap, lo, hi)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="%s-t %s-d" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`,
		id, id, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, chartPadL, chartPadT+plotH, chartW-chartPadR, chartPadT+plotH)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%d</text>`, chartPadL-4, y(hi)+4, hi)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%d</text>`, chartPadL-4, y(lo), lo)
	var line []string
	for i, p := range pts {
		if p.Known {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
		}
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(line, " "))
	}
	for i, p := range pts {
		if !p.Known {
			continue
		}
		label := fmt.Sprintf("snapshot %d, %s: %d", p.Snap, p.At.UTC().Format("2006-01-02 15:04"), p.Value)
		prev := int64(0)
		if i > 0 {
			prev = pts[i-1].Snap
		}
		if prev != 0 {
			fmt.Fprintf(&b, `<a href="%s">`, html.EscapeString(fmt.Sprintf("/changes?c=%s&from=%d&to=%d", urlQueryEscape(conn), prev, p.Snap)))
		}
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3"><title>%s</title></circle>`, x(i), y(p.Value), html.EscapeString(label))
		if prev != 0 {
			b.WriteString(`</a>`)
		}
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, chartPadL, chartH-3, pts[0].At.UTC().Format("01-02"))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-chartPadR, chartH-3, pts[len(pts)-1].At.UTC().Format("01-02"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every value above is escaped or a number
}
