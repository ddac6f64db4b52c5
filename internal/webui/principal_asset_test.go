package webui

import (
	"net/http"
	"net/url"
	"testing"
)

// TestPrincipalPageOfAssetRedirects: /principal?id= with an asset's ARN (a
// link or a search for one) goes to the asset's own page, and an IAM
// role's ARN still has its principal page.
func TestPrincipalPageOfAssetRedirects(t *testing.T) {
	s := newAssetStack(t, 2)
	c := client(t)
	signIn(t, c, s.url, s.token)
	in := s.truth.Assets.Instances[0]
	arn := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
	code, body, resp := get(t, c, s.url+"/principal?c=prod&id="+url.QueryEscape(arn))
	if code != http.StatusOK || resp.Request.URL.Path != "/asset" || resp.Request.URL.Query().Get("id") != arn {
		t.Fatalf("/principal?id=%s: %d at %s: %.300s", arn, code, resp.Request.URL, body)
	}
	if len(s.truth.Assets.Functions) == 0 {
		t.Fatal("the estate has no function: the test needs one's execution role")
	}
	role := s.truth.Assets.Functions[0].Role
	code, _, resp = get(t, c, s.url+"/principal?c=prod&id="+url.QueryEscape(role))
	if code != http.StatusOK || resp.Request.URL.Path != "/principal" {
		t.Fatalf("/principal?id=%s: %d at %s, want the principal page", role, code, resp.Request.URL)
	}
}
