package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// EffectiveHolderTypes are the resource types an effective index holds
// with the grants they hold: every principal and organization resource
// (not access keys or MFA devices). EffectivePolicyTypes, which hold
// nothing who-can reads, it holds beside them.
var (
	EffectiveHolderTypes = []model.ResourceType{model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeAccount,
		model.TypeOrganization, model.TypeOrgRoot, model.TypeOrgUnit, model.TypeSSOUser, model.TypeSSOGroup,
		model.TypePermissionSet, model.TypeExternalPrincipal}
	EffectivePolicyTypes = []model.ResourceType{model.TypeIAMPolicy, model.TypeInlinePolicy, model.TypeSCP}
)

// EffectiveIndex is what internal/effective's who-can reads of a snapshot,
// in one piece: EffectiveData of EffectiveHolderTypes and
// EffectiveResources of EffectivePolicyTypes, sorted.
type EffectiveIndex struct {
	// Holders are the resources of EffectiveHolderTypes, by ID.
	Holders []model.Resource
	// Policies are the resources of EffectivePolicyTypes, by type, name
	// and ID.
	Policies []model.Resource
	// Grants are the grants Holders hold, as EffectiveData reads them.
	Grants map[string][]model.Grant
}

// effectiveIndexFormat is the version of the stored encoding
// (encodeEffectiveIndex): an index stored in another is built again.
const effectiveIndexFormat = 1

// effectiveIndexMagic starts every stored index.
const effectiveIndexMagic = "WEFF"

// EffectiveIndex reads the effective index of snapshot snapshotID: one row
// of the effective_index table, decoded. When the snapshot has none yet
// (the first question asked of it, a database copied by Copy, or an index
// in an older format) it is built from the snapshot's rows
// (EffectiveData and EffectiveResources), stored for the next reader, and
// returned; a failure to store it (a read-only file, a writer holding the
// lock) is not an error: the next reader builds it again. WriteSnapshot
// stores the index of each connection's latest snapshot after writing it
// (indexLatest). A snapshot's rows never change once it is written, so
// neither does its index; Prune deletes it with its snapshot. A snapshot
// that does not exist reads as empty.
func (s *DB) EffectiveIndex(ctx context.Context, snapshotID int64) (*EffectiveIndex, error) {
	if _, ok, err := s.snapshotConn(ctx, snapshotID); err != nil || !ok {
		return &EffectiveIndex{Grants: map[string][]model.Grant{}}, err
	}
	data, found, err := s.readEffectiveIndex(ctx, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("read the effective index of snapshot %d from %s: %w", snapshotID, s.path, err)
	}
	if found {
		if ix, err := decodeEffectiveIndex(data); err == nil {
			return ix, nil
		}
		// A damaged index is built again (and stored over).
	}
	ix, err := s.buildEffectiveIndex(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	if !s.readOnly { // a read-only store could not keep it: do not encode it
		s.storeEffectiveIndex(ctx, snapshotID, encodeEffectiveIndex(ix))
	}
	return ix, nil
}

// readEffectiveIndex reads the stored index of a snapshot in the current
// format as one string: the driver's bytes copied once (sql.RawBytes
// spares database/sql's copy), which every decoded string shares.
func (s *DB) readEffectiveIndex(ctx context.Context, snapshotID int64) (data string, found bool, err error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT data FROM effective_index WHERE snapshot_id=? AND format=?`),
		snapshotID, effectiveIndexFormat)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	if rows.Next() {
		var raw sql.RawBytes
		if err := rows.Scan(&raw); err != nil {
			return "", false, err
		}
		data, found = string(raw), true
	}
	return data, found, rows.Err()
}

// indexLatest builds and stores the effective index of snapshot id, the
// latest of connection connID, and deletes the stored indexes of the
// connection's older snapshots (lower IDs, so a build that ends after a
// later write's never deletes the later index): a stored index is a whole
// copy of what who-can reads (tens of MB for a large organization), so
// keeping one per snapshot would make history cost more than what changed. An older
// snapshot's index is built again when it is asked about. A failure is not
// an error (the index is a cache): the first reader builds it.
func (s *DB) indexLatest(ctx context.Context, connID string, id int64) {
	ix, err := s.buildEffectiveIndex(ctx, id)
	if err != nil {
		return
	}
	s.storeEffectiveIndex(ctx, id, encodeEffectiveIndex(ix))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM effective_index WHERE snapshot_id < ? AND snapshot_id IN
		(SELECT id FROM snapshots WHERE connection_id = ?)`), id, connID)
}

// buildEffectiveIndex reads the index of a snapshot from its rows.
func (s *DB) buildEffectiveIndex(ctx context.Context, snapshotID int64) (*EffectiveIndex, error) {
	ix := &EffectiveIndex{}
	polErr := make(chan error, 1)
	var policies []model.Resource
	go func() {
		var err error
		policies, err = s.EffectiveResources(ctx, snapshotID, EffectivePolicyTypes)
		polErr <- err
	}()
	d, err := s.EffectiveData(ctx, snapshotID, EffectiveHolderTypes)
	if perr := <-polErr; err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	ix.Grants = d.Grants
	ix.Holders = sortResources(d.Resources, func(a, b *model.Resource) int { return strings.Compare(a.ID, b.ID) })
	ix.Policies = sortResources(policies, func(a, b *model.Resource) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return ix, nil
}

// sortResources is rs in the order of f, sorting pointers (a resource is
// large to move) and copying once.
func sortResources(rs []model.Resource, f func(a, b *model.Resource) int) []model.Resource {
	ps := make([]*model.Resource, len(rs))
	for i := range rs {
		ps[i] = &rs[i]
	}
	slices.SortFunc(ps, f)
	out := make([]model.Resource, len(rs))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// storeEffectiveIndex stores the encoded index of a snapshot, replacing
// one in another format, giving up (silently: it is a cache) when the
// database does not take it within a few seconds.
func (s *DB) storeEffectiveIndex(ctx context.Context, snapshotID int64, data []byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO effective_index (snapshot_id, format, data) VALUES (?, ?, ?)
		ON CONFLICT (snapshot_id) DO UPDATE SET format=excluded.format, data=excluded.data`), snapshotID, effectiveIndexFormat, data)
}

// The encoding of an index (format 1), every number an unsigned varint:
// the magic and the format; the string table (its count, each string's
// length, then their bytes one after the other; string 0 is ""); the
// holders' count, the policies' count and each resource; the count of
// principals holding grants and for each its string, its count of grants
// and each grant's entitlement, provenance and via strings.
//
// A resource holding only the fields EffectiveResources picks out is:
// 0, then the strings of its type, ID, account, name, ARN, path and parent;
// its tags (0: none; else 1 + their count, then each key and value); a
// bit set of the attributes it has (1 user, 2 role, 4 policy, 8 inline
// policy) and their strings (user ID and boundary; role ID, boundary and
// trust policy; document; document). Any other resource is 1 and the
// string of its JSON.

// Resource attributes of the slim encoding.
const (
	hasUser = 1 << iota
	hasRole
	hasPolicy
	hasInline
)

// encodeEffectiveIndex encodes ix.
func encodeEffectiveIndex(ix *EffectiveIndex) []byte {
	strs := map[string]uint64{"": 0}
	table := []string{""}
	var body []byte
	num := func(n uint64) { body = binary.AppendUvarint(body, n) }
	str := func(v string) {
		i, ok := strs[v]
		if !ok {
			i = uint64(len(table))
			strs[v] = i
			table = append(table, v)
		}
		num(i)
	}
	num(uint64(len(ix.Holders)))
	num(uint64(len(ix.Policies)))
	for _, rs := range [][]model.Resource{ix.Holders, ix.Policies} {
		for i := range rs {
			r := &rs[i]
			if slim := slimOf(r); !reflect.DeepEqual(*r, slim) {
				j, _ := json.Marshal(r)
				num(1)
				str(string(j))
				continue
			}
			num(0)
			for _, v := range []string{string(r.Type), r.ID, r.AccountID, r.Name, r.ARN, r.Path, r.ParentID} {
				str(v)
			}
			if r.Tags == nil {
				num(0)
			} else {
				keys := make([]string, 0, len(r.Tags))
				for k := range r.Tags {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				num(uint64(len(keys)) + 1)
				for _, k := range keys {
					str(k)
					str(r.Tags[k])
				}
			}
			var bits uint64
			if r.User != nil {
				bits |= hasUser
			}
			if r.Role != nil {
				bits |= hasRole
			}
			if r.Policy != nil {
				bits |= hasPolicy
			}
			if r.InlinePolicy != nil {
				bits |= hasInline
			}
			num(bits)
			if r.User != nil {
				str(r.User.UserID)
				str(r.User.PermissionsBoundary)
			}
			if r.Role != nil {
				str(r.Role.RoleID)
				str(r.Role.PermissionsBoundary)
				str(r.Role.TrustPolicy)
			}
			if r.Policy != nil {
				str(r.Policy.Document)
			}
			if r.InlinePolicy != nil {
				str(r.InlinePolicy.Document)
			}
		}
	}
	// The grants, by principal in the holders' order (each principal's
	// as they are).
	held := 0
	for i := range ix.Holders {
		if len(ix.Grants[ix.Holders[i].ID]) > 0 {
			held++
		}
	}
	num(uint64(held))
	for i := range ix.Holders {
		gs := ix.Grants[ix.Holders[i].ID]
		if len(gs) == 0 {
			continue
		}
		str(ix.Holders[i].ID)
		num(uint64(len(gs)))
		for _, g := range gs {
			str(g.EntitlementID)
			str(string(g.Provenance))
			str(g.ViaID)
		}
	}
	out := make([]byte, 0, len(body)+len(table)*3+16)
	out = append(out, effectiveIndexMagic...)
	out = binary.AppendUvarint(out, effectiveIndexFormat)
	out = binary.AppendUvarint(out, uint64(len(table)))
	for _, v := range table {
		out = binary.AppendUvarint(out, uint64(len(v)))
	}
	for _, v := range table {
		out = append(out, v...)
	}
	return append(out, body...)
}

// slimOf is r with only the fields EffectiveResources picks out of a
// user, group, role or policy (for other types: nothing, so no such
// resource is taken for slim).
func slimOf(r *model.Resource) model.Resource {
	switch r.Type {
	case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy, model.TypeInlinePolicy:
	default:
		return model.Resource{}
	}
	s := model.Resource{ID: r.ID, Type: r.Type, AccountID: r.AccountID, Name: r.Name, ARN: r.ARN, Path: r.Path, ParentID: r.ParentID, Tags: r.Tags}
	if r.User != nil {
		s.User = &model.UserAttrs{UserID: r.User.UserID, PermissionsBoundary: r.User.PermissionsBoundary}
	}
	if r.Role != nil {
		s.Role = &model.RoleAttrs{RoleID: r.Role.RoleID, PermissionsBoundary: r.Role.PermissionsBoundary, TrustPolicy: r.Role.TrustPolicy}
	}
	if r.Policy != nil {
		s.Policy = &model.PolicyAttrs{Document: r.Policy.Document}
	}
	if r.InlinePolicy != nil {
		s.InlinePolicy = &model.InlinePolicyAttrs{Document: r.InlinePolicy.Document}
	}
	return s
}

// errIndex is a stored index that does not decode.
var errIndex = errors.New("the effective index does not decode")

// ixReader reads an encoded index; its strings are parts of the one
// text, so decoding allocates none.
type ixReader struct {
	s   string
	i   int
	tab []string
	bad bool
}

func (p *ixReader) num() uint64 {
	if p.bad {
		return 0
	}
	var n uint64
	var shift uint
	for p.i < len(p.s) {
		b := p.s[p.i]
		p.i++
		if shift == 63 && b > 1 {
			break
		}
		n |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return n
		}
		if shift += 7; shift > 63 {
			break
		}
	}
	p.bad = true
	return 0
}

func (p *ixReader) str() string {
	i := p.num()
	if i >= uint64(len(p.tab)) {
		p.bad = true
		return ""
	}
	return p.tab[i]
}

// count reads a count that at most max items can follow.
func (p *ixReader) count(max int) int {
	n := p.num()
	if n > uint64(max) {
		p.bad = true
		return 0
	}
	return int(n)
}

// decodeEffectiveIndex decodes what encodeEffectiveIndex encoded.
func decodeEffectiveIndex(s string) (*EffectiveIndex, error) {
	if !strings.HasPrefix(s, effectiveIndexMagic) {
		return nil, errIndex
	}
	p := &ixReader{s: s, i: len(effectiveIndexMagic)}
	if p.num() != effectiveIndexFormat {
		return nil, errIndex
	}
	n := p.count(len(s))
	lens := make([]int, n)
	total := 0
	for i := range lens {
		lens[i] = p.count(len(s))
		total += lens[i]
	}
	if p.bad || total > len(s)-p.i {
		return nil, errIndex
	}
	p.tab = make([]string, n)
	for i, l := range lens {
		p.tab[i] = s[p.i : p.i+l]
		p.i += l
	}
	lens = nil
	ix := &EffectiveIndex{}
	holders, policies := p.count(len(s)), p.count(len(s))
	all := make([]model.Resource, holders+policies)
	ix.Holders, ix.Policies = all[:holders:holders], all[holders:]
	// The attributes of the slim resources, allocated together.
	var (
		users   []model.UserAttrs
		roles   []model.RoleAttrs
		pols    []model.PolicyAttrs
		inlines []model.InlinePolicyAttrs
		alloc   = 1024
	)
	for i := range all {
		if p.bad {
			return nil, errIndex
		}
		r := &all[i]
		switch p.num() {
		case 1:
			if err := json.Unmarshal([]byte(p.str()), r); err != nil {
				return nil, errIndex
			}
			continue
		case 0:
		default:
			return nil, errIndex
		}
		r.Type = model.ResourceType(p.str())
		r.ID, r.AccountID, r.Name, r.ARN, r.Path, r.ParentID = p.str(), p.str(), p.str(), p.str(), p.str(), p.str()
		if t := p.count(len(s)); t > 0 {
			r.Tags = make(map[string]string, t-1)
			for range t - 1 {
				k := p.str()
				r.Tags[k] = p.str()
			}
		}
		bits := p.num()
		if bits&hasUser != 0 {
			if len(users) == 0 {
				users = make([]model.UserAttrs, alloc)
			}
			r.User, users = &users[0], users[1:]
			r.User.UserID, r.User.PermissionsBoundary = p.str(), p.str()
		}
		if bits&hasRole != 0 {
			if len(roles) == 0 {
				roles = make([]model.RoleAttrs, alloc)
			}
			r.Role, roles = &roles[0], roles[1:]
			r.Role.RoleID, r.Role.PermissionsBoundary, r.Role.TrustPolicy = p.str(), p.str(), p.str()
		}
		if bits&hasPolicy != 0 {
			if len(pols) == 0 {
				pols = make([]model.PolicyAttrs, alloc)
			}
			r.Policy, pols = &pols[0], pols[1:]
			r.Policy.Document = p.str()
		}
		if bits&hasInline != 0 {
			if len(inlines) == 0 {
				inlines = make([]model.InlinePolicyAttrs, alloc)
			}
			r.InlinePolicy, inlines = &inlines[0], inlines[1:]
			r.InlinePolicy.Document = p.str()
		}
	}
	groups := p.count(len(s))
	ix.Grants = make(map[string][]model.Grant, groups)
	var backing []model.Grant
	for range groups {
		principal := p.str()
		k := p.count(len(s))
		if p.bad {
			return nil, errIndex
		}
		if len(backing) < k {
			backing = make([]model.Grant, max(k, 1<<14))
		}
		gs := backing[:k:k]
		backing = backing[k:]
		for j := range gs {
			gs[j] = model.Grant{PrincipalID: principal, EntitlementID: p.str(), Provenance: model.Provenance(p.str()), ViaID: p.str()}
		}
		ix.Grants[principal] = gs
	}
	if p.bad || p.i != len(s) {
		return nil, errIndex
	}
	return ix, nil
}
