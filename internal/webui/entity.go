package webui

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// holdersPerPage bounds the holders one policy or permission set page
// lists (AdministratorAccess of a large organization has thousands).
const holdersPerPage = 100

// href is the page of a resource of connection conn: /account, /policy,
// /permission-set, /principal or /asset; "" for a kind without a page (an OU, an
// access key).
func href(conn string, t model.ResourceType, id, account string) string {
	c := url.QueryEscape(conn)
	switch t {
	case model.TypeAccount:
		if account == "" {
			account = strings.TrimPrefix(id, model.AccountResourceID(""))
		}
		return "/account?c=" + c + "&id=" + url.QueryEscape(account)
	case model.TypeIAMPolicy, model.TypeInlinePolicy, model.TypeSCP:
		return "/policy?c=" + c + "&arn=" + url.QueryEscape(id)
	case model.TypePermissionSet:
		return "/permission-set?c=" + c + "&arn=" + url.QueryEscape(id)
	case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeSSOUser, model.TypeSSOGroup:
		return "/principal?c=" + c + "&id=" + url.QueryEscape(id)
	case model.TypeEC2Instance, model.TypeSecurityGroup, model.TypeS3Bucket, model.TypeKMSKey, model.TypeLambdaFunction, model.TypeSecret:
		return "/asset?c=" + c + "&id=" + url.QueryEscape(id)
	}
	return ""
}

// holderRow is one holder of a policy or permission set, and through what.
type holderRow struct {
	Principal access.Ref
	AccountID string
	// How is the provenance; Via the group (or permission set) it comes
	// through, when there is one.
	How string
	Via *access.Ref
	// PermissionSet is set for a role Identity Center made for a
	// permission set (AWSReservedSSO_…).
	PermissionSet *access.Ref
}

// holdersView is one page of holders with the count of each way.
type holdersView struct {
	Rows        []holderRow
	Total       int
	Page, Pages int
	ByHow       []kv
	PrevURL     string
	NextURL     string
}

// statementRow is one statement of a policy document, for the table.
type statementRow struct {
	Sid, Effect                              string
	Action, NotAction, Resource, NotResource []string
	Principal, NotPrincipal, Condition       []string
}

// docView is a policy document: its statements as rows and the indented
// JSON; Err when it does not parse.
type docView struct {
	Statements []statementRow
	JSON       string
	Err        string
}

func newDocView(doc string) docView {
	if strings.TrimSpace(doc) == "" {
		return docView{Err: "no document was read"}
	}
	var v docView
	var b bytes.Buffer
	if json.Indent(&b, []byte(doc), "", "  ") == nil {
		v.JSON = b.String()
	} else {
		v.JSON = doc
	}
	d, err := policy.Parse(doc)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	for i, s := range d.Statement {
		row := statementRow{Sid: s.Sid, Effect: s.Effect, Action: s.Action, NotAction: s.NotAction, Resource: s.Resource,
			NotResource: s.NotResource, Principal: principalLines(s.Principal), NotPrincipal: principalLines(s.NotPrincipal)}
		if row.Sid == "" {
			row.Sid = "#" + strconv.Itoa(i+1)
		}
		for _, op := range sortedKeys(s.Condition) {
			for _, k := range sortedKeys(s.Condition[op]) {
				row.Condition = append(row.Condition, op+" "+k+" = "+strings.Join(s.Condition[op][k], ", "))
			}
		}
		v.Statements = append(v.Statements, row)
	}
	return v
}

func principalLines(p map[string][]string) []string {
	var out []string
	for _, k := range sortedKeys(p) {
		if k == "*" {
			out = append(out, "* (anyone)")
			continue
		}
		out = append(out, k+": "+strings.Join(p[k], ", "))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// entityBase is what the policy, permission set and account pages share.
type entityBase struct {
	Conn     string
	Snap     *model.Snapshot
	Resource *model.Resource
}

// policyData is the policy page: a managed policy, an inline policy or a
// service control policy.
type policyData struct {
	entityBase
	Kind    string
	Admin   bool
	Doc     docView
	Holders *holdersView
	Owner   *model.Resource // an inline policy's user, group or role
	// Targets are an SCP's root, OUs and accounts.
	Targets []access.Ref
	// PermissionSets are those that include the managed policy.
	PermissionSets []access.Ref
}

// resource reads the resource the request names by param in the latest
// snapshot; it answers the error page itself and returns nil when it
// cannot.
func (u *UI) resource(w http.ResponseWriter, r *http.Request, s *session, param, usage string) (entityBase, bool) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return entityBase{}, false
	}
	id := strings.TrimSpace(r.URL.Query().Get(param))
	if id == "" {
		u.fail(w, r, s, http.StatusBadRequest, "Name it: "+usage+", or use Search.")
		return entityBase{}, false
	}
	if param == "id" && model.IsAccountID(id) {
		id = model.AccountResourceID(id)
	}
	res, err := u.c.Store.Resource(r.Context(), snap.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, s, http.StatusNotFound, "Connection "+conn+" has no "+strings.TrimPrefix(strings.SplitN(usage, "?", 2)[0], "/")+" "+id+" in snapshot "+strconv.FormatInt(snap.ID, 10)+".")
		return entityBase{}, false
	}
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return entityBase{}, false
	}
	return entityBase{Conn: conn, Snap: snap, Resource: res}, true
}

func (u *UI) policyPage(w http.ResponseWriter, r *http.Request, s *session) {
	// A permission set's inline policy has no resource of its own.
	if arn := r.URL.Query().Get("arn"); strings.HasSuffix(arn, "/inline") && strings.Contains(arn, ":permissionSet/") {
		http.Redirect(w, r, href(r.URL.Query().Get("c"), model.TypePermissionSet, strings.TrimSuffix(arn, "/inline"), ""), http.StatusSeeOther)
		return
	}
	b, ok := u.resource(w, r, s, "arn", "/policy?c=CONNECTION&arn=ARN")
	if !ok {
		return
	}
	ctx, res := r.Context(), b.Resource
	d := policyData{entityBase: b, Doc: newDocView(findings.Document(res))}
	switch res.Type {
	case model.TypeIAMPolicy:
		d.Kind = "customer managed policy"
		if res.Policy != nil && res.Policy.AWSManaged {
			d.Kind = "AWS managed policy"
		}
	case model.TypeInlinePolicy:
		d.Kind = "inline policy"
		if res.ParentID != "" {
			if o, err := u.c.Store.Resource(ctx, b.Snap.ID, res.ParentID); err == nil {
				d.Owner = o
			}
		}
	case model.TypeSCP:
		d.Kind = "service control policy"
		if res.SCP != nil {
			d.Doc = newDocView(res.SCP.Document)
		}
		hs, err := u.c.Store.HoldersOf(ctx, b.Snap.ID, model.EntitlementID(res.ID, model.EntAttached))
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
		for _, h := range hs {
			if h.Principal != nil {
				d.Targets = append(d.Targets, access.Ref{ID: h.Principal.ID, Type: h.Principal.Type, Name: h.Principal.Name, AccountID: h.Principal.AccountID})
			}
		}
		slices.SortFunc(d.Targets, func(a, b access.Ref) int { return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name)) })
		u.render(w, r, s, http.StatusOK, "policy.html", page{Title: res.Name, Data: d})
		return
	default:
		u.fail(w, r, s, http.StatusNotFound, res.Name+" is a "+string(res.Type)+", not a policy.")
		return
	}
	d.Admin = policy.IsAdmin(findings.Document(res))
	pss, err := u.c.Store.Resources(ctx, b.Snap.ID, store.ResourceFilter{Type: model.TypePermissionSet})
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return
	}
	if res.Type == model.TypeIAMPolicy {
		for _, ps := range pss {
			if a := ps.PermissionSet; a != nil && (slices.Contains(a.ManagedPolicies, res.ID) || customerRefMatches(a.CustomerManagedPolicies, res)) {
				d.PermissionSets = append(d.PermissionSets, refOf(&ps))
			}
		}
	}
	hv, err := u.holders(r, b, res, pss)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The holders could not be read: "+err.Error())
		return
	}
	d.Holders = hv
	u.render(w, r, s, http.StatusOK, "policy.html", page{Title: res.Name, Data: d})
}

// customerRefMatches reports whether a permission set's customer managed
// policy references ("/path/name", or "name") name the policy res.
func customerRefMatches(refs []string, res *model.Resource) bool {
	path := res.Path
	if path == "" {
		path = "/"
	}
	for _, ref := range refs {
		if ref == path+res.Name || ref == res.Name || "/"+ref == path+res.Name {
			return true
		}
	}
	return false
}

func refOf(r *model.Resource) access.Ref {
	return access.Ref{ID: r.ID, Type: r.Type, Name: r.Name, AccountID: r.AccountID}
}

// holdersCache keeps the holders of the policies and permission sets last
// shown: a snapshot never changes, and paging through AdministratorAccess's
// thousands of holders should read them once.
type holdersCache struct {
	mu sync.Mutex
	m  map[holdersKey]*access.Holders
}

type holdersKey struct {
	snap int64
	id   string
}

// maxCachedHolders bounds the cache; past it, it starts again empty.
const maxCachedHolders = 64

func (c *holdersCache) get(ctx context.Context, u *UI, snap int64, res *model.Resource) (*access.Holders, error) {
	k := holdersKey{snap, res.ID}
	c.mu.Lock()
	h, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := access.HoldersOf(ctx, u.c.Store, snap, res)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedHolders {
		c.m = map[holdersKey]*access.Holders{}
	}
	c.m[k] = h
	c.mu.Unlock()
	return h, nil
}

// holders is one page (page=) of access.HoldersOf for res, with the count
// of each way it is held.
func (u *UI) holders(r *http.Request, b entityBase, res *model.Resource, permissionSets []model.Resource) (*holdersView, error) {
	h, err := u.hcache.get(r.Context(), u, b.Snap.ID, res)
	if err != nil {
		return nil, err
	}
	psByName := map[string]access.Ref{}
	for i := range permissionSets {
		psByName[permissionSets[i].Name] = refOf(&permissionSets[i])
	}
	hv := &holdersView{Total: len(h.Holders), Page: 1}
	hv.Pages = max(1, (hv.Total+holdersPerPage-1)/holdersPerPage)
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n >= 1 {
		hv.Page = min(n, hv.Pages)
	}
	byHow := map[string]int{}
	for _, x := range h.Holders {
		byHow[how(x.Provenance)]++
	}
	for _, k := range sortedKeys(byHow) {
		hv.ByHow = append(hv.ByHow, kv{k, byHow[k]})
	}
	lo, hi := (hv.Page-1)*holdersPerPage, min(hv.Page*holdersPerPage, hv.Total)
	for _, x := range h.Holders[lo:hi] {
		row := holderRow{Principal: x.Principal, AccountID: x.AccountID, How: how(x.Provenance)}
		if x.ViaID != "" && x.Provenance == model.ViaGroup {
			t := model.TypeIAMGroup
			if res.Type == model.TypePermissionSet {
				t = model.TypeSSOGroup
			}
			row.Via = &access.Ref{ID: x.ViaID, Type: t, Name: cmp.Or(x.ViaName, x.ViaID)}
		}
		if x.Principal.Type == model.TypeIAMRole {
			if name, ok := model.ReservedRolePermissionSet(x.Principal.Name); ok {
				if ps, ok := psByName[name]; ok {
					row.PermissionSet = &ps
				} else {
					row.PermissionSet = &access.Ref{Name: name}
				}
			}
		}
		if row.Principal.Name == "" {
			row.Principal.Name = x.Principal.ID
		}
		hv.Rows = append(hv.Rows, row)
	}
	q := r.URL.Query()
	if hv.Page > 1 {
		q.Set("page", strconv.Itoa(hv.Page-1))
		hv.PrevURL = r.URL.Path + "?" + q.Encode()
	}
	if hv.Page < hv.Pages {
		q.Set("page", strconv.Itoa(hv.Page+1))
		hv.NextURL = r.URL.Path + "?" + q.Encode()
	}
	return hv, nil
}

// how names a provenance in a holders table.
func how(p model.Provenance) string {
	switch p {
	case model.ViaDirect:
		return "attached directly"
	case model.ViaGroup:
		return "through a group"
	case model.ViaInline:
		return "inline"
	case model.ViaSSO:
		return "assigned directly"
	}
	return string(p)
}

// permSetData is the permission set page.
type permSetData struct {
	entityBase
	Holders *holdersView
	Inline  *docView
	// Managed are its AWS managed policies, linked when the snapshot has
	// them.
	Managed  []access.Ref
	Customer []string
	Accounts []access.Ref // provisioned to
}

func (u *UI) permissionSetPage(w http.ResponseWriter, r *http.Request, s *session) {
	b, ok := u.resource(w, r, s, "arn", "/permission-set?c=CONNECTION&arn=ARN")
	if !ok {
		return
	}
	res := b.Resource
	if res.Type != model.TypePermissionSet {
		u.fail(w, r, s, http.StatusNotFound, res.Name+" is a "+string(res.Type)+", not a permission set.")
		return
	}
	d := permSetData{entityBase: b}
	hv, err := u.holders(r, b, res, nil)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The holders could not be read: "+err.Error())
		return
	}
	for i := range hv.Rows {
		if hv.Rows[i].How == how(model.ViaDirect) {
			hv.Rows[i].How = how(model.ViaSSO)
		}
	}
	for i := range hv.ByHow {
		if hv.ByHow[i].Key == how(model.ViaDirect) {
			hv.ByHow[i].Key = how(model.ViaSSO)
		}
	}
	d.Holders = hv
	if a := res.PermissionSet; a != nil {
		if a.InlinePolicy != "" {
			v := newDocView(a.InlinePolicy)
			d.Inline = &v
		}
		found, err := u.c.Store.ResourcesByID(r.Context(), b.Snap.ID, a.ManagedPolicies)
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
		for _, arn := range a.ManagedPolicies {
			ref := access.Ref{ID: arn, Name: arn[strings.LastIndexByte(arn, '/')+1:]}
			if _, ok := found[arn]; ok {
				ref.Type = model.TypeIAMPolicy
			}
			d.Managed = append(d.Managed, ref)
		}
		d.Customer = a.CustomerManagedPolicies
		ids := make([]string, len(a.ProvisionedAccounts))
		for i, acct := range a.ProvisionedAccounts {
			ids[i] = model.AccountResourceID(acct)
		}
		accts, err := u.c.Store.ResourcesByID(r.Context(), b.Snap.ID, ids)
		if err != nil {
			u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
			return
		}
		for _, acct := range a.ProvisionedAccounts {
			ref := access.Ref{ID: model.AccountResourceID(acct), Type: model.TypeAccount, AccountID: acct, Name: acct}
			if x, ok := accts[ref.ID]; ok {
				ref.Name = x.Name
			}
			d.Accounts = append(d.Accounts, ref)
		}
	}
	u.render(w, r, s, http.StatusOK, "permissionset.html", page{Title: res.Name, Data: d})
}

// scpLevel is one target of the chain from the organization's root to an
// account, with the SCPs attached there.
type scpLevel struct {
	Target access.Ref
	SCPs   []access.Ref
}

// assignmentRow is an Identity Center assignment into an account, to a
// user or a group (with the number of its members it reaches).
type assignmentRow struct {
	Principal     access.Ref
	PermissionSet access.Ref
	Members       int
}

// accountData is the account page.
type accountData struct {
	entityBase
	OUPath      string
	Levels      []scpLevel // root first
	Users       []model.Resource
	Groups      []model.Resource
	Roles       []model.Resource
	Assignments []assignmentRow
	// Findings are the latest snapshot's findings in the account; nil with
	// FindingsPending while they are being counted.
	Findings        []findingRow
	FindingsPending bool
	// Assets are the account's assets by kind (nil: none read).
	Assets []assetCount
}

// maxOUDepth bounds the walk up the OU tree (AWS allows five levels of OUs).
const maxOUDepth = 10

func (u *UI) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	b, ok := u.resource(w, r, s, "id", "/account?c=CONNECTION&id=ACCOUNT_ID")
	if !ok {
		return
	}
	ctx, res, snap := r.Context(), b.Resource, b.Snap.ID
	if res.Type != model.TypeAccount {
		u.fail(w, r, s, http.StatusNotFound, res.Name+" is a "+string(res.Type)+", not an account.")
		return
	}
	fail := func(err error) {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
	}
	d := accountData{entityBase: b}
	if a := res.Account; a != nil && a.Org != nil {
		d.OUPath = a.Org.OUPath
	}
	// The chain up from the account: each target's SCPs, then its parent.
	at := res
	for range maxOUDepth {
		held, err := u.c.Store.GrantsOf(ctx, snap, at.ID)
		if err != nil {
			fail(err)
			return
		}
		lvl := scpLevel{Target: refOf(at)}
		var parent *model.Resource
		for _, h := range held {
			switch {
			case h.Resource.Type == model.TypeSCP && strings.HasSuffix(h.Grant.EntitlementID, "#"+model.EntAttached):
				lvl.SCPs = append(lvl.SCPs, refOf(&h.Resource))
			case strings.HasSuffix(h.Grant.EntitlementID, "#"+model.EntContains):
				parent = &h.Resource
			}
		}
		slices.SortFunc(lvl.SCPs, func(a, b access.Ref) int { return cmp.Compare(a.Name, b.Name) })
		d.Levels = append(d.Levels, lvl)
		if parent == nil {
			break
		}
		at = parent
	}
	slices.Reverse(d.Levels)
	if len(d.Levels) == 1 && len(d.Levels[0].SCPs) == 0 {
		d.Levels = nil // not in an organization
	}
	// The account's principals from the snapshot's search index: the
	// store has no index by account, and a scan of every user of the
	// organization per page took hundreds of milliseconds.
	hits, err := u.index.load(ctx, u.c.Store, snap)
	if err != nil {
		fail(err)
		return
	}
	for i := range hits {
		r := &hits[i].res
		if r.AccountID != res.AccountID {
			continue
		}
		switch r.Type {
		case model.TypeIAMUser:
			d.Users = append(d.Users, *r)
		case model.TypeIAMGroup:
			d.Groups = append(d.Groups, *r)
		case model.TypeIAMRole:
			d.Roles = append(d.Roles, *r)
		}
	}
	pss, err := u.c.Store.Resources(ctx, snap, store.ResourceFilter{Type: model.TypePermissionSet})
	if err != nil {
		fail(err)
		return
	}
	for i := range pss {
		hs, err := u.c.Store.HoldersOf(ctx, snap, model.EntitlementID(pss[i].ID, model.AssignmentEntitlement(res.AccountID)))
		if err != nil {
			fail(err)
			return
		}
		members := map[string]int{}
		for _, h := range hs {
			if h.Grant.Provenance == model.ViaGroup {
				members[h.Grant.ViaID]++ // a member of a group assigned it
			}
		}
		for _, h := range hs {
			if h.Grant.Provenance == model.ViaGroup {
				continue
			}
			row := assignmentRow{Members: members[h.Grant.PrincipalID], PermissionSet: refOf(&pss[i]), Principal: access.Ref{ID: h.Grant.PrincipalID, Name: h.Grant.PrincipalID}}
			if h.Principal != nil {
				row.Principal = refOf(h.Principal)
			}
			d.Assignments = append(d.Assignments, row)
		}
	}
	slices.SortFunc(d.Assignments, func(a, b assignmentRow) int {
		return cmp.Or(cmp.Compare(a.PermissionSet.Name, b.PermissionSet.Name), cmp.Compare(a.Principal.Type, b.Principal.Type), cmp.Compare(a.Principal.Name, b.Principal.Name))
	})
	var err2 error
	if d.Assets, err2 = u.accountAssets(r, b.Conn, snap, res.AccountID); err2 != nil {
		fail(err2)
		return
	}
	sf := u.counts.get(u, b.Snap, u.latestDay(), findingsWait)
	if sf == nil {
		d.FindingsPending = true
	} else {
		for _, f := range sf.rows {
			if f.Principal.AccountID == res.AccountID {
				d.Findings = append(d.Findings, f)
			}
		}
	}
	u.render(w, r, s, http.StatusOK, "account.html", page{Title: fmt.Sprintf("%s %s", res.Name, res.AccountID), Data: d})
}
