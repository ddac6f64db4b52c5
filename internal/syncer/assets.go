package syncer

import (
	"context"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// StageAssets is the stage of reading an account's assets.
const StageAssets = "assets"

// syncAssets reads one account's assets (Options.Assets) into the merged
// graph and returns the parts it could not read. It never fails the
// account: its IAM is read already.
func (s *syncRun) syncAssets(ctx context.Context, accountID string) []model.SourceError {
	o := *s.opts.Assets
	if o.HomeRegion == "" {
		o.HomeRegion = s.sess.Region()
	}
	clients := func(region string) collect.AssetAPIs {
		c := s.sess.Assets(accountID, region)
		return collect.AssetAPIs{EC2: c.EC2, S3: c.S3, KMS: c.KMS, Lambda: c.Lambda, SecretsManager: c.SecretsManager}
	}
	s.progress(Event{Stage: StageAssets, AccountID: accountID, Message: "account " + accountID + ": assets"})
	start := time.Now()
	res, err := collect.CollectAssets(ctx, accountID, clients, s.sess.IAM(accountID), o)
	if err != nil {
		return []model.SourceError{{AccountID: accountID, Source: collect.SourceAssets, Message: "assets not read: " + err.Error(), Fix: "sync again"}}
	}
	s.log.Info("assets read", "account", accountID, "resources", len(res.Graph.Resources), "regions", len(res.Regions), "skipped", len(res.Skipped), "took", time.Since(start))
	s.merged.add(res.Graph)
	return res.Errors
}
