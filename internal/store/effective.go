package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
)

// EffectiveGrantKinds are the entitlement kinds (the part of an
// entitlement ID after its last '#') EffectiveData reads: group
// membership, attached policies, trust (assume) and, by prefix, Identity
// Center account assignments ("account:…"). Ownership (access keys, MFA
// devices) and containment (the organization's tree, which resources' parent
// IDs give) are left out.
var EffectiveGrantKinds = []string{model.EntMember, model.EntAttached, model.EntAssume}

// EffectiveData is what internal/effective's who-can needs of a snapshot,
// read by EffectiveData: the resources of the types asked for, and the
// grants of the kinds EffectiveGrantKinds names held by them, grouped by
// principal (each group in the order of model.Graph.Sort; no entitlement
// rows).
type EffectiveData struct {
	Resources []model.Resource
	Grants    map[string][]model.Grant // by principal ID
}

// EffectiveData reads, at once on separate connections, the resources of
// snapshot snapshotID of the given types (decoded on every core) and the
// grants they hold of the kinds of EffectiveGrantKinds or an account
// assignment. The grants are read as one text column per row and cut in
// Go, which costs SQLite (and the driver) about half of reading four
// columns; no entitlement is read and nothing is sorted in SQL. A snapshot
// that does not exist reads as empty.
func (s *DB) EffectiveData(ctx context.Context, snapshotID int64, types []model.ResourceType) (*EffectiveData, error) {
	out := &EffectiveData{Grants: map[string][]model.Grant{}}
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok || len(types) == 0 {
		return out, err
	}
	a := atArgs(c, snapshotID)
	filter := make([]any, 0, len(types))
	for _, t := range types {
		filter = append(filter, string(t))
	}
	var (
		wg     sync.WaitGroup
		resErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		out.Resources, resErr = s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r")+
			` AND r.type IN (`+placeholders(len(types))+`)`, args(a, filter)...)
	}()
	var all []model.Grant
	grantErr := s.effectiveGrants(ctx, a, func(g model.Grant) { all = append(all, g) })
	wg.Wait()
	if resErr != nil {
		return nil, resErr
	}
	if grantErr != nil {
		return nil, grantErr
	}
	in := make(map[string]bool, len(out.Resources))
	for i := range out.Resources {
		in[out.Resources[i].ID] = true
	}
	for _, g := range all {
		if in[g.PrincipalID] {
			out.Grants[g.PrincipalID] = append(out.Grants[g.PrincipalID], g)
		}
	}
	for _, gs := range out.Grants {
		if len(gs) > 1 {
			sortGrants(gs)
		}
	}
	return out, nil
}

// sortGrants sorts one principal's grants as model.Graph.Sort does.
func sortGrants(gs []model.Grant) {
	// Groups are short (tens): an insertion sort allocates nothing.
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && compareGrants(gs[j], gs[j-1]) < 0; j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}

// effectiveGrants calls each with every grant of the snapshot (arguments
// a) of a kind EffectiveData reads.
func (s *DB) effectiveGrants(ctx context.Context, a []any, each func(model.Grant)) error {
	// The columns joined by tabs, which no ID, provenance or via holds.
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT g.principal_id || '	' || g.entitlement_id || '	' || g.provenance || '	' || g.via_id
		FROM grant_versions g WHERE `+at("g")), a...)
	if err != nil {
		return fmt.Errorf("read grants from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("read grants from %s: %w", s.path, err)
		}
		p, rest, ok1 := strings.Cut(line, "\t")
		e, rest, ok2 := strings.Cut(rest, "\t")
		prov, via, ok3 := strings.Cut(rest, "\t")
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("read grants from %s: a grant row %q has not four tab-separated fields", s.path, line)
		}
		if !effectiveKind(e) {
			continue
		}
		each(model.Grant{PrincipalID: p, EntitlementID: e, Provenance: model.Provenance(prov), ViaID: via})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read grants from %s: %w", s.path, err)
	}
	return nil
}

// effectiveKind reports whether entitlement ID e is of a kind
// EffectiveData reads.
func effectiveKind(e string) bool {
	i := strings.LastIndexByte(e, '#')
	if i < 0 {
		return false
	}
	k := e[i+1:]
	for _, w := range EffectiveGrantKinds {
		if k == w {
			return true
		}
	}
	return strings.HasPrefix(k, model.AssignmentEntitlement(""))
}
