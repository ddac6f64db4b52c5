package webui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

// activityPageSize is how many principals one page of /activity shows;
// the downloads have them all.
var activityPageSize = 200

// activityCacheTTL is how long a report is reused for paging and the
// downloads (its window is relative to now).
const activityCacheTTL = time.Minute

// activityCache keeps the last report.
type activityCache struct {
	mu  sync.Mutex
	key string
	at  time.Time
	rep *access.ActivityReport
	// read is whether the connection ever read CloudTrail.
	read bool
	// tables are the report's CLI tables, known its principals by ID,
	// made once for every page.
	tables []*render.Table
	known  map[string]access.PrincipalActivity
}

// activityReport is one report, laid out.
type activityReport struct {
	rep    *access.ActivityReport
	read   bool
	tables []*render.Table
	known  map[string]access.PrincipalActivity
}

// activityRow is one principal's last activity: the CLI's cells, with the
// principal's page.
type activityRow struct {
	Cells []string
	Href  string
	ID    string
	Never bool
}

// roleUseRow is one role-use edge: the CLI's cells, with the pages of the
// role and of the principal that assumed it (when they are in the
// snapshot).
type roleUseRow struct {
	Cells                 []string
	RoleHref, AssumerHref string
	RoleName, AssumerName string
}

// activityData is the /activity page.
type activityData struct {
	Conn     string
	Snap     *model.Snapshot
	Account  string
	Since    string
	Accounts []string
	Bad      *inputProblem
	Report   *access.ActivityReport
	// Read is false when the connection has never read CloudTrail: only
	// the credential report and RoleLastUsed are shown.
	Read        bool
	Header      []string
	Rows        []activityRow
	UseHeader   []string
	Uses        []roleUseRow
	Seen, Never int
	Page, Pages int
	From, To    int
	PrevURL     string
	NextURL     string
	CSVURL      string
	JSONURL     string
	UsesCSVURL  string
}

func (d *activityData) query(path string, page int) string {
	v := url.Values{"c": {d.Conn}, "since": {d.Since}}
	if d.Account != "" {
		v.Set("account", d.Account)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return path + "?" + v.Encode()
}

// activityPage serves /activity (format ""), /activity.csv (the last
// activity table), /activity-roles.csv (the role-use table) and
// /activity.json (`warden show activity -o json`).
func (u *UI) activityPage(w http.ResponseWriter, r *http.Request, s *session, format string) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	q := r.URL.Query()
	d := &activityData{Conn: conn, Snap: snap, Account: strings.TrimSpace(q.Get("account")), Since: strings.TrimSpace(q.Get("since"))}
	if d.Since == "" {
		d.Since = "90d"
	}
	if d.Accounts, err = u.accountIDs(r.Context(), snap.ID); err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The accounts could not be read: "+err.Error())
		return
	}
	bad := func(p *inputProblem) {
		if format != "" {
			http.Error(w, p.Problem+": "+p.Fix, http.StatusBadRequest)
			return
		}
		d.Bad = p
		u.render(w, r, s, http.StatusBadRequest, "activity.html", page{Title: "Activity", Data: d})
	}
	age, err := config.ParseAge(d.Since)
	if err != nil || age <= 0 {
		bad(&inputProblem{Problem: fmt.Sprintf("since %q is not an age", d.Since), Fix: "give an age such as 30d, 12h or 2w (CloudTrail keeps 90 days)"})
		return
	}
	if d.Account != "" && !model.IsAccountID(d.Account) {
		bad(&inputProblem{Problem: fmt.Sprintf("account %q is not an account id", d.Account), Fix: "give the 12-digit account id, or pick one"})
		return
	}
	pg := 1
	if v := q.Get("page"); v != "" {
		if pg, err = strconv.Atoi(v); err != nil || pg < 1 {
			bad(&inputProblem{Problem: fmt.Sprintf("page %q is not a page number", v), Fix: "give a page number from 1, or follow the page links"})
			return
		}
	}
	ar, err := u.activityReport(r, conn, snap, d.Account, d.Since, age)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The activity could not be read: "+err.Error())
		return
	}
	rep, read, tables, known := ar.rep, ar.read, ar.tables, ar.known
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="activity.json"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = render.JSON(w, rep)
		return
	case "csv", "roles.csv":
		t := tables[0]
		name := "activity.csv"
		if format == "roles.csv" {
			t, name = tables[1], "activity-roles.csv"
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		_ = cw.Write(t.Header)
		_ = cw.WriteAll(t.Rows)
		return
	}
	d.Report, d.Read = rep, read
	d.Header, d.UseHeader = tables[0].Header, tables[1].Header
	for _, p := range rep.Principals {
		if p.Last == nil {
			d.Never++
		} else {
			d.Seen++
		}
	}
	n := len(rep.Principals)
	d.Pages = max(1, (n+activityPageSize-1)/activityPageSize)
	if pg > d.Pages {
		bad(&inputProblem{Problem: fmt.Sprintf("page %d is past the last page, %d", pg, d.Pages), Fix: "follow the page links"})
		return
	}
	d.Page = pg
	lo, hi := (pg-1)*activityPageSize, min(n, pg*activityPageSize)
	d.From, d.To = lo+1, hi
	if pg > 1 {
		d.PrevURL = d.query("/activity", pg-1)
	}
	if pg < d.Pages {
		d.NextURL = d.query("/activity", pg+1)
	}
	d.CSVURL, d.JSONURL, d.UsesCSVURL = d.query("/activity.csv", 1), d.query("/activity.json", 1), d.query("/activity-roles.csv", 1)
	for i := lo; i < hi; i++ {
		p := rep.Principals[i]
		d.Rows = append(d.Rows, activityRow{Cells: tables[0].Rows[i], Href: href(conn, p.Type, p.ID, p.AccountID), ID: p.ID, Never: p.Last == nil})
	}
	for i, ru := range rep.RoleUses {
		row := roleUseRow{Cells: tables[1].Rows[i], RoleName: ru.Role, AssumerName: ru.Principal}
		if p, ok := known[ru.Role]; ok {
			row.RoleHref, row.RoleName = href(conn, p.Type, p.ID, p.AccountID), p.Name
		}
		if p, ok := known[ru.Principal]; ok {
			row.AssumerHref, row.AssumerName = href(conn, p.Type, p.ID, p.AccountID), p.Name
		}
		d.Uses = append(d.Uses, row)
	}
	u.render(w, r, s, http.StatusOK, "activity.html", page{Title: "Activity", Data: d})
}

// activityReport is `warden show activity`'s report for the connection's
// latest snapshot, reused for a minute for paging and the downloads.
func (u *UI) activityReport(r *http.Request, conn string, snap *model.Snapshot, account, since string, age time.Duration) (activityReport, error) {
	key := strings.Join([]string{conn, strconv.FormatInt(snap.ID, 10), account, since}, "\x00")
	now := u.c.Now()
	c := &u.actCache
	c.mu.Lock()
	if c.key == key && now.Sub(c.at) < activityCacheTTL {
		ar := activityReport{c.rep, c.read, c.tables, c.known}
		c.mu.Unlock()
		return ar, nil
	}
	c.mu.Unlock()
	ctx := r.Context()
	g, err := u.c.Store.Subgraph(ctx, snap.ID, access.ActivityPart, "")
	if err != nil {
		return activityReport{}, err
	}
	from := now.Add(-age)
	events, read, err := access.StoredActivity(ctx, u.c.Store, conn, from)
	if err != nil {
		return activityReport{}, err
	}
	rep := access.Activity(g, events, account, from)
	ar := activityReport{rep: rep, read: read, tables: render.ActivityTables(rep), known: make(map[string]access.PrincipalActivity, len(rep.Principals))}
	for _, p := range rep.Principals {
		ar.known[p.ID] = p
	}
	c.mu.Lock()
	c.key, c.at, c.rep, c.read, c.tables, c.known = key, now, ar.rep, ar.read, ar.tables, ar.known
	c.mu.Unlock()
	return ar, nil
}
