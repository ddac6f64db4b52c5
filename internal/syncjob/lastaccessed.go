package syncjob

import (
	"context"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// lastAccessed reads the IAM last accessed data of one account's
// principals, as r.opts.LastAccessed and r.opts.CallBudget ask, with the
// account's credentials in sess (sess.IAM(accountID)); the parts it could
// not read are returned as partial failures. It is called for every
// account whose IAM was read, after its CloudTrail activity.
//
// The hook of IAM last accessed (issue 15, part B): this version reads
// none.
func (r *activityRun) lastAccessed(ctx context.Context, sess *awsapi.Session, accountID string, g *model.Graph) []model.SourceError {
	return nil
}
