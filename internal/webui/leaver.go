package webui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/setup"
	"github.com/warden-iam/warden/internal/store"
)

// Provisioning plans and applies provisioning actions on the connections
// of warden.yaml (*server.Provisioning is one): the same planning,
// applying, audit and refresh as `warden apply` and the API's apply.
type Provisioning interface {
	// Plan plans actions on the connection from AWS's live state.
	Plan(ctx context.Context, connection string, actions []provision.Action) ([]*provision.Plan, error)
	// Apply plans, applies and audits actions as actor, then refreshes
	// the snapshot; on a failure part way the result holds what was done.
	Apply(ctx context.Context, connection string, actions []provision.Action, actor string) (*provision.RunResult, error)
}

// leaverKinds are what the leaver flow may do to an IAM user.
var leaverKinds = []provision.Kind{provision.DeleteUser, provision.DeactivateUser}

// applyTimeout bounds one leaver run (DeleteUser retries take a minute at most).
const applyTimeout = 15 * time.Minute

// leaverRun is one apply of the leaver flow, followed on /leaver/run.
type leaverRun struct {
	ID       string
	Conn     string
	Actor    string
	User     model.Resource // the user as the snapshot had it
	Kind     provision.Kind
	Plans    []*provision.Plan
	Started  time.Time
	PrevSnap int64 // the connection's latest snapshot when the run began
	baseline int64 // the newest audit record of the connection before the run
	target   string

	mu       sync.Mutex
	done     bool
	upto     int64 // the newest audit record once the run ended
	finished time.Time
	res      *provision.RunResult
	err      error
}

// leaverRuns are the runs of this process, the last maxRuns of them.
type leaverRuns struct {
	mu    sync.Mutex
	byID  map[string]*leaverRun
	order []string
}

const maxRuns = 100

func (lr *leaverRuns) add(run *leaverRun) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.byID == nil {
		lr.byID = map[string]*leaverRun{}
	}
	lr.byID[run.ID] = run
	lr.order = append(lr.order, run.ID)
	for len(lr.order) > maxRuns {
		delete(lr.byID, lr.order[0])
		lr.order = lr.order[1:]
	}
}

func (lr *leaverRuns) get(id string) *leaverRun {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.byID[id]
}

// fingerprint identifies a set of plans: the confirmation names it, so a
// plan that changed since it was shown is not applied unseen.
func fingerprint(plans []*provision.Plan) string {
	b, err := json.Marshal(plans)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// leaverData is the leaver page: the user, the plan and its confirmation.
type leaverData struct {
	Conn        string
	Query       string
	Kinds       []provision.Kind
	Kind        provision.Kind
	User        *model.Resource
	Matches     []model.Resource
	Plans       []*provision.Plan
	Calls       int
	Fingerprint string
	Changed     bool // the confirmation named an older plan
}

// needAdmin answers 403 to a session that may not provision.
func (u *UI) needAdmin(w http.ResponseWriter, r *http.Request, s *session) bool {
	if s.admin() {
		return true
	}
	u.fail(w, r, s, http.StatusForbidden, "The leaver flow needs a session signed in with an admin token (`warden token create NAME --scope admin`).")
	return false
}

// leaver is /leaver: GET picks the user and shows the plan; POST confirms
// it and starts the run.
func (u *UI) leaver(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.needAdmin(w, r, s) {
		return
	}
	if u.c.Provisioning == nil {
		u.fail(w, r, s, http.StatusServiceUnavailable, "This service does not provision: the leaver flow runs under `warden serve`.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET to see a plan, POST to confirm it", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			u.fail(w, r, s, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return
		}
		q = r.PostForm
	}
	conn := q.Get("c")
	if conn == "" {
		ids, err := u.connectionIDs(r)
		if err != nil || len(ids) == 0 {
			u.fail(w, r, s, http.StatusNotFound, "There is no connection yet: add one to warden.yaml and sync it.")
			return
		}
		conn = ids[0]
	}
	snap, err := u.c.Store.LatestSnapshot(r.Context(), conn)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, "Connection "+conn+" has no snapshot yet: sync it first.")
		return
	}
	d := leaverData{Conn: conn, Kinds: leaverKinds, Kind: provision.DeleteUser, Query: strings.TrimSpace(q.Get("user"))}
	if k := provision.Kind(q.Get("kind")); k != "" {
		ok := false
		for _, lk := range leaverKinds {
			ok = ok || lk == k
		}
		if !ok {
			u.fail(w, r, s, http.StatusBadRequest, "The leaver flow deletes or deactivates an IAM user: kind is delete-user or deactivate-user.")
			return
		}
		d.Kind = k
	}
	// The user: by its id in the snapshot, or by name.
	switch id := q.Get("id"); {
	case id != "":
		res, err := u.c.Store.Resource(r.Context(), snap.ID, id)
		if err != nil || res.Type != model.TypeIAMUser {
			u.fail(w, r, s, http.StatusNotFound, "Snapshot "+itoa(snap.ID)+" of connection "+conn+" has no IAM user "+id+": pick one on /leaver.")
			return
		}
		d.User = res
	case d.Query != "":
		users, err := u.c.Store.Resources(r.Context(), snap.ID, store.ResourceFilter{Type: model.TypeIAMUser})
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
		for _, x := range users {
			if strings.EqualFold(x.Name, d.Query) {
				d.Matches = append(d.Matches, x)
			}
		}
		if len(d.Matches) == 1 {
			d.User = &d.Matches[0]
		}
	}
	if d.User == nil {
		status := http.StatusOK
		if d.Query != "" {
			status = http.StatusNotFound
		}
		u.render(w, r, s, status, "leaver.html", page{Title: "Leaver", Data: d})
		return
	}
	actions := []provision.Action{{Kind: d.Kind, User: d.User.Name}}
	plans, err := u.c.Provisioning.Plan(r.Context(), conn, actions)
	if err != nil {
		u.fail(w, r, s, http.StatusBadGateway, "The plan failed; nothing was changed: "+err.Error()+" — "+planFix(err))
		return
	}
	// warden provisions in the account of the connection's credentials:
	// a user of another account is not the one this plan would touch.
	if want := " in account " + d.User.AccountID; len(plans) != 1 || !strings.HasSuffix(plans[0].Target, want) {
		u.fail(w, r, s, http.StatusConflict, "IAM user "+d.User.Name+" is in account "+d.User.AccountID+", but this connection provisions in another account ("+
			targetOf(plans)+"): offboard it through a connection whose credentials are in account "+d.User.AccountID+". Nothing was changed.")
		return
	}
	d.Plans, d.Fingerprint = plans, fingerprint(plans)
	for _, pl := range plans {
		d.Calls += len(pl.Steps)
	}
	if r.Method != http.MethodPost {
		u.render(w, r, s, http.StatusOK, "leaver.html", page{Title: "Leaver: " + d.User.Name, Data: d})
		return
	}
	if q.Get("plan") != d.Fingerprint {
		d.Changed = true
		u.render(w, r, s, http.StatusConflict, "leaver.html", page{Title: "Leaver: " + d.User.Name, Data: d})
		return
	}
	run := &leaverRun{ID: random()[:22], Conn: conn, Actor: s.token, User: *d.User, Kind: d.Kind, Plans: plans,
		Started: u.c.Now(), PrevSnap: snap.ID, target: plans[0].Target}
	if recs, err := u.c.Store.Audit(r.Context(), conn, 1); err == nil && len(recs) > 0 {
		run.baseline = recs[0].ID
	} else if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The audit log could not be read, so nothing was applied: "+err.Error())
		return
	}
	u.runs.add(run)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), applyTimeout)
		defer cancel()
		res, err := u.c.Provisioning.Apply(ctx, conn, actions, run.Actor)
		upto := int64(math.MaxInt64)
		if recs, aerr := u.c.Store.Audit(ctx, conn, 1); aerr == nil && len(recs) > 0 {
			upto = recs[0].ID
		}
		run.mu.Lock()
		run.done, run.upto, run.finished, run.res, run.err = true, upto, u.c.Now(), res, err
		run.mu.Unlock()
		if err != nil {
			u.c.Logger.Warn("web UI leaver run failed", "connection", conn, "user", run.User.Name, "actor", run.Actor, "error", err)
		}
	}()
	http.Redirect(w, r, "/leaver/run?id="+url.QueryEscape(run.ID), http.StatusSeeOther)
}

// targetOf names what plans would act on.
func targetOf(plans []*provision.Plan) string {
	if len(plans) == 0 {
		return "no plan"
	}
	return plans[0].Target
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// planFix is the fix of an error of planning or applying.
func planFix(err error) string {
	if action, who, ok := awsapi.Denied(err); ok {
		if who == "" {
			who = "the identity warden runs as"
		}
		return "AWS denied " + action + " to " + who + ": " + awsapi.DeniedFix(action, who, setup.ModeProvision)
	}
	var re *provision.RunError
	if errors.As(err, &re) && re.Stage == provision.StageApply {
		return "correct the cause named, then run the leaver flow for this user again: the plan is recomputed from AWS and makes only the calls still needed"
	}
	return "check the connection's credentials and AWS, then try again"
}

// stepRow is one call of a run: planned, in flight or done.
type stepRow struct {
	N      int
	Call   string
	Params map[string]string
	Result string // pending, started, ok, failed, no-op
	Detail string
	ReqID  string
}

// refreshedRow is a snapshot a run's refresh wrote.
type refreshedRow struct {
	Snapshot int64
	Err      string
	Present  bool // the user is still in it
}

// leaverRunData is the progress of a run.
type leaverRunData struct {
	Run       *leaverRun
	Steps     []stepRow
	Done      bool
	OK        bool
	Finished  time.Time
	Failed    *provision.Failure
	Error     string
	Fix       string
	Refreshed []refreshedRow
}

// leaverRunPage is /leaver/run?id=: the calls as they complete (from the
// audit log), then the result and the refreshed snapshot.
func (u *UI) leaverRunPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.needAdmin(w, r, s) {
		return
	}
	run := u.runs.get(r.URL.Query().Get("id"))
	if run == nil {
		u.fail(w, r, s, http.StatusNotFound, "There is no such leaver run on this replica (runs are kept in memory): the audit log (/audit) has every call.")
		return
	}
	d, err := u.runData(r.Context(), run)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The audit log could not be read: "+err.Error())
		return
	}
	name := "leaver_run.html"
	if r.URL.Query().Get("fragment") == "1" {
		name = "leaverprogress"
	}
	p := page{Title: "Leaver run: " + run.User.Name, Data: d}
	if !d.Done {
		p.Refresh = 2
	}
	u.render(w, r, s, http.StatusOK, name, p)
}

func (u *UI) runData(ctx context.Context, run *leaverRun) (leaverRunData, error) {
	run.mu.Lock()
	d := leaverRunData{Run: run, Done: run.done, Finished: run.finished}
	res, runErr, upto := run.res, run.err, run.upto
	if !d.Done {
		upto = math.MaxInt64
	}
	run.mu.Unlock()
	// The calls made so far, oldest first: the audit log records each
	// before it is made and completes it once AWS answered. The run's are
	// its actor's, of its action and target, written while it ran.
	recs, err := u.c.Store.Audit(ctx, run.Conn, 1000)
	if err != nil {
		return d, err
	}
	var calls []store.AuditRecord
	for i := len(recs) - 1; i >= 0; i-- {
		if rec := recs[i]; rec.ID > run.baseline && rec.ID <= upto && rec.Actor == run.Actor && rec.Action == string(run.Kind) && rec.Target == run.target {
			calls = append(calls, rec)
		}
	}
	var planned []provision.Step
	for _, pl := range run.Plans {
		planned = append(planned, pl.Steps...)
	}
	for i := 0; i < len(planned) || i < len(calls); i++ {
		row := stepRow{N: i + 1, Result: "pending"}
		if i < len(planned) {
			row.Call, row.Params = planned[i].Call, planned[i].Params
		}
		if i < len(calls) {
			c := calls[i]
			row.Call, row.Params, row.Result, row.Detail, row.ReqID = c.Call, c.Params, c.Result, c.Detail, c.RequestID
		}
		d.Steps = append(d.Steps, row)
	}
	if !d.Done {
		return d, nil
	}
	d.OK = runErr == nil
	if runErr != nil {
		d.Error, d.Fix = runErr.Error(), planFix(runErr)
	}
	if res != nil {
		for _, rr := range res.Results {
			if rr != nil && rr.Failed != nil {
				d.Failed = rr.Failed
			}
		}
		for _, rf := range res.Refreshed {
			row := refreshedRow{Snapshot: rf.Snapshot}
			if rf.Err != nil {
				row.Err = rf.Err.Error()
			} else if _, err := u.c.Store.Resource(ctx, rf.Snapshot, run.User.ID); err == nil {
				row.Present = true
			} else if !errors.Is(err, store.ErrNotFound) {
				return d, err
			}
			d.Refreshed = append(d.Refreshed, row)
		}
	}
	return d, nil
}

func init() {
	funcs["inc"] = func(i int) int { return i + 1 }
}
