package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// diffFlags are the flags of `warden diff`.
type diffFlags struct {
	since, at, only, account, principal string
	exitCode                            bool
	limit                               int
}

func newDiffCmd(a *app) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [FROM [TO]]",
		Short: "What changed between two snapshots: access gained and lost, admins, trust, keys, MFA, assignments, assets, resources",
		Long: `diff compares two snapshots of the connection, by default the previous and the latest, and
says what changed, security-relevant first: principals who gained or lost an entitlement and
through what, administrators added and removed, trust to outside accounts or anyone, access keys
created, deleted, activated or deactivated, console access and MFA added or removed, Identity
Center assignments (with the people they reach through groups), findings new and resolved, assets
(buckets, KMS keys, functions, secrets, instances and security groups added or removed; resource
policy statements, Block Public Access, KMS grants, execution and instance roles, public IPs,
instance states and security group rules changed, each with its severity), then every resource
added, removed or changed with the fields that changed (a policy document: the statements added
and removed). Each change carries who made it when CloudTrail recorded it (activity).

FROM and TO are snapshot ids (` + "`warden snapshots`" + ` lists them); TO defaults to the latest.
--since 24h or --at 2026-11-30T09:00Z compares the state as of then (the newest snapshot finished
at or before it) with the latest. --exit-code exits 1 when anything changed and 0 when nothing did.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return usageError(fmt.Sprintf("diff takes at most two snapshot ids, got %d arguments", len(args)), "usage: "+cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := f.check(len(args)); err != nil {
				return err
			}
			st, path, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			from, to, err := a.diffSnapshots(ctx, st, path, args, f, time.Now())
			if err != nil {
				return err
			}
			filter := diff.Filter{Only: f.only, AccountID: f.account}
			if f.principal != "" {
				if filter.Principals, err = diffPrincipal(ctx, st, from, to, f.principal); err != nil {
					return err
				}
			}
			r, err := diff.Compute(ctx, st, from, to, filter)
			if err != nil {
				return storeError(err, fmt.Sprintf("compare snapshots %d and %d in %s: %v", from.ID, to.ID, path, err),
					"check the file is not being written by another process, or sync again")
			}
			events, _, err := access.StoredActivity(ctx, st, to.ConnectionID, from.StartedAt.Truncate(time.Second))
			if err != nil {
				return storeError(err, err.Error(), "check the database, or sync again")
			}
			diff.AddActors(r, events)
			if err := a.print(r, render.DiffTables(r, f.limit)...); err != nil {
				return err
			}
			if f.exitCode && r.Summary.Changed {
				return &cliError{code: exitError, problem: fmt.Sprintf("snapshots %d and %d differ (--exit-code)", from.ID, to.ID)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "compare the state this long ago (24h, 90m, 7d) with the latest")
	fl.StringVar(&f.at, "at", "", "compare the state at this time (RFC 3339: 2026-11-30T09:00Z) with the latest")
	fl.StringVar(&f.only, "only", "", "only one kind of change: grants, resources or findings")
	fl.StringVar(&f.account, "account", "", "only changes in this account (12-digit id), or of its principals")
	fl.StringVar(&f.principal, "principal", "", "only changes about this user, group or role (name, ARN or e-mail)")
	fl.BoolVar(&f.exitCode, "exit-code", false, "exit 1 when anything changed, 0 when nothing did")
	fl.IntVar(&f.limit, "limit", 50, "changes shown per section (0: all); JSON always has every change")
	return cmd
}

// check refuses flags that are malformed or do not go together.
func (f *diffFlags) check(args int) error {
	switch {
	case f.since != "" && f.at != "":
		return usageError("--since and --at both name the older snapshot", "pass one of them")
	case (f.since != "" || f.at != "") && args > 0:
		return usageError("--since and --at name the older snapshot, and so does FROM", "pass snapshot ids or --since/--at, not both")
	case f.only != "" && !contains(diff.OnlyValues, f.only):
		return usageError(fmt.Sprintf("--only %q is not a kind of change", f.only), "use --only grants, --only resources or --only findings")
	case f.account != "" && !model.IsAccountID(f.account):
		return usageError(fmt.Sprintf("--account %q is not an account id", f.account), "give the 12-digit account id, such as --account 111122223333")
	case f.limit < 0:
		return usageError("--limit cannot be negative", "pass 0 (all) or more")
	case strings.TrimSpace(f.principal) == "" && f.principal != "":
		return usageError("--principal is empty", "give a user, group or role name, an ARN, or an e-mail address")
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// diffSnapshots resolves the two snapshots to compare: FROM and TO by id,
// the state as of --since or --at, or by default the connection's previous
// and latest.
func (a *app) diffSnapshots(ctx context.Context, st store.Store, path string, args []string, f diffFlags, now time.Time) (from, to *model.Snapshot, err error) {
	ids := make([]int64, len(args))
	for i, s := range args {
		if ids[i], err = strconv.ParseInt(s, 10, 64); err != nil || ids[i] <= 0 {
			return nil, nil, usageError(fmt.Sprintf("%q is not a snapshot id", s), "give snapshot ids as `warden snapshots` lists them, such as `warden diff 41 42`")
		}
	}
	byID := func(id int64) (*model.Snapshot, error) {
		s, err := st.Snapshot(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, usageError(fmt.Sprintf("no snapshot %d in %s", id, path), "list the snapshots with `warden snapshots` (and --connection ID for another connection)")
		}
		if err != nil {
			return nil, storeError(err, fmt.Sprintf("read snapshot %d from %s: %v", id, path, err), "check the file is a warden database that is not being written")
		}
		return s, nil
	}
	conn := a.connection
	if len(ids) > 0 {
		if from, err = byID(ids[0]); err != nil {
			return nil, nil, err
		}
		if a.connectionSet && from.ConnectionID != a.connection {
			return nil, nil, usageError(fmt.Sprintf("snapshot %d is of connection %q, not %q", from.ID, from.ConnectionID, a.connection),
				"leave out --connection, or give snapshot ids of that connection (`warden snapshots --connection ID`)")
		}
		conn = from.ConnectionID
	}
	if len(ids) > 1 {
		if to, err = byID(ids[1]); err != nil {
			return nil, nil, err
		}
		if to.ConnectionID != from.ConnectionID {
			return nil, nil, usageError(fmt.Sprintf("snapshot %d is of connection %q and snapshot %d of %q: snapshots of different connections cannot be compared",
				from.ID, from.ConnectionID, to.ID, to.ConnectionID), "give two snapshots of one connection: `warden snapshots --connection ID` lists them")
		}
		return from, to, nil
	}
	snaps, err := st.Snapshots(ctx, conn)
	if err != nil {
		return nil, nil, storeError(err, fmt.Sprintf("list snapshots in %s: %v", path, err), "check the file is a warden database that is not being written")
	}
	if len(snaps) == 0 {
		return nil, nil, storeError(store.ErrNoSnapshot, fmt.Sprintf("no snapshot yet in %s for connection %q", path, conn),
			"run `warden sync` twice (or `warden demo`, then use --db warden-demo.db), then diff")
	}
	to = &snaps[0]
	switch {
	case from != nil:
	case f.since != "" || f.at != "":
		when, what, err := diffTime(f, now)
		if err != nil {
			return nil, nil, err
		}
		for i := range snaps {
			if !snaps[i].FinishedAt.After(when) {
				from = &snaps[i]
				break
			}
		}
		if from == nil {
			oldest := snaps[len(snaps)-1]
			return nil, nil, usageError(fmt.Sprintf("no snapshot of connection %q had finished by %s (%s); the oldest finished at %s",
				conn, when.UTC().Format(time.RFC3339), what, oldest.FinishedAt.UTC().Format(time.RFC3339)),
				fmt.Sprintf("pick a later time, or compare from the oldest: `warden diff %d`", oldest.ID))
		}
	case len(snaps) == 1:
		return nil, nil, storeError(nil, fmt.Sprintf("only one snapshot (%d) in %s for connection %q: nothing to compare", to.ID, path, conn),
			"sync again, then run `warden diff`")
	default:
		from = &snaps[1]
	}
	return from, to, nil
}

// diffTime returns the time --since or --at names, and how it was given.
func diffTime(f diffFlags, now time.Time) (time.Time, string, error) {
	if f.since != "" {
		d, err := parseAge(f.since)
		if err != nil || d < 0 {
			return time.Time{}, "", usageError(fmt.Sprintf("--since %q is not a duration", f.since), "give a duration such as --since 24h, --since 90m or --since 7d")
		}
		return now.Add(-d), "--since " + f.since, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", time.DateOnly} {
		if t, err := time.Parse(layout, f.at); err == nil {
			return t, "--at " + f.at, nil
		}
	}
	return time.Time{}, "", usageError(fmt.Sprintf("--at %q is not a time", f.at),
		"give an RFC 3339 time, with or without seconds: --at 2026-11-30T09:00Z, --at 2026-11-30T09:00:00+01:00, or a day: --at 2026-11-30")
}

// parseAge reads a Go duration (90m, 24h) or a number of days (7d).
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// diffPrincipal resolves --principal in the newer snapshot, else the older
// (a principal since deleted), to the IDs of the resources it names.
func diffPrincipal(ctx context.Context, st store.Store, from, to *model.Snapshot, query string) ([]string, error) {
	var found []model.Resource
	for _, snap := range []*model.Snapshot{to, from} {
		rs, err := st.FindPrincipal(ctx, snap.ID, query)
		if err != nil {
			return nil, storeError(err, fmt.Sprintf("look up %q in snapshot %d: %v", query, snap.ID, err), "sync again to write a fresh snapshot")
		}
		if len(rs) > 0 {
			found = rs
			break
		}
	}
	switch len(found) {
	case 0:
		return nil, usageError(fmt.Sprintf("no user, group or role matches --principal %q in snapshot %d or %d", query, from.ID, to.ID),
			"list them with `warden show users` (or groups, roles); give a name, an ARN or an e-mail address")
	case 1:
		return []string{found[0].ID}, nil
	}
	return nil, usageError(fmt.Sprintf("--principal %q matches %d principals:%s", query, len(found), principalList(found)),
		"pass the ARN (the last column) of the one you mean")
}
