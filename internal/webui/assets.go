package webui

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// assetKind is one asset listing: its path under /assets/ (the name `warden
// show` and /api/v1/assets/ give it), title and resource type.
type assetKind struct {
	Kind, Title, One string
	Type             model.ResourceType
}

// assetKinds are the asset listings, in the order the pages show them.
var assetKinds = []assetKind{
	{"instances", "EC2 instances", "EC2 instance", model.TypeEC2Instance},
	{"security-groups", "Security groups", "security group", model.TypeSecurityGroup},
	{"buckets", "S3 buckets", "S3 bucket", model.TypeS3Bucket},
	{"keys-kms", "KMS keys", "KMS key", model.TypeKMSKey},
	{"functions", "Lambda functions", "Lambda function", model.TypeLambdaFunction},
	{"secrets", "Secrets", "secret", model.TypeSecret},
}

// assetListCap bounds the rows one list page shows; the filters narrow it.
const assetListCap = 200

// assetCount is one cell of the /assets table.
type assetCount struct {
	Kind  string
	Count int
	URL   string
}

// assetAccountRow is one account's counts on /assets.
type assetAccountRow struct {
	AccountID string
	Name      string
	Counts    []assetCount
}

// assetsData is the /assets page.
type assetsData struct {
	Conn       string
	Snap       *model.Snapshot
	AssetsRead bool
	Kinds      []assetKind
	Totals     []assetCount
	Accounts   []assetAccountRow
	Exposures  int
}

// snapAssets is what the asset pages read of one snapshot, kept by
// assetCache: the assets part of its graph, its exposures' count and the
// rows of each list made so far.
type snapAssets struct {
	g         *model.Graph
	exposures int
	mu        sync.Mutex
	lists     map[string]assetList
}

// assetList is one kind's rows and columns.
type assetList struct {
	columns []string
	hasRole bool
	rows    []assetListRow
}

// list returns kind's rows, made once.
func (a *snapAssets) list(kind string) assetList {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.lists[kind]
	if !ok {
		l.columns, l.hasRole, l.rows = assetRows(kind, a.g)
		a.lists[kind] = l
	}
	return l
}

// assetCache keeps the asset part of the snapshots last shown: a snapshot
// never changes, and reading and judging thousands of assets took most of
// a list page's time.
type assetCache struct {
	mu sync.Mutex
	m  map[int64]*snapAssets
}

// maxCachedAssetSnaps bounds the cache; past it, it starts again empty.
const maxCachedAssetSnaps = 4

func (c *assetCache) get(r *http.Request, u *UI, snap int64) (*snapAssets, error) {
	c.mu.Lock()
	a, ok := c.m[snap]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	g, err := u.c.Store.Subgraph(r.Context(), snap, inventory.AssetsPart, "")
	if err != nil {
		return nil, err
	}
	a = &snapAssets{g: g, exposures: len(findings.Exposures(g)), lists: map[string]assetList{}}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedAssetSnaps {
		c.m = map[int64]*snapAssets{}
	}
	c.m[snap] = a
	c.mu.Unlock()
	return a, nil
}

// assetsGraph is the assets part of the latest snapshot of the request's
// connection.
func (u *UI) assetsGraph(w http.ResponseWriter, r *http.Request, s *session) (string, *model.Snapshot, *snapAssets, bool) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return "", nil, nil, false
	}
	a, err := u.assetc.get(r, u, snap.ID)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The snapshot could not be read: "+err.Error())
		return "", nil, nil, false
	}
	return conn, snap, a, true
}

// assetListURL is the list page of kind, of account when set.
func assetListURL(conn, kind, account string) string {
	q := url.Values{"c": {conn}}
	if account != "" {
		q.Set("account", account)
	}
	return "/assets/" + kind + "?" + q.Encode()
}

// assets is /assets: the count of each kind of asset per account, each
// linking to its list.
func (u *UI) assets(w http.ResponseWriter, r *http.Request, s *session) {
	conn, snap, a, ok := u.assetsGraph(w, r, s)
	if !ok {
		return
	}
	g := a.g
	d := assetsData{Conn: conn, Snap: snap, AssetsRead: findings.AssetsRead(snap, g), Kinds: assetKinds, Exposures: a.exposures}
	counts := map[string]map[model.ResourceType]int{}
	total := map[model.ResourceType]int{}
	for i := range g.Resources {
		res := &g.Resources[i]
		if !slices.ContainsFunc(assetKinds, func(k assetKind) bool { return k.Type == res.Type }) {
			continue
		}
		if counts[res.AccountID] == nil {
			counts[res.AccountID] = map[model.ResourceType]int{}
		}
		counts[res.AccountID][res.Type]++
		total[res.Type]++
	}
	for _, k := range assetKinds {
		d.Totals = append(d.Totals, assetCount{k.Kind, total[k.Type], assetListURL(conn, k.Kind, "")})
	}
	ids := make([]string, 0, len(counts))
	for a := range counts {
		ids = append(ids, model.AccountResourceID(a))
	}
	names, err := u.c.Store.ResourcesByID(r.Context(), snap.ID, ids)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return
	}
	for _, a := range sortedKeys(counts) {
		row := assetAccountRow{AccountID: a, Name: a}
		if x, ok := names[model.AccountResourceID(a)]; ok {
			row.Name = x.Name
		}
		for _, k := range assetKinds {
			row.Counts = append(row.Counts, assetCount{k.Kind, counts[a][k.Type], assetListURL(conn, k.Kind, a)})
		}
		d.Accounts = append(d.Accounts, row)
	}
	u.render(w, r, s, http.StatusOK, "assets.html", page{Title: "Assets", Data: d})
}

// assetListRow is one asset of a list page: its name (linking to its
// page), account, region, the kind's own columns, the role it runs as and
// how it is exposed ("" for not).
type assetListRow struct {
	ID, Name, AccountID, Region string
	Cells                       []string
	Role                        *access.Ref
	Exposure                    string
}

// assetListData is a /assets/KIND page.
type assetListData struct {
	Conn      string
	Kind      assetKind
	Account   string
	Region    string
	Accounts  []string
	Regions   []string
	Columns   []string
	HasRole   bool
	Rows      []assetListRow
	Total     int // the rows the filters keep
	Exposed   int // of them, exposed
	Capped    bool
	AssetsURL string
}

// exposureWords says how a listing row is exposed, "" for not.
func exposureWords(e inventory.Exposure) string {
	var parts []string
	if e.Public {
		parts = append(parts, "public")
	}
	if len(e.CrossAccount) > 0 {
		parts = append(parts, "accounts "+strings.Join(e.CrossAccount, ", "))
	}
	if e.AccountManage {
		parts = append(parts, "anyone in the account manages it")
	}
	return strings.Join(parts, "; ")
}

func portsWords(ports []int) string {
	if len(ports) == 0 {
		return ""
	}
	var s []string
	for _, p := range ports {
		s = append(s, strconv.Itoa(p))
	}
	return "admin port(s) " + strings.Join(s, ", ") + " open to the internet"
}

// roleRef is the role of ARN arn, for a link.
func roleRef(arn string) *access.Ref {
	if arn == "" {
		return nil
	}
	acct := ""
	if p := strings.Split(arn, ":"); len(p) > 4 {
		acct = p[4]
	}
	return &access.Ref{ID: arn, Type: model.TypeIAMRole, Name: arn[strings.LastIndexByte(arn, '/')+1:], AccountID: acct}
}

// assetRows lays out the rows `warden show KIND` lists (the same inventory
// function) of g.
func assetRows(kind string, g *model.Graph) (columns []string, hasRole bool, rows []assetListRow) {
	switch kind {
	case "instances":
		for _, x := range inventory.Instances(g, "") {
			rows = append(rows, assetListRow{ID: x.ID, Name: cmpOr(x.Name, x.InstanceID), AccountID: x.AccountID, Region: x.Region,
				Cells: []string{x.InstanceID, x.State, x.Type, orDash(x.PublicIP)}, Role: roleRef(x.Role), Exposure: portsWords(x.OpenAdminPorts)})
		}
		return []string{"Instance ID", "State", "Type", "Public IP"}, true, rows
	case "security-groups":
		for _, x := range inventory.SecurityGroups(g, "") {
			open := 0
			for _, rule := range x.Ingress {
				if rule.OpenToInternet {
					open++
				}
			}
			rows = append(rows, assetListRow{ID: x.ID, Name: x.Name, AccountID: x.AccountID, Region: x.Region,
				Cells: []string{x.GroupID, orDash(x.VPC), strconv.Itoa(len(x.Ingress)), strconv.Itoa(open)}, Exposure: portsWords(x.OpenAdminPorts)})
		}
		return []string{"Group ID", "VPC", "Inbound rules", "Open to the internet"}, false, rows
	case "buckets":
		for _, x := range inventory.Buckets(g, "") {
			restrict := "no"
			if x.BlockPublicAccess != nil && x.BlockPublicAccess.RestrictPublicBuckets {
				restrict = "yes"
			}
			rows = append(rows, assetListRow{ID: "arn:aws:s3:::" + x.Name, Name: x.Name, AccountID: x.AccountID, Region: x.Region,
				Cells: []string{yesNo(x.HasPolicy), restrict}, Exposure: exposureWords(x.Exposure)})
		}
		return []string{"Policy", "Restrict public buckets"}, false, rows
	case "keys-kms":
		for _, x := range inventory.KMSKeys(g, "") {
			rows = append(rows, assetListRow{ID: x.ARN, Name: x.KeyID, AccountID: x.AccountID, Region: x.Region,
				Cells: []string{x.State, strconv.Itoa(x.Grants), orDash(x.Description)}, Exposure: exposureWords(x.Exposure)})
		}
		return []string{"State", "Grants", "Description"}, false, rows
	case "functions":
		for _, x := range inventory.Functions(g, "") {
			rows = append(rows, assetListRow{ID: x.ARN, Name: x.Name, AccountID: x.AccountID, Region: x.Region,
				Cells: []string{orDash(x.Runtime), yesNo(x.HasPolicy)}, Role: roleRef(x.Role), Exposure: exposureWords(x.Exposure)})
		}
		return []string{"Runtime", "Policy"}, true, rows
	case "secrets":
		for _, x := range inventory.Secrets(g, "") {
			rows = append(rows, assetListRow{ID: x.ARN, Name: x.Name, AccountID: x.AccountID, Region: x.Region,
				Cells: []string{orDash(x.KMSKeyID), yesNo(x.HasPolicy)}, Exposure: exposureWords(x.Exposure)})
		}
		return []string{"KMS key", "Policy"}, false, rows
	}
	return nil, false, nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// assetList is /assets/KIND: the assets of one kind, filtered by account
// and region, at most assetListCap rows, exposed ones flagged.
func (u *UI) assetList(w http.ResponseWriter, r *http.Request, s *session) {
	kind := strings.TrimPrefix(r.URL.Path, "/assets/")
	i := slices.IndexFunc(assetKinds, func(k assetKind) bool { return k.Kind == kind })
	if i < 0 {
		u.fail(w, r, s, http.StatusNotFound, "There is no asset list "+kind+": see /assets.")
		return
	}
	conn, _, a, ok := u.assetsGraph(w, r, s)
	if !ok {
		return
	}
	q := r.URL.Query()
	d := assetListData{Conn: conn, Kind: assetKinds[i], Account: q.Get("account"), Region: q.Get("region"), AssetsURL: "/assets?c=" + url.QueryEscape(conn)}
	l := a.list(kind)
	d.Columns, d.HasRole = l.columns, l.hasRole
	accounts, regions := map[string]bool{}, map[string]bool{}
	for _, row := range l.rows {
		accounts[row.AccountID], regions[row.Region] = true, true
		if (d.Account == "" || row.AccountID == d.Account) && (d.Region == "" || row.Region == d.Region) {
			d.Total++
			if row.Exposure != "" {
				d.Exposed++
			}
			if len(d.Rows) < assetListCap {
				d.Rows = append(d.Rows, row)
			} else {
				d.Capped = true
			}
		}
	}
	d.Accounts, d.Regions = sortedKeys(accounts), sortedKeys(regions)
	sort.Strings(d.Regions)
	u.render(w, r, s, http.StatusOK, "assetlist.html", page{Title: d.Kind.Title, Data: d})
}

// accountAssets counts the assets of account in snapshot snap, by kind,
// each linking to its list of the account; nil when it has none.
func (u *UI) accountAssets(r *http.Request, conn string, snap int64, account string) ([]assetCount, error) {
	var out []assetCount
	any := false
	for _, k := range assetKinds {
		rs, err := u.c.Store.Resources(r.Context(), snap, store.ResourceFilter{Type: k.Type, AccountID: account})
		if err != nil {
			return nil, err
		}
		any = any || len(rs) > 0
		out = append(out, assetCount{k.Kind, len(rs), assetListURL(conn, k.Kind, account)})
	}
	if !any {
		return nil, nil
	}
	return out, nil
}

// runsAs lists the instances and functions that run as role roleID.
func (u *UI) runsAs(r *http.Request, snap int64, roleID string) ([]access.Ref, error) {
	hs, err := u.c.Store.HoldersOf(r.Context(), snap, model.EntitlementID(roleID, model.EntRunsAs))
	if err != nil {
		return nil, err
	}
	var out []access.Ref
	for _, h := range hs {
		if h.Principal != nil {
			out = append(out, refOf(h.Principal))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
