package collect

import (
	"slices"
	"sort"
	"sync"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// A failing call costs only what it touches: the collectors record a part
// they could not read (one user's keys, one SCP's document, one permission
// set's boundary) as a SourceError, mark the resource's part Unread, and
// store everything else; a failed listing of Identity Center users, groups
// or permission sets leaves out those and what refers to them. Only a call
// without which nothing else can be read (an account's authorization
// details, the listing of the organization's tree, finding the Identity
// Center instance) fails its collector.

// partFailure describes a part that could not be read: what, AWS's
// problem and its fix, and what the snapshot holds instead.
func partFailure(account, source, what string, err error, instead string) model.SourceError {
	problem, fix := awsapi.Explain(err)
	if fix == "" {
		fix = "sync again; if it persists, check the permissions of the sync's credentials"
	}
	return model.SourceError{AccountID: account, Source: source, Message: what + ": " + problem + "; " + instead, Fix: fix}
}

// failures collects the part failures of one collector, safe for
// concurrent use.
type failures struct {
	mu     sync.Mutex
	errs   []model.SourceError
	unread map[string][]string // resource ID → parts not read
}

// add records a failed part of resource id (part "" marks nothing).
func (f *failures) add(id, part string, e model.SourceError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, e)
	if part == "" {
		return
	}
	if f.unread == nil {
		f.unread = map[string][]string{}
	}
	f.unread[id] = append(f.unread[id], part)
}

// has reports whether part of resource id could not be read.
func (f *failures) has(id, part string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.unread[id] {
		if p == part {
			return true
		}
	}
	return false
}

// list returns the failures, in a stable order.
func (f *failures) list() []model.SourceError {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]model.SourceError(nil), f.errs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Message < out[j].Message })
	return out
}

// mark sets the Unread parts of the graph's resources, sorted.
func (f *failures) mark(g *model.Graph) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range g.Resources {
		if parts := f.unread[g.Resources[i].ID]; len(parts) > 0 {
			parts = append([]string(nil), parts...)
			sort.Strings(parts)
			g.Resources[i].Unread = slices.Compact(parts)
		}
	}
}
