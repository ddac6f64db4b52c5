package scim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestTheTokenTravelsOnlyOverHTTPSOrToThisMachine(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"https://scim.eu-west-1.amazonaws.com/t/scim/v2", true},
		{"http://127.0.0.1:8080/t/scim/v2", true},
		{"http://127.8.9.1/t/scim/v2", true},
		{"http://localhost:8080/t/scim/v2", true},
		{"http://LOCALHOST/t/scim/v2", true},
		{"http://[::1]:9/t/scim/v2", true},
		{"http://192.0.2.2:8080/t/scim/v2", false},
		{"http://scim.example.com/t/scim/v2", false},
		{"HTTP://scim.example.com/t/scim/v2", false},
		{"http://localhost.example.com/t/scim/v2", false},
		{"https://user:pw@scim.example.com/t/scim/v2", false},
		{"ftp://scim.example.com/t", false},
		{"not a url", false},
	} {
		_, err := New(tc.endpoint, "secret-token-value", nil)
		if (err == nil) != tc.ok {
			t.Errorf("New(%s): %v, want ok=%v", tc.endpoint, err, tc.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "secret-token-value") || strings.Contains(err.Error(), ":pw@")) {
			t.Errorf("New(%s) leaked a secret: %v", tc.endpoint, err)
		}
		if (EndpointProblem(tc.endpoint) == "") != tc.ok {
			t.Errorf("EndpointProblem(%s) = %q, want ok=%v", tc.endpoint, EndpointProblem(tc.endpoint), tc.ok)
		}
	}
	if msg := CleartextProblem("http://192.0.2.2:8080/x"); !strings.Contains(msg, "clear text") {
		t.Errorf("CleartextProblem = %q", msg)
	}
}

func TestARedirectToPlainHTTPDoesNotCarryTheToken(t *testing.T) {
	var leaked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/elsewhere") {
			leaked.Store(r.Header.Get("Authorization") != "")
			return
		}
		// The emulator is on loopback, so redirect to a host that is not.
		http.Redirect(w, r, "http://192.0.2.2:1/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/t/scim/v2", "secret-token-value", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.MaxAttempts = 1
	err = c.ListUsers(t.Context(), "", func(User) {})
	if err == nil || !strings.Contains(err.Error(), "refused a redirect") || leaked.Load() {
		t.Errorf("redirect to plain http: %v (leaked %v), want it refused", err, leaked.Load())
	}
}
