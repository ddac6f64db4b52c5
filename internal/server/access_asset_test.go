package server

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

// TestAccessOnAnAsset: GET /api/v1/access/{arn} on a bucket returns the
// document `warden access ARN -o json` prints (access.Query's Asset), and
// it matches the OpenAPI document. The bucket, whose policy lets anyone
// read, is added to a copy of the synced snapshot.
func TestAccessOnAnAsset(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	ctx := context.Background()
	g, err := e.st.Graph(ctx, e.latestSnap)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := e.st.Snapshot(ctx, e.latestSnap)
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "arn:aws:s3:::api-asset-test"
	g.Resources = append(g.Resources, model.Resource{ID: bucket, Type: model.TypeS3Bucket, AccountID: testAccount, Name: "api-asset-test", ARN: bucket,
		Bucket: &model.BucketAttrs{Region: "us-east-1",
			Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + bucket + `/*"}]}`}})
	g.Sort()
	s := *sn
	s.ID = 0
	snap, err := e.st.WriteSnapshot(ctx, &s, g)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := access.Query(ctx, e.st, snap, bucket)
	if err != nil || ans.Asset == nil {
		t.Fatalf("access.Query(%s) = %+v, %v; want an asset answer", bucket, ans, err)
	}
	// Every user and role of the account can read on the policy alone.
	users := 0
	for _, r := range g.Resources {
		if r.Type == model.TypeIAMUser || r.Type == model.TypeIAMRole {
			users++
		}
	}
	direct, anyone := 0, false
	for _, p := range ans.Asset.Actions[0].Principals {
		direct += map[bool]int{true: 1}[p.Path == "direct" && p.Decision == "allowed"]
		anyone = anyone || p.Principal.ID == "principal:*:*" && p.Path == "outside"
	}
	if ans.Asset.Actions[0].Action != "s3:GetObject" || direct != users || !anyone {
		t.Fatalf("s3:GetObject on the public bucket: %d direct, anyone %v; want every user and role (%d) and anyone outside", direct, anyone, users)
	}
	var want bytes.Buffer
	if err := render.JSON(&want, ans.Asset); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/access/%s?snapshot=%d", url.PathEscape(bucket), snap)
	status, _, body := e.do(t, "GET", path, e.read, nil)
	if status != 200 || string(body) != want.String() {
		t.Fatalf("%s: status %d; body differs from the CLI's document:\n got %.300s\nwant %.300s", path, status, body, want.String())
	}
	if !strings.Contains(string(body), `"runs_as":null`) && !strings.Contains(string(body), `"runs_as": null`) {
		t.Errorf("a bucket's answer should have runs_as null: %.200s", body)
	}
	validate(t, e.srv, "GET", "/api/v1/access/{principal}", status, body)
}
