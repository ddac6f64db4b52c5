package server

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/warden-iam/warden/internal/metrics"
)

// TestMetricsByRoutePattern: /metrics needs a token and counts requests by
// route pattern, never by path.
func TestMetricsByRoutePattern(t *testing.T) {
	e := newEnv(t, smallEstate, Config{Metrics: metrics.New()})
	user := firstUser(e)
	if status, _, _ := e.do(t, "GET", "/api/v1/access/"+url.PathEscape(user), e.read, nil); status != 200 {
		t.Fatalf("access: %d", status)
	}
	e.do(t, "GET", "/api/v1/no-such-route", e.read, nil)
	if status, _, _ := e.do(t, "GET", "/metrics", "", nil); status != 401 {
		t.Fatalf("/metrics without a token: %d", status)
	}
	status, _, body := e.do(t, "GET", "/metrics", e.read, nil)
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		`warden_http_requests_total{method="GET",route="/api/v1/access/{principal}",status="200"} 1`,
		`route="unmatched",status="404"`,
		`warden_http_requests_total{method="GET",route="/metrics",status="401"} 1`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if bytes.Contains(body, []byte(user)) {
		t.Error("a path (the principal) is a label value")
	}
}
