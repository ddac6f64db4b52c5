package syncer

import (
	"context"
	"sync"
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
	var notes []model.SourceError
	o.Inventory, notes = s.assetInventory(ctx, o)
	clients := func(region string) collect.AssetAPIs {
		c := s.sess.Assets(accountID, region)
		return collect.AssetAPIs{EC2: c.EC2, S3: c.S3, KMS: c.KMS, Lambda: c.Lambda, SecretsManager: c.SecretsManager, S3Control: c.S3Control}
	}
	s.progress(Event{Stage: StageAssets, AccountID: accountID, Message: "account " + accountID + ": assets"})
	start := time.Now()
	res, err := collect.CollectAssets(ctx, accountID, clients, s.sess.IAM(accountID), o)
	if err != nil {
		return append(notes, model.SourceError{AccountID: accountID, Source: collect.SourceAssets, Message: "assets not read: " + err.Error(), Fix: "sync again"})
	}
	config := 0
	for _, src := range res.Sources {
		if src.Source == model.AssetSourceConfig {
			config++
		}
	}
	s.log.Info("assets read", "account", accountID, "resources", len(res.Graph.Resources), "regions", len(res.Regions), "from_config", config, "skipped", len(res.Skipped), "took", time.Since(start))
	s.merged.add(res.Graph)
	return append(notes, res.Errors...)
}

// assetInventory is the Config source of one sync: read once, by the
// first account to need it.
type assetInventory struct {
	once sync.Once
	inv  *collect.AssetInventory
}

// assetInventory reads the AWS Config aggregator of Options.Assets.Config
// once per sync; the notes (a missing or denied aggregator) go to the
// first caller only, so the snapshot records them once.
func (s *syncRun) assetInventory(ctx context.Context, o collect.AssetOptions) (inv *collect.AssetInventory, notes []model.SourceError) {
	c := o.Config
	if c == nil || c.Mode == collect.ServicesOnly || c.Mode == "" {
		return nil, nil
	}
	first := false
	s.assetInv.once.Do(func() {
		first = true
		cfg := *c
		if cfg.Region == "" {
			cfg.Region = o.HomeRegion
		}
		if cfg.Account != "" && s.opts.Organization != nil {
			// A delegated administrator holds the aggregator: read it
			// through its member role (else the base credentials).
			role := s.opts.Organization.MemberRoleName
			if role == "" {
				role = DefaultMemberRoleName
			}
			if err := s.sess.AssumeMember(ctx, cfg.Account, "arn:aws:iam::"+cfg.Account+":role/"+role, s.opts.Organization.ExternalID); err != nil {
				s.log.Warn("the aggregator account's role could not be assumed; trying the base credentials", "account", cfg.Account, "err", err)
			}
		}
		services := o.Services
		if len(services) == 0 {
			services = collect.AssetServices
		}
		s.progress(Event{Stage: StageAssets, Message: "AWS Config aggregator"})
		s.assetInv.inv, notes = collect.ReadAssetInventory(ctx, s.sess.Assets(cfg.Account, cfg.Region).Config, cfg.Account, cfg, services)
		if inv := s.assetInv.inv; inv != nil {
			s.log.Info("assets from AWS Config", "aggregator", inv.Aggregator, "pages", inv.Pages, "sources_not_collected", len(inv.Failed))
			for _, f := range inv.Failed {
				s.log.Info("an aggregator source was not collected; its assets are read from the service listings", "aggregator", inv.Aggregator, "source", f)
			}
		}
	})
	if !first {
		notes = nil
	}
	return s.assetInv.inv, notes
}
