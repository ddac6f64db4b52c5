package access

import (
	"context"
	"fmt"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// AssetActions are, by asset type, the actions `warden access` on an
// asset asks who can do: those that read, change or take over the asset.
// Object actions on a bucket are asked on every object (arn:aws:s3:::b/*);
// a function's lambda:InvokeFunction is asked too on each of its aliases
// (an alias has a policy of its own).
var AssetActions = map[model.ResourceType][]string{
	model.TypeS3Bucket:       {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:PutBucketPolicy"},
	model.TypeKMSKey:         {"kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"},
	model.TypeLambdaFunction: {"lambda:InvokeFunction", "lambda:UpdateFunctionCode"},
	model.TypeSecret:         {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"},
	model.TypeEC2Instance:    {"ec2:TerminateInstances"},
}

// IsAsset reports whether r is an asset `warden access` answers for with
// AssetAccess.
func IsAsset(r *model.Resource) bool {
	_, ok := AssetActions[r.Type]
	return ok
}

// AssetAccess is who can act on an asset, through the policy evaluator
// (identity policies, boundaries, SCPs, RCPs and the asset's own resource
// policy), as `warden access ARN -o json` prints it for an asset.
type AssetAccess struct {
	Asset Ref    `json:"asset"`
	ARN   string `json:"arn"`
	// RunsAs is the role an instance or a function runs as (nil for
	// another asset, or when it has none).
	RunsAs *Ref `json:"runs_as"`
	// Actions are the asset type's AssetActions, each with who can.
	Actions []AssetAction `json:"actions"`
}

// AssetAction is one action on the asset and the answer of who-can for
// it.
type AssetAction struct {
	Action string `json:"action"`
	// Resource is the ARN asked about: the asset's, for an object action
	// on a bucket every object of it (arn:aws:s3:::b/*), or a function's
	// alias (its ARN and :ALIAS).
	Resource string `json:"resource"`
	// Principals and Evaluated are the who-can answer's.
	Principals []effective.Entry `json:"principals"`
	Evaluated  int               `json:"evaluated"`
}

// Asset answers who can act on asset r in snapshot snap of st.
func Asset(ctx context.Context, st store.Store, snap int64, r *model.Resource) (*AssetAccess, error) {
	a := &AssetAccess{Asset: refOf(r), ARN: r.ARN, Actions: []AssetAction{}}
	if a.ARN == "" {
		a.ARN = r.ID
	}
	role := ""
	switch {
	case r.Instance != nil:
		role = r.Instance.Role
	case r.Function != nil:
		role = r.Function.Role
	}
	if role != "" {
		ref := Ref{ID: role, Type: model.TypeIAMRole, Name: shortName(role), AccountID: r.AccountID}
		if rr, err := st.Resource(ctx, snap, role); err == nil {
			ref = refOf(rr)
		}
		a.RunsAs = &ref
	}
	var qs []effective.WhoCanQuestion
	for _, act := range AssetActions[r.Type] {
		res := a.ARN
		if r.Type == model.TypeS3Bucket && act != "s3:PutBucketPolicy" && act != "s3:ListBucket" {
			res += "/*"
		}
		qs = append(qs, effective.WhoCanQuestion{Action: act, Resource: res})
	}
	if r.Function != nil {
		for _, al := range r.Function.Aliases {
			qs = append(qs, effective.WhoCanQuestion{Action: "lambda:InvokeFunction", Resource: a.ARN + ":" + al.Name})
		}
	}
	answers, err := effective.WhoCanEach(ctx, st, snap, qs)
	if err != nil {
		return nil, fmt.Errorf("who can act on %s: %w", r.ID, err)
	}
	for i, ans := range answers {
		a.Actions = append(a.Actions, AssetAction{Action: qs[i].Action, Resource: qs[i].Resource, Principals: ans.Principals, Evaluated: ans.Evaluated})
	}
	return a, nil
}
