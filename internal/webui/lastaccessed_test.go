package webui

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestPrincipalPageServicesLastAccessed: the principal page of an IAM user
// whose last accessed data a sync stored lists each service with its last
// use, and a user without any shows no such table.
func TestPrincipalPageServicesLastAccessed(t *testing.T) {
	s := newStack(t, small)
	ctx := context.Background()
	users, err := s.st.Resources(ctx, s.snap, store.ResourceFilter{Type: model.TypeIAMUser, AccountID: s.truth.ID})
	if err != nil || len(users) < 2 {
		t.Fatalf("users: %v %d", err, len(users))
	}
	// The rule judges only principals older than its 90 days.
	var old []model.Resource
	for _, u := range users {
		if time.Since(u.CreatedAt) > 100*24*time.Hour {
			old = append(old, u)
		}
	}
	if len(old) < 2 {
		t.Fatalf("the estate has %d users older than 100 days, want 2", len(old))
	}
	with, without := old[0], old[1]
	used := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	read := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	svcs, _ := json.Marshal([]map[string]any{
		{"namespace": "s3", "name": "Amazon S3", "last_authenticated": used},
		{"namespace": "kms", "name": "AWS Key Management Service", "last_authenticated": nil},
	})
	if err := s.st.SaveLastAccessed(ctx, "prod", []store.LastAccessedRecord{{Principal: with.ARN, Account: with.AccountID,
		ReadAt: read, Granularity: "SERVICE_LEVEL", Services: svcs}}); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	signIn(t, c, s.http.URL, s.read)
	code, body, _ := get(t, c, s.http.URL+"/principal?c=prod&id="+url.QueryEscape(with.ID))
	if code != 200 {
		t.Fatalf("principal page of %s: %d", with.Name, code)
	}
	i := strings.Index(body, `<table class="lastaccessed">`)
	if i < 0 || !strings.Contains(body, "Services last accessed") {
		t.Fatalf("principal page of %s has no last accessed table:\n%s", with.Name, body)
	}
	table := body[i:]
	table = table[:strings.Index(table, "</table>")]
	for _, want := range []string{"Amazon S3", "<code>s3</code>", "2026-11-20", "AWS Key Management Service", "<code>kms</code>", "not in IAM's tracking period"} {
		if !strings.Contains(table, want) {
			t.Errorf("last accessed table lacks %q:\n%s", want, table)
		}
	}
	if strings.Count(table, "<tr>") != 3 {
		t.Errorf("last accessed table has %d rows, want a header and 2 services:\n%s", strings.Count(table, "<tr>"), table)
	}
	_, body, _ = get(t, c, s.http.URL+"/principal?c=prod&id="+url.QueryEscape(without.ID))
	if strings.Contains(body, `class="lastaccessed"`) {
		t.Errorf("principal page of %s, with no last accessed data, shows a table", without.Name)
	}

	// The findings page lists the service the user never used (kms), not
	// the one it used 13 days ago, under the rule unused-services.
	code, body, _ = get(t, c, s.http.URL+"/findings?c=prod&rule=unused-services")
	if code != 200 {
		t.Fatalf("findings page: %d", code)
	}
	rows := strings.Count(body, `<tr class="sev-low">`)
	if rows != 1 || !strings.Contains(body, ">"+with.Name+"</a>") || !strings.Contains(body, "granted services unused for 90 days: kms<") {
		t.Errorf("findings page, rule unused-services: %d rows, want 1 for %s with kms unused:\n%s", rows, with.Name, body)
	}
}
