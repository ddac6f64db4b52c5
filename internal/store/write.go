package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
)

// Parts of the estate that are no one account's (see model.CarriedPart).
const (
	partIdentityCenter = "identity_center"
	partOrganizations  = "organizations"
	partAWS            = "aws"      // AWS managed policies, shared by every account
	partExternal       = "external" // principals outside the estate
)

// partOf says which part of the estate a resource was read from: the part
// whose failure leaves it unknown.
func partOf(r *model.Resource) string {
	switch r.Type {
	case model.TypeSSOUser, model.TypeSSOGroup, model.TypePermissionSet:
		return partIdentityCenter
	case model.TypeOrganization, model.TypeOrgRoot, model.TypeOrgUnit, model.TypeSCP, model.TypeRCP, model.TypeAccount:
		return partOrganizations
	case model.TypeExternalPrincipal:
		return partExternal
	case model.TypeIAMPolicy:
		if strings.Contains(r.ID, ":iam::aws:policy/") {
			return partAWS
		}
	}
	if r.AccountID == "" {
		return partExternal
	}
	return r.AccountID
}

// shared reports whether a part is read by every other part rather than on
// its own (AWS managed policies, outside principals).
func shared(part string) bool { return part == partAWS || part == partExternal }

// failedParts returns the parts of the estate snap's sync could not read
// at all: named by an error and with no resource in g. When any part
// failed, the shared parts are kept too: the failed part may be the only
// one that referred to them.
func failedParts(snap *model.Snapshot, g *model.Graph) map[string]bool {
	named := map[string]bool{}
	for _, e := range snap.Errors {
		switch {
		case e.AccountID != "":
			named[e.AccountID] = true
		case e.Source == partIdentityCenter || e.Source == partOrganizations:
			named[e.Source] = true
		}
	}
	if len(named) == 0 {
		return nil
	}
	for i := range g.Resources {
		delete(named, partOf(&g.Resources[i]))
	}
	if len(named) == 0 {
		return nil
	}
	named[partAWS], named[partExternal] = true, true
	return named
}

// hash16 is the 128-bit hash, in hex, of the fields of a row: the key the
// writer compares rows by.
func hash16(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// grantKey is a grant's 128-bit identity: the first 16 bytes of the
// SHA-256 of its four fields, stored as two BIGINT columns (h1, h2) so the
// writer reads two integers a row, not four strings.
type grantKey [2]int64

// keyOf is the identity of g.
func keyOf(g *model.Grant) grantKey {
	h := sha256.New()
	for _, f := range []string{g.PrincipalID, g.EntitlementID, string(g.Provenance), g.ViaID} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	b := h.Sum(sum[:0])
	return grantKey{int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:16]))}
}

// readOpenGrants reads the connection's open grant rows: identity → row.
// The rows' parts are read only when withParts (a part failed).
func readOpenGrants(ctx context.Context, c *sql.Conn, d dialect, connID string, withParts bool) (map[grantKey]openRow, error) {
	rows, err := c.QueryContext(ctx, d.rebind(`SELECT row_id, h1, h2, `+partCol(withParts)+` FROM grant_versions WHERE connection_id=? AND valid_to IS NULL`), connID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[grantKey]openRow{}
	for rows.Next() {
		var k grantKey
		var r openRow
		if err := rows.Scan(&r.rowID, &k[0], &k[1], &r.part); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

// partCol is the part column, or ” when the parts are not needed.
func partCol(withParts bool) string {
	if withParts {
		return "part"
	}
	return "''"
}

// encodedResource is a resource's stored data (or "" when not kept) and
// its hash.
type encodedResource struct{ data, hash string }

// encodeResources hashes the stored data of rs, on every core, keeping
// the data only of those in open with another hash (changed): a new
// resource's is made again as it is written, so a first snapshot does not
// hold every resource's data at once.
func encodeResources(rs []model.Resource, open map[string]openRow) []encodedResource {
	out := make([]encodedResource, len(rs))
	parallel(len(rs), func(i int) {
		data := marshal(&rs[i])
		h := hash16(data)
		if o, ok := open[rs[i].ID]; !ok || o.hash == h {
			data = ""
		}
		out[i] = encodedResource{data: data, hash: h}
	})
	return out
}

// keyGrants computes the identities of gs, on every core.
func keyGrants(gs []model.Grant) []grantKey {
	out := make([]grantKey, len(gs))
	parallel(len(gs), func(i int) { out[i] = keyOf(&gs[i]) })
	return out
}

// parallel calls fn for every index below n, spread over the cores.
func parallel(n int, fn func(i int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// openRow is a row of the connection's latest state, as the writer reads it.
type openRow struct {
	rowID int64
	hash  string // resources: the data's hash; entitlements: resource and name
	part  string
}

// readOpen reads the connection's open rows of table: key → row (their
// parts only when withParts).
func readOpen(ctx context.Context, c *sql.Conn, d dialect, table, keyCol, hashExpr, connID string, withParts bool) (map[string]openRow, error) {
	rows, err := c.QueryContext(ctx, d.rebind(`SELECT row_id, `+keyCol+`, `+hashExpr+`, `+partCol(withParts)+` FROM `+table+` WHERE connection_id=? AND valid_to IS NULL`), connID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]openRow{}
	for rows.Next() {
		var key string
		var r openRow
		if err := rows.Scan(&r.rowID, &key, &r.hash, &r.part); err != nil {
			return nil, err
		}
		out[key] = r
	}
	return out, rows.Err()
}

// writeVersions makes the history of connection connID say that snapshot
// at holds exactly g: it closes (valid_to = at) the open rows g no longer
// has, and inserts g's new and changed rows. Rows of the failed parts that
// g does not have stay open (their last known state) and are counted in
// the returned list.
func writeVersions(ctx context.Context, c *sql.Conn, d dialect, connID string, at int64, g *model.Graph, failed map[string]bool) ([]model.CarriedPart, error) {
	carried := map[string]*model.CarriedPart{}
	carry := func(part string) *model.CarriedPart {
		cp := carried[part]
		if cp == nil {
			cp = &model.CarriedPart{Part: part}
			carried[part] = cp
		}
		return cp
	}

	// The new graph's resource data and hashes and grant identities are
	// made on the other cores while the latest state is read: an unchanged
	// sync spends its time on these two. The data of a resource that has
	// not changed is dropped at once.
	withParts := len(failed) > 0
	keyed := make(chan []grantKey, 1)
	go func() { keyed <- keyGrants(g.Grants) }()
	open, err := readOpen(ctx, c, d, "resource_versions", "id", "hash", connID, withParts)
	if err != nil {
		<-keyed
		return nil, fmt.Errorf("read the latest state: %w", err)
	}
	encoded := make(chan []encodedResource, 1)
	go func() { encoded <- encodeResources(g.Resources, open) }() // open is only read until encoded
	var openE map[string]openRow
	var openG map[grantKey]openRow
	openE, err = readOpen(ctx, c, d, "entitlement_versions", "id", "resource_id || '#' || name", connID, withParts)
	if err == nil {
		openG, err = readOpenGrants(ctx, c, d, connID, withParts)
	}
	enc, gkeys := <-encoded, <-keyed
	if err != nil {
		return nil, fmt.Errorf("read the latest state: %w", err)
	}

	// Resources.
	partByID := make(map[string]string, len(g.Resources))
	var closing []int64
	type newResource struct {
		r          *model.Resource
		part, data string
		hash       string
	}
	var added []newResource
	for i := range g.Resources {
		r := &g.Resources[i]
		if _, dup := partByID[r.ID]; dup {
			continue
		}
		part := partOf(r)
		partByID[r.ID] = part
		data, h := enc[i].data, enc[i].hash
		if old, ok := open[r.ID]; ok {
			delete(open, r.ID)
			if old.hash == h {
				continue
			}
			closing = append(closing, old.rowID)
		}
		added = append(added, newResource{r: r, part: part, data: data, hash: h})
	}
	for id, old := range open {
		if failed[old.part] {
			carry(old.part).Resources++
			partByID[id] = old.part
			continue
		}
		closing = append(closing, old.rowID)
	}
	if err := closeRows(ctx, c, d, "resource_versions", at, closing); err != nil {
		return nil, fmt.Errorf("close resources: %w", err)
	}
	if err := d.bulkInsert(ctx, c, "resource_versions",
		[]string{"connection_id", "valid_from", "part", "id", "type", "account_id", "name", "parent_id", "hash", "data"}, len(added), func(i int) []any {
			a := added[i]
			if a.data == "" {
				a.data = marshal(a.r)
			}
			return []any{connID, at, a.part, a.r.ID, string(a.r.Type), a.r.AccountID, a.r.Name, a.r.ParentID, a.hash, a.data}
		}); err != nil {
		return nil, fmt.Errorf("write resources: %w", err)
	}
	type key struct{ resource, key string }
	var keys []key
	for _, a := range added {
		for _, k := range lookupKeys(a.r) {
			keys = append(keys, key{a.r.ID, k})
		}
	}
	if err := d.bulkInsert(ctx, c, "resource_keys", []string{"connection_id", "resource_id", "valid_from", "key"}, len(keys), func(i int) []any {
		return []any{connID, keys[i].resource, at, keys[i].key}
	}); err != nil {
		return nil, fmt.Errorf("write resource names: %w", err)
	}

	// Entitlements.
	open = openE
	closing = closing[:0]
	seen := make(map[string]bool, len(g.Entitlements))
	var addedE []model.Entitlement
	for _, e := range g.Entitlements {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		if old, ok := open[e.ID]; ok {
			delete(open, e.ID)
			if old.hash == e.ResourceID+"#"+e.Name {
				continue
			}
			closing = append(closing, old.rowID)
		}
		addedE = append(addedE, e)
	}
	for _, old := range open {
		if failed[old.part] {
			carry(old.part).Entitlements++
			continue
		}
		closing = append(closing, old.rowID)
	}
	if err := closeRows(ctx, c, d, "entitlement_versions", at, closing); err != nil {
		return nil, fmt.Errorf("close entitlements: %w", err)
	}
	if err := d.bulkInsert(ctx, c, "entitlement_versions", []string{"connection_id", "valid_from", "part", "id", "resource_id", "name"}, len(addedE), func(i int) []any {
		e := addedE[i]
		return []any{connID, at, partOrExternal(partByID, e.ResourceID), e.ID, e.ResourceID, e.Name}
	}); err != nil {
		return nil, fmt.Errorf("write entitlements: %w", err)
	}

	// Grants: a grant is its identity, so it is only ever added or closed.
	closing = closing[:0]
	type newGrant struct {
		g    *model.Grant
		key  grantKey
		part string
	}
	var addedG []newGrant
	seenG := make(map[grantKey]bool, len(g.Grants))
	for i := range g.Grants {
		gr, k := &g.Grants[i], gkeys[i]
		if seenG[k] {
			continue
		}
		seenG[k] = true
		if _, ok := openG[k]; ok {
			delete(openG, k)
			continue
		}
		addedG = append(addedG, newGrant{g: gr, key: k, part: grantPart(partByID, *gr)})
	}
	for _, old := range openG {
		if failed[old.part] {
			carry(old.part).Grants++
			continue
		}
		closing = append(closing, old.rowID)
	}
	if err := closeRows(ctx, c, d, "grant_versions", at, closing); err != nil {
		return nil, fmt.Errorf("close grants: %w", err)
	}
	if err := d.bulkInsert(ctx, c, "grant_versions",
		[]string{"connection_id", "valid_from", "part", "h1", "h2", "principal_id", "entitlement_id", "resource_id", "provenance", "via_id"}, len(addedG), func(i int) []any {
			a := addedG[i]
			return []any{connID, at, a.part, a.key[0], a.key[1], a.g.PrincipalID, a.g.EntitlementID, entitlementResource(a.g.EntitlementID), string(a.g.Provenance), a.g.ViaID}
		}); err != nil {
		return nil, fmt.Errorf("write grants: %w", err)
	}

	var out []model.CarriedPart
	for _, cp := range carried {
		out = append(out, *cp)
	}
	sortCarried(out)
	return out, nil
}

// partOrExternal is the part of the resource with the given ID.
func partOrExternal(partByID map[string]string, id string) string {
	if p, ok := partByID[id]; ok {
		return p
	}
	return partExternal
}

// grantPart is the part a grant was read from: that of the entitlement's
// resource (a role's trust policy, a group's members), or, for a policy
// every account shares, that of the principal it is attached to.
func grantPart(partByID map[string]string, g model.Grant) string {
	p := partOrExternal(partByID, entitlementResource(g.EntitlementID))
	if shared(p) {
		return partOrExternal(partByID, g.PrincipalID)
	}
	return p
}

// closeRows ends the rows of table with the given row IDs at snapshot at.
func closeRows(ctx context.Context, c *sql.Conn, d dialect, table string, at int64, ids []int64) error {
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, at)
		for _, id := range part {
			args = append(args, id)
		}
		q := `UPDATE ` + table + ` SET valid_to=? WHERE row_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + `)`
		if _, err := c.ExecContext(ctx, d.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// Kinds of lookup key a resource is found by (see FindPrincipal).
const (
	keyARN   = "arn:"   // an ARN other than the ID, exactly
	keyName  = "name:"  // a principal's name, lower case
	keyTag   = "tag:"   // the value of an IAM principal's tag, lower case
	keyEmail = "email:" // an Identity Center user's e-mail address, lower case
	keyHeld  = "held:"  // a managed policy's or permission set's name, lower case
)

// lookupKeys are the keys FindPrincipal and IAMUsersMatching find r by.
func lookupKeys(r *model.Resource) []string {
	var keys []string
	if r.ARN != "" && r.ARN != r.ID {
		keys = append(keys, keyARN+r.ARN)
	}
	switch r.Type {
	case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole:
		keys = append(keys, keyName+strings.ToLower(r.Name))
		seen := map[string]bool{}
		for _, v := range r.Tags {
			if lv := strings.ToLower(v); !seen[lv] {
				seen[lv] = true
				keys = append(keys, keyTag+lv)
			}
		}
	case model.TypeSSOUser:
		keys = append(keys, keyName+strings.ToLower(r.Name))
		if r.SSOUser != nil {
			seen := map[string]bool{}
			for _, e := range r.SSOUser.Emails {
				if le := strings.ToLower(e); !seen[le] {
					seen[le] = true
					keys = append(keys, keyEmail+le)
				}
			}
		}
	case model.TypeSSOGroup:
		keys = append(keys, keyName+strings.ToLower(r.Name))
	case model.TypeIAMPolicy, model.TypePermissionSet:
		keys = append(keys, keyHeld+strings.ToLower(r.Name))
	}
	return keys
}

// sortCarried orders carried parts by part.
func sortCarried(cs []model.CarriedPart) {
	slices.SortFunc(cs, func(a, b model.CarriedPart) int { return cmp.Compare(a.Part, b.Part) })
}
