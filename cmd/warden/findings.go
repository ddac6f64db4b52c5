package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

func newFindingsCmd(a *app) *cobra.Command {
	var top, days, limit, unusedDays int
	var eff, esc bool
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "Who holds the most access, admins (effective ones too), old access keys, console users without MFA, outside trust, escalation paths, exposed assets",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 0 || top < 0 || limit < 0 || unusedDays < 1 {
				return usageError("--top, --stale-days and --limit cannot be negative, nor --unused-days below 1", "pass 0 or more (--unused-days: 1 or more)")
			}
			snap, g, err := a.latestGraph(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			events, read, err := a.storedActivity(cmd.Context(), snap.ConnectionID, now.Add(-collect.MaxLookback))
			if err != nil {
				return err
			}
			la, err := a.storedLastAccessed(cmd.Context(), snap.ConnectionID)
			if err != nil {
				return err
			}
			f := render.NewFindings(g, now, top, days).Unused(g, now, unusedDays, events, read).LastAccessed(g, now, la).Assets(snap, g)
			if err := a.effectiveFindings(cmd.Context(), f, snap.ID, g, render.EffectiveOptions{Admins: eff, Escalation: esc}); err != nil {
				return err
			}
			return a.print(f, f.Tables(limit)...)
		},
	}
	cmd.Flags().IntVar(&top, "top", 10, "principals to rank by policies held (0: all)")
	cmd.Flags().IntVar(&days, "stale-days", staleDays, "report access keys older than this many days")
	cmd.Flags().IntVar(&limit, "limit", 20, "rows per table (0: all); JSON always has every row")
	cmd.Flags().IntVar(&unusedDays, "unused-days", findings.DefaultUnusedDays, "report users, keys, roles and Identity Center users unused for more than this many days")
	cmd.Flags().BoolVar(&eff, "effective", true, "decide the effective administrators with the policy evaluator (SCPs, boundaries, denies); --effective=false skips them")
	cmd.Flags().BoolVar(&esc, "escalation", false, "find the privilege escalation paths to administrator (slower: off unless asked)")
	return cmd
}

// effectiveFindings computes the findings of f that use the policy
// evaluator, those opts asks for, over snapshot snap (graph g).
func (a *app) effectiveFindings(ctx context.Context, f *render.Findings, snap int64, g *model.Graph, opts render.EffectiveOptions) error {
	if !opts.Admins && !opts.Escalation {
		_, err := f.Effective(ctx, nil, g, opts)
		return err
	}
	st, _, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if p := a.progressReporter(); p != nil {
		defer p.Done()
		what := "effective administrators"
		if opts.Escalation {
			what += " and privilege escalation paths"
		}
		p.Update("findings", "deciding the "+what+" with the policy evaluator", 0, 0)
	}
	s, err := effective.Load(ctx, st, snap)
	if err != nil {
		return effectiveError(err)
	}
	if _, err := f.Effective(ctx, s, g, opts); err != nil {
		return effectiveError(err)
	}
	return nil
}

// storedLastAccessed returns the connection's stored IAM last accessed
// data.
func (a *app) storedLastAccessed(ctx context.Context, connection string) ([]findings.LastAccessed, error) {
	st, _, err := a.openExisting(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	la, err := access.StoredLastAccessed(ctx, st, connection)
	if err != nil {
		return nil, storeError(err, err.Error(), "check the database, or sync again")
	}
	return la, nil
}

// storedActivity returns the connection's stored CloudTrail events since
// since, and whether it reads activity at all.
func (a *app) storedActivity(ctx context.Context, connection string, since time.Time) ([]collect.ActivityEvent, bool, error) {
	st, _, err := a.openExisting(ctx)
	if err != nil {
		return nil, false, err
	}
	defer st.Close()
	events, read, err := access.StoredActivity(ctx, st, connection, since)
	if err != nil {
		return nil, false, storeError(err, err.Error(), "check the database, or sync again")
	}
	return events, read, nil
}
