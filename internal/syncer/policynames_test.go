package syncer

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/model"
)

// actionKey carries a proxied request's action to ModifyResponse.
type actionKey struct{}

// newRewritingProxy forwards to target and lets rewrite change the body of
// each answer, by action.
func newRewritingProxy(tb testing.TB, target string, rewrite func(action string, body []byte) []byte) *httptest.Server {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		action, _ := resp.Request.Context().Value(actionKey{}).(string)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = rewrite(action, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actionKey{}, form.Get("Action"))))
	}))
	tb.Cleanup(srv.Close)
	return srv
}

var (
	policiesList    = regexp.MustCompile(`(?s)<Policies>.*</Policies>`)
	attachedList    = regexp.MustCompile(`(?s)<AttachedManagedPolicies>.*?</AttachedManagedPolicies>`)
	policyNameOrID  = regexp.MustCompile(`<Policy(Name|Id)>[^<]*</Policy(Name|Id)>`)
	policyPathField = regexp.MustCompile(`<Path>[^<]*</Path>`)
)

// TestSyncDerivesPolicyNamesFromARNs syncs through an endpoint that, as
// some AWS-compatible ones do, leaves PolicyName, PolicyId and Path out of
// GetAccountAuthorizationDetails' managed policies and attachments: names
// and paths come from the ARNs, the rest equals the ground truth, and the
// policy IDs are unknown.
func TestSyncDerivesPolicyNamesFromARNs(t *testing.T) {
	e := newEnv(t, smallEstate, envOptions{})
	stripped := 0
	proxy := newRewritingProxy(t, e.srv.URL(), func(action string, body []byte) []byte {
		if action != "GetAccountAuthorizationDetails" {
			return body
		}
		strip := func(b []byte) []byte {
			stripped++
			return policyPathField.ReplaceAll(policyNameOrID.ReplaceAll(b, nil), nil)
		}
		body = policiesList.ReplaceAllFunc(body, strip)
		return attachedList.ReplaceAllFunc(body, func(b []byte) []byte { return policyNameOrID.ReplaceAll(b, nil) })
	})
	snap, err := Sync(context.Background(), newSession(t, proxy.URL, e.creds), e.st, syncOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stripped == 0 {
		t.Fatal("the proxy stripped nothing: the test proves nothing")
	}
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	for i := range want.Resources {
		if r := &want.Resources[i]; r.Type == model.TypeIAMPolicy {
			attrs := *r.Policy
			attrs.PolicyID = ""
			r.Policy = &attrs
		}
	}
	checkGraph(t, e.st, snap.ID, want)
}
