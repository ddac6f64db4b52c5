// Package benchestate builds the estate of the storage benchmarks (issue
// 11): the organization `warden fake-aws --accounts N` serves, synced
// through the real AWS SDK and collectors from an in-process emulator, and
// a deterministic change of a fraction of its principals, for re-sync and
// diff benchmarks.
package benchestate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The estate of `warden fake-aws --accounts N` with its defaults: 300 users
// per account (40 groups, 120 roles, 60 policies), seed 2, 4 SCPs.
const (
	usersPerAccount = 300
	seed            = 2
	externalID      = "warden-fake-aws-external-id-0000000000"
)

// OrgEstate returns the organization `warden fake-aws --accounts accounts`
// serves (cmd/warden's fake-aws and demo estate, same shape and seed).
func OrgEstate(accounts int) awsfake.OrgEstate {
	u := usersPerAccount
	return awsfake.OrgEstate{Accounts: accounts, SCPs: 4, Seed: seed, ExternalID: externalID,
		PerAccount: awsfake.Estate{AccountID: "123456789012", Alias: "warden-fake", Users: u,
			Groups: u * 40 / 300, Roles: u * 120 / 300, Policies: u * 60 / 300, Seed: seed}}
}

// capture is a Store that keeps the one snapshot Sync writes instead of
// storing it; Sync calls nothing else.
type capture struct {
	store.Store
	snap *model.Snapshot
	g    *model.Graph
}

func (c *capture) WriteSnapshot(_ context.Context, snap *model.Snapshot, g *model.Graph) (int64, error) {
	c.snap, c.g = snap, g
	return 1, nil
}

// Build syncs the organization of OrgEstate(accounts) (management account
// plus accounts members) from an in-process emulator in organization mode,
// with the client rate limits lifted, and returns the snapshot and graph
// warden would store. The caller should clear AWS_* variables of the
// environment (a profile or endpoint there would be ignored anyway: the
// session gets explicit credentials, region and endpoint).
func Build(ctx context.Context, accounts int) (*model.Snapshot, *model.Graph, error) {
	if accounts < 1 {
		return nil, nil, fmt.Errorf("benchestate: accounts must be at least 1, got %d", accounts)
	}
	srv := awsfake.NewServer(awsfake.Options{Seed: seed})
	defer srv.Close()
	creds := OrgEstate(accounts).Build().Install(srv)
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		IAMRate:     100000, OrganizationsRate: 100000})
	if err != nil {
		return nil, nil, fmt.Errorf("benchestate: session for the emulator: %w", err)
	}
	c := &capture{}
	iam := collect.DefaultIAMOptions()
	iam.ReportPoll = 10 * time.Millisecond
	if _, err := syncer.Sync(ctx, sess, c, syncer.Options{IAM: iam,
		Organization: &syncer.OrganizationOptions{ExternalID: externalID}}); err != nil {
		return nil, nil, fmt.Errorf("benchestate: sync the emulated organization: %w", err)
	}
	if c.snap.Status != model.StatusComplete {
		return nil, nil, fmt.Errorf("benchestate: sync of the emulated organization is %s: %+v", c.snap.Status, c.snap.Errors)
	}
	c.g.Sort()
	return c.snap, c.g, nil
}

// Change counts what Mutate did.
type Change struct {
	Principals  int // principals changed (each one way)
	Memberships int // users added to one more group
	Attachments int // principals given one more managed policy
	Tags        int // principals whose tag changed
	Removed     int // principals deleted, with what they own
}

// Mutate returns a copy of g (which it leaves as it was) in which every
// every-th principal (IAM users, groups and roles, in ID order) changed,
// cycling through four changes: a user joins one more group of its account
// (with the grants inherited from that group's policies; a group or role
// gets a policy attachment instead), a managed policy of its account is
// attached, the value of a tag changes (or a tag is added), and the
// principal is deleted with its keys, MFA devices and inline policies. The
// same g and every give the same result. every 100 changes 1%.
func Mutate(g *model.Graph, every int) (*model.Graph, Change) {
	if every < 1 {
		every = 1
	}
	out := &model.Graph{Resources: slices.Clone(g.Resources), Entitlements: slices.Clone(g.Entitlements), Grants: slices.Clone(g.Grants)}
	var principals []int
	policies := map[string][]string{} // account -> managed policy IDs, sorted
	groups := map[string][]string{}   // account -> group IDs, sorted
	byID := map[string]int{}
	for i, r := range out.Resources {
		byID[r.ID] = i
		switch r.Type {
		case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole:
			principals = append(principals, i)
		}
		switch r.Type {
		case model.TypeIAMPolicy:
			if r.Policy != nil && !r.Policy.AWSManaged {
				policies[r.AccountID] = append(policies[r.AccountID], r.ID)
			}
		case model.TypeIAMGroup:
			groups[r.AccountID] = append(groups[r.AccountID], r.ID)
		}
	}
	slices.SortFunc(principals, func(a, b int) int { return strings.Compare(out.Resources[a].ID, out.Resources[b].ID) })
	held := map[[2]string]bool{} // (principal, entitlement) held directly
	policyOf := map[string][]string{}
	for _, gr := range out.Grants {
		if gr.Provenance == model.ViaDirect {
			held[[2]string{gr.PrincipalID, gr.EntitlementID}] = true
			if strings.HasSuffix(gr.EntitlementID, "#"+model.EntAttached) {
				policyOf[gr.PrincipalID] = append(policyOf[gr.PrincipalID], gr.EntitlementID)
			}
		}
	}
	var ch Change
	removed := map[string]bool{}
	for n, i := 0, every-1; i < len(principals); n, i = n+1, i+every {
		r := &out.Resources[principals[i]]
		ch.Principals++
		kind := n % 4
		if kind == 0 && r.Type != model.TypeIAMUser {
			kind = 1
		}
		switch kind {
		case 0: // join the first group of the account the user is not in
			for _, gid := range groups[r.AccountID] {
				member := model.EntitlementID(gid, model.EntMember)
				if held[[2]string{r.ID, member}] {
					continue
				}
				held[[2]string{r.ID, member}] = true
				out.Grants = append(out.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: member, Provenance: model.ViaDirect})
				for _, pol := range policyOf[gid] {
					out.Grants = append(out.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: pol, Provenance: model.ViaGroup, ViaID: gid})
				}
				ch.Memberships++
				break
			}
		case 1: // attach the first customer managed policy it lacks
			for _, pid := range policies[r.AccountID] {
				att := model.EntitlementID(pid, model.EntAttached)
				if held[[2]string{r.ID, att}] {
					continue
				}
				held[[2]string{r.ID, att}] = true
				out.Grants = append(out.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: att, Provenance: model.ViaDirect})
				// IAM counts the policy's attachments.
				if p := &out.Resources[byID[pid]]; p.Policy != nil {
					attrs := *p.Policy
					attrs.AttachmentCount++
					p.Policy = &attrs
				}
				ch.Attachments++
				break
			}
		case 2:
			tags := maps.Clone(r.Tags)
			if tags == nil {
				tags = map[string]string{}
			}
			tags["cost-center"] = fmt.Sprintf("changed-%d", n)
			r.Tags = tags
			ch.Tags++
		case 3:
			removed[r.ID] = true
			ch.Removed++
		}
	}
	if len(removed) > 0 {
		// What a deleted principal owns goes with it.
		for _, r := range out.Resources {
			if r.ParentID != "" && removed[r.ParentID] {
				removed[r.ID] = true
			}
		}
		out.Resources = slices.DeleteFunc(out.Resources, func(r model.Resource) bool { return removed[r.ID] })
		out.Entitlements = slices.DeleteFunc(out.Entitlements, func(e model.Entitlement) bool { return removed[e.ResourceID] })
		out.Grants = slices.DeleteFunc(out.Grants, func(gr model.Grant) bool {
			res := gr.EntitlementID
			if i := strings.LastIndexByte(res, '#'); i >= 0 {
				res = res[:i]
			}
			return removed[gr.PrincipalID] || removed[gr.ViaID] || removed[res]
		})
	}
	out.Sort()
	return out, ch
}
