package webui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/store"
)

// TestAuditPage: the audit log newest first, 50 a page by a stable
// cursor, filtered by actor and action, each target linking to its
// principal.
func TestAuditPage(t *testing.T) {
	s := newStack(t, small)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64 // oldest first
	for i := range 120 {
		actor, action := "alice", "delete-user"
		if i%3 == 0 {
			actor, action = "bob", "add-to-group"
		}
		r := store.AuditRecord{At: at.Add(time.Duration(i) * time.Minute), ConnectionID: "prod", Actor: actor, Action: action,
			Target: fmt.Sprintf("user u%03d in account %s", i, s.truth.ID), Call: "iam:DeleteUser", Params: map[string]string{"UserName": fmt.Sprintf("u%03d", i)}}
		id, err := s.st.StartAudit(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.st.FinishAudit(ctx, id, store.AuditOK, fmt.Sprintf("req-%d", i), "", nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c := client(t)
	signIn(t, c, s.http.URL, s.read)
	rowID := regexp.MustCompile(`<tr class="result-[a-z-]+" data-id="(\d+)">`)
	older := regexp.MustCompile(`href="(/audit\?[^"]+)" id="audit-older"`)
	page := func(u string) ([]string, string, string) {
		t.Helper()
		code, body, _ := get(t, c, s.http.URL+strings.ReplaceAll(u, "&amp;", "&"))
		if code != 200 {
			t.Fatalf("%s: %d", u, code)
		}
		var got []string
		for _, m := range rowID.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		next := ""
		if m := older.FindStringSubmatch(body); m != nil {
			next = m[1]
		}
		return got, next, body
	}
	// Every record, newest first, over three pages.
	var all []string
	u := "/audit?c=prod"
	for n := 0; u != ""; n++ {
		if n > 3 {
			t.Fatal("more than 3 pages of 120 records")
		}
		got, next, body := page(u)
		if n == 0 && (!strings.Contains(body, `<a href="/principal?c=prod&amp;id=u119">user u119 in account`) || !strings.Contains(body, "120 record(s)")) {
			t.Errorf("the first page lacks the newest record's link to its principal or the count")
		}
		if len(got) > auditPageSize {
			t.Errorf("page %d has %d rows", n, len(got))
		}
		all = append(all, got...)
		u = next
	}
	if len(all) != len(ids) {
		t.Fatalf("the pages show %d records, the log has %d", len(all), len(ids))
	}
	for i, id := range all {
		if want := fmt.Sprint(ids[len(ids)-1-i]); id != want {
			t.Fatalf("row %d is record %s, want %s (newest first)", i, id, want)
		}
	}
	// A page's URL shows the same records after more are written.
	got1, _, _ := page(fmt.Sprintf("/audit?c=prod&before=%d", ids[70]))
	if _, err := s.st.StartAudit(ctx, store.AuditRecord{At: at, ConnectionID: "prod", Actor: "carol", Action: "create-user", Target: "user new", Call: "iam:CreateUser"}); err != nil {
		t.Fatal(err)
	}
	got2, _, _ := page(fmt.Sprintf("/audit?c=prod&before=%d", ids[70]))
	if strings.Join(got1, ",") != strings.Join(got2, ",") || len(got1) != auditPageSize || got1[0] != fmt.Sprint(ids[69]) {
		t.Errorf("before=%d: %v, then %v", ids[70], got1, got2)
	}
	// Filters: bob's 40 records, all add-to-group, on one page.
	got, next, body := page("/audit?c=prod&actor=bob")
	if len(got) != 40 || next != "" || strings.Contains(body, ">alice</a></td>") {
		t.Errorf("actor=bob: %d rows, next %q", len(got), next)
	}
	got, _, _ = page("/audit?c=prod&action=delete-user&actor=alice")
	if len(got) != auditPageSize {
		t.Errorf("alice's delete-user: %d rows on the first page, want %d", len(got), auditPageSize)
	}
	if code, _, _ := get(t, c, s.http.URL+"/audit?c=prod&before=x"); code != 400 {
		t.Errorf("before=x: %d", code)
	}
}
