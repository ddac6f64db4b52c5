package collect

import (
	"fmt"

	"github.com/warden-iam/warden/internal/model"
)

// graphBuilder accumulates one account's graph: resources and entitlements
// once each, grants without duplicates, and the problems met on the way.
type graphBuilder struct {
	account string
	g       model.Graph
	ids     map[string]bool
	ents    map[string]bool
	grants  map[model.Grant]bool
	errs    []model.SourceError
	// dangling counts references to entities GetAccountAuthorizationDetails
	// did not return (a group or policy created or deleted between pages).
	dangling int
}

func newGraphBuilder(account string) *graphBuilder {
	return &graphBuilder{account: account, ids: map[string]bool{}, ents: map[string]bool{}, grants: map[model.Grant]bool{}}
}

// resource adds r unless a resource with its ID is already there.
func (b *graphBuilder) resource(r model.Resource) {
	if b.ids[r.ID] {
		return
	}
	b.ids[r.ID] = true
	b.g.Resources = append(b.g.Resources, r)
}

// has reports whether a resource with the ID was added.
func (b *graphBuilder) has(id string) bool { return b.ids[id] }

// entitlement adds the named entitlement of a resource and returns its ID.
func (b *graphBuilder) entitlement(resourceID, name string) string {
	id := model.EntitlementID(resourceID, name)
	if !b.ents[id] {
		b.ents[id] = true
		b.g.Entitlements = append(b.g.Entitlements, model.Entitlement{ID: id, ResourceID: resourceID, Name: name})
	}
	return id
}

// grant gives principalID the entitlement entID.
func (b *graphBuilder) grant(principalID, entID string, via model.Provenance, viaID string) {
	g := model.Grant{PrincipalID: principalID, EntitlementID: entID, Provenance: via, ViaID: viaID}
	if !b.grants[g] {
		b.grants[g] = true
		b.g.Grants = append(b.g.Grants, g)
	}
}

// grantTo grants the named entitlement of resourceID, which must be in the
// graph already; a reference to a missing resource is counted as dangling.
func (b *graphBuilder) grantTo(principalID, resourceID, name string, via model.Provenance, viaID string) {
	if !b.has(resourceID) {
		b.dangling++
		return
	}
	b.grant(principalID, b.entitlement(resourceID, name), via, viaID)
}

// document decodes a policy document for storage; one that cannot be read
// is kept as IAM sent it and recorded as a problem.
func (b *graphBuilder) document(what, raw string) string {
	doc, err := decodeDocument(raw)
	if err != nil {
		b.fail(SourceIAM, fmt.Sprintf("could not read the %s: %v; stored as AWS returned it", what, err), "")
		return raw
	}
	return doc
}

// fail records a problem.
func (b *graphBuilder) fail(source, message, fix string) {
	b.errs = append(b.errs, model.SourceError{AccountID: b.account, Source: source, Message: message, Fix: fix})
}

// errors returns the problems recorded, with dangling references summed up.
func (b *graphBuilder) errors() []model.SourceError {
	errs := b.errs
	if b.dangling > 0 {
		errs = append(errs, model.SourceError{AccountID: b.account, Source: SourceIAM,
			Message: fmt.Sprintf("%d memberships or attachments name a group or policy that GetAccountAuthorizationDetails did not return (IAM changed during the sync); they are left out", b.dangling),
			Fix:     "sync again"})
	}
	return errs
}
