package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
)

// assetsInput is a page of one asset listing.
type assetsInput struct {
	at
	Account string `query:"account" doc:"only assets in this 12-digit account"`
	Region  string `query:"region" maxLength:"40" doc:"only assets in this region, e.g. eu-west-1"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"assets per page"`
	Cursor  string `query:"cursor" maxLength:"2048" doc:"next_cursor of the previous page"`
}

// AssetPage is a page of an asset listing: its elements are those of
// `warden show KIND -o json`, in its order.
type AssetPage[T any] struct {
	Items []T `json:"items"`
	// NextCursor fetches the next page; "" on the last.
	NextCursor string `json:"next_cursor"`
}

// assetCursor is what an asset page's next_cursor holds: the snapshot the
// walk reads and how many elements came before.
type assetCursor struct {
	Snapshot int64 `json:"s"`
	Offset   int   `json:"o"`
}

// assetRoutes registers GET /api/v1/assets/{kind} for every asset listing
// of `warden show`, each answering with the rows the same inventory
// function builds for it.
func (s *Server) assetRoutes() {
	assetRoute(s, "instances", "EC2 instances: state, public IP, the role they run as, admin ports open to the internet", inventory.Instances)
	assetRoute(s, "security-groups", "EC2 security groups: inbound rules, those open to the internet, admin ports open", inventory.SecurityGroups)
	assetRoute(s, "buckets", "S3 buckets: policy, Block Public Access, exposure", inventory.Buckets)
	assetRoute(s, "keys-kms", "Customer managed KMS keys: state, grants, exposure", inventory.KMSKeys)
	assetRoute(s, "functions", "Lambda functions: runtime, execution role, exposure", inventory.Functions)
	assetRoute(s, "secrets", "Secrets Manager secrets (never their values): policy, exposure", inventory.Secrets)
}

// assetRoute registers the listing kind, built by rows.
func assetRoute[T any](s *Server, kind, summary string, rows func(g *model.Graph, account string) []T) {
	register(s, huma.Operation{OperationID: "list-" + kind, Method: http.MethodGet, Path: "/api/v1/assets/" + kind,
		Errors:  []int{http.StatusBadRequest, http.StatusNotFound},
		Summary: summary + ", a page at a time (the elements of `warden show " + kind + " -o json`)"},
		AssetPage[T]{}, func(ctx context.Context, in *assetsInput) (any, error) {
			a, offset := in.at, 0
			if in.Cursor != "" {
				c, err := decodeAssetCursor(in.Cursor)
				if err != nil {
					return nil, err
				}
				if a.Snapshot > 0 && a.Snapshot != c.Snapshot {
					return nil, fail(http.StatusBadRequest, fmt.Sprintf("the cursor walks snapshot %d, not %d", c.Snapshot, a.Snapshot),
						"leave out snapshot when passing a cursor, or start again without the cursor")
				}
				a.Snapshot, offset = c.Snapshot, c.Offset
			}
			if in.Account != "" && !model.IsAccountID(in.Account) {
				return nil, fail(http.StatusBadRequest, fmt.Sprintf("account %q is not an account id", in.Account), "give the 12-digit account id")
			}
			snap, err := s.snapshot(ctx, a)
			if err != nil {
				return nil, err
			}
			g, err := s.c.Store.Subgraph(ctx, snap.ID, inventory.AssetsPart, "")
			if err != nil {
				return nil, storeFailure(err)
			}
			all := rows(inventory.InRegion(g, in.Region), in.Account)
			limit := in.Limit
			if limit <= 0 || limit > maxLimit {
				limit = defaultLimit
			}
			page := AssetPage[T]{Items: []T{}}
			if offset < len(all) {
				end := min(offset+limit, len(all))
				page.Items = all[offset:end]
				if end < len(all) {
					page.NextCursor = encodeAssetCursor(assetCursor{Snapshot: snap.ID, Offset: end})
				}
			}
			return page, nil
		})
}

func encodeAssetCursor(c assetCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAssetCursor(s string) (assetCursor, error) {
	var c assetCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Snapshot <= 0 || c.Offset < 0 {
		return c, fail(http.StatusBadRequest, "cursor "+strconv.Quote(s)+" is not a cursor this API gave",
			"pass next_cursor of the previous page as it came, or leave cursor out to start at the first page")
	}
	return c, nil
}
