package store

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

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
// read by EffectiveData: the resources of the types asked for (IAM users,
// groups, roles and policies with only the fields EffectiveResources
// names), and the grants of the kinds EffectiveGrantKinds names held by them, grouped by
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
// columns, in the order of the principal index (so each principal's come
// together, with no sort in SQL or over all of them in Go); no
// entitlement is read. A snapshot that does not exist reads as empty.
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
		out.Resources, resErr = s.effectiveResources(ctx, a, filter)
	}()
	all := make([]model.Grant, 0, 1<<14)
	grantErr := s.effectiveGrants(ctx, a, func(g model.Grant) { all = append(all, g) })
	wg.Wait()
	if resErr != nil {
		return nil, resErr
	}
	if grantErr != nil {
		return nil, grantErr
	}
	// The grants come by principal (ORDER BY principal_id, which SQLite
	// reads off its index): each principal's are one run of all. A
	// principal met again later (a collation that orders equal IDs apart)
	// has its runs joined.
	in := make(map[string]bool, len(out.Resources))
	for i := range out.Resources {
		in[out.Resources[i].ID] = true
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].PrincipalID == all[i].PrincipalID {
			j++
		}
		if p := all[i].PrincipalID; in[p] {
			if prev, ok := out.Grants[p]; ok {
				out.Grants[p] = append(prev, all[i:j]...)
			} else {
				out.Grants[p] = all[i:j:j]
			}
		}
		i = j
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
	if len(gs) > 32 {
		slices.SortFunc(gs, compareGrants)
		return
	}
	// Most groups are short: an insertion sort allocates nothing.
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
		FROM grant_versions g WHERE `+at("g")+` ORDER BY g.principal_id`), a...)
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

// EffectiveResources reads the resources of snapshot snapshotID of the
// given types as internal/effective needs them, decoding on every core.
// An IAM user, group or role, managed or inline policy carries only its
// ID, type, account, name, ARN, path, parent and tags, and: a user its
// user ID and permissions boundary; a role its role ID, permissions
// boundary and trust policy; a policy its document. These are picked out
// of the stored JSON without decoding the rest of it; every other type is
// decoded whole. They come in no particular order.
func (s *DB) EffectiveResources(ctx context.Context, snapshotID int64, types []model.ResourceType) ([]model.Resource, error) {
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok || len(types) == 0 {
		return nil, err
	}
	filter := make([]any, 0, len(types))
	for _, t := range types {
		filter = append(filter, string(t))
	}
	return s.effectiveResources(ctx, atArgs(c, snapshotID), filter)
}

// effectiveResources reads the resources of the snapshot (arguments a) of
// the types of filter, as EffectiveResources.
func (s *DB) effectiveResources(ctx context.Context, a, filter []any) ([]model.Resource, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT r.data FROM resource_versions r WHERE `+at("r")+
		` AND r.type IN (`+placeholders(len(filter))+`)`), args(a, filter)...)
	if err != nil {
		return nil, fmt.Errorf("read resources from %s: %w", s.path, err)
	}
	defer rows.Close()
	const batch = 512
	type part struct {
		rs  []model.Resource
		err error
	}
	var (
		parts []*part
		wg    sync.WaitGroup
		sem   = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	decode := func(data []string) {
		p := &part{rs: make([]model.Resource, len(data))}
		parts = append(parts, p)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for j, d := range data {
				if err := decodeEffective(d, &p.rs[j]); err != nil {
					p.err = fmt.Errorf("decode resource in %s: %w", s.path, err)
					return
				}
			}
		}()
	}
	pending := make([]string, 0, batch)
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			wg.Wait()
			return nil, fmt.Errorf("read resources from %s: %w", s.path, err)
		}
		if pending = append(pending, data); len(pending) == batch {
			decode(pending)
			pending = make([]string, 0, batch)
		}
	}
	if len(pending) > 0 {
		decode(pending)
	}
	wg.Wait()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read resources from %s: %w", s.path, err)
	}
	n := 0
	for _, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		n += len(p.rs)
	}
	out := make([]model.Resource, 0, n)
	for _, p := range parts {
		out = append(out, p.rs...)
	}
	return out, nil
}

// decodeEffective decodes one resource's stored JSON into r: the fields
// EffectiveResources names for the types it picks them for, else all.
func decodeEffective(data string, r *model.Resource) error {
	if slimDecode(data, r) {
		switch r.Type {
		case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy, model.TypeInlinePolicy:
			return nil
		}
	}
	*r = model.Resource{}
	return json.Unmarshal([]byte(data), r)
}

// slimDecode picks the fields EffectiveResources names out of a
// resource's JSON (written by encoding/json), skipping every other value
// without decoding it; false when the text is not what it expects (the
// caller then decodes it whole).
func slimDecode(data string, r *model.Resource) bool {
	p := &jscan{s: data}
	return p.object(func(key string) bool {
		switch key {
		case "id":
			return p.strInto(&r.ID)
		case "type":
			var t string
			ok := p.strInto(&t)
			r.Type = model.ResourceType(t)
			return ok
		case "account_id":
			return p.strInto(&r.AccountID)
		case "name":
			return p.strInto(&r.Name)
		case "arn":
			return p.strInto(&r.ARN)
		case "path":
			return p.strInto(&r.Path)
		case "parent_id":
			return p.strInto(&r.ParentID)
		case "tags":
			if p.null() {
				return true
			}
			r.Tags = map[string]string{}
			return p.object(func(k string) bool {
				var v string
				ok := p.strInto(&v)
				r.Tags[k] = v
				return ok
			})
		case "user":
			if p.null() {
				return true
			}
			r.User = &model.UserAttrs{}
			return p.object(func(k string) bool {
				switch k {
				case "user_id":
					return p.strInto(&r.User.UserID)
				case "permissions_boundary":
					return p.strInto(&r.User.PermissionsBoundary)
				}
				return p.skip()
			})
		case "role":
			if p.null() {
				return true
			}
			r.Role = &model.RoleAttrs{}
			return p.object(func(k string) bool {
				switch k {
				case "role_id":
					return p.strInto(&r.Role.RoleID)
				case "permissions_boundary":
					return p.strInto(&r.Role.PermissionsBoundary)
				case "trust_policy":
					return p.strInto(&r.Role.TrustPolicy)
				}
				return p.skip()
			})
		case "policy":
			if p.null() {
				return true
			}
			r.Policy = &model.PolicyAttrs{}
			return p.object(func(k string) bool {
				if k == "document" {
					return p.strInto(&r.Policy.Document)
				}
				return p.skip()
			})
		case "inline_policy":
			if p.null() {
				return true
			}
			r.InlinePolicy = &model.InlinePolicyAttrs{}
			return p.object(func(k string) bool {
				if k == "document" {
					return p.strInto(&r.InlinePolicy.Document)
				}
				return p.skip()
			})
		}
		return p.skip()
	}) && p.end()
}

// jscan walks a JSON text that encoding/json wrote.
type jscan struct {
	s string
	i int
}

func (p *jscan) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (p *jscan) end() bool {
	p.ws()
	return p.i == len(p.s)
}

// null consumes a null, reporting whether there was one.
func (p *jscan) null() bool {
	p.ws()
	if strings.HasPrefix(p.s[p.i:], "null") {
		p.i += 4
		return true
	}
	return false
}

// rawString consumes a string, returning its text between the quotes and
// whether it holds an escape.
func (p *jscan) rawString() (raw string, escaped, ok bool) {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false, false
	}
	j := p.i + 1
	for j < len(p.s) {
		switch p.s[j] {
		case '\\':
			escaped = true
			j += 2
			continue
		case '"':
			raw = p.s[p.i+1 : j]
			p.i = j + 1
			return raw, escaped, true
		}
		j++
	}
	return "", false, false
}

// strInto consumes a string (or null, which leaves *dst as it is) into
// *dst, unescaping it with encoding/json when it holds an escape.
func (p *jscan) strInto(dst *string) bool {
	if p.null() {
		return true
	}
	start := p.i
	raw, escaped, ok := p.rawString()
	if !ok {
		return false
	}
	if !escaped {
		*dst = raw
		return true
	}
	if u, ok := unescape(raw); ok {
		*dst = u
		return true
	}
	return json.Unmarshal([]byte(p.s[start:p.i]), dst) == nil
}

// unescape undoes the escapes of a JSON string's text; false for an escape
// it does not take (a lone surrogate: the caller asks encoding/json).
func unescape(raw string) (string, bool) {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i++; i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			b = append(b, raw[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(raw, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
					return "", false
				}
				r2, ok := hex4(raw, i+3)
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return string(b), true
}

// hex4 is the rune of the four hex digits of s at i.
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// object consumes an object, calling each with every key; each consumes
// the key's value.
func (p *jscan) object(each func(key string) bool) bool {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return true
	}
	for {
		var key string
		if !p.strInto(&key) {
			return false
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return false
		}
		p.i++
		if !each(key) {
			return false
		}
		p.ws()
		if p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// skip consumes any value.
func (p *jscan) skip() bool {
	p.ws()
	if p.i >= len(p.s) {
		return false
	}
	switch p.s[p.i] {
	case '"':
		_, _, ok := p.rawString()
		return ok
	case '{', '[':
		depth := 0
		for p.i < len(p.s) {
			switch p.s[p.i] {
			case '"':
				if _, _, ok := p.rawString(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return true
				}
			}
			p.i++
		}
		return false
	}
	start := p.i
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return p.i > start
		}
		p.i++
	}
	return p.i > start
}
