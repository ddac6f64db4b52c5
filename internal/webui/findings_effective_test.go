package webui

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/findings"
)

// TestFindingsPageEffectiveAdminsAndEscalation: the findings page lists
// the effective administrators by default, each linking to its
// principal, as findings.EffectiveAdmins decides them over the synced
// organization; the escalation paths are "not computed" until asked
// (?escalation=1), and ?effective=0 says the administrators were not
// computed either.
func TestFindingsPageEffectiveAdminsAndEscalation(t *testing.T) {
	s := newStack(t, small)
	c := client(t)
	r, err := c.PostForm(s.http.URL+"/signin", signinForm(t, c, s.http.URL, s.read, "/"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	ctx := context.Background()
	es, err := effective.Load(ctx, s.st, s.snap)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.st.Graph(ctx, s.snap)
	if err != nil {
		t.Fatal(err)
	}
	admins, err := findings.EffectiveAdmins(ctx, es, g)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := findings.EscalationPaths(ctx, es, g, admins)
	if err != nil {
		t.Fatal(err)
	}
	if len(admins) == 0 {
		t.Fatal("the estate has no effective administrator: the page's list would go unchecked")
	}
	section := func(body, class string) string {
		_, rest, ok := strings.Cut(body, `<table class="`+class+`">`)
		if !ok {
			return ""
		}
		rest, _, _ = strings.Cut(rest, "</table>")
		return rest
	}
	code, body, _ := get(t, c, s.http.URL+"/findings?c=prod")
	if code != 200 {
		t.Fatalf("findings: %d", code)
	}
	rows := regexp.MustCompile(`<tr><td><a href="([^"]+)">`).FindAllStringSubmatch(section(body, "effective-admins"), -1)
	if len(rows) != len(admins) {
		t.Fatalf("the page lists %d effective administrators, want %d", len(rows), len(admins))
	}
	for i, a := range admins {
		want := "/principal?c=prod&amp;id=" + url.QueryEscape(a.Principal.ID)
		if !strings.HasPrefix(rows[i][1], want) {
			t.Errorf("effective administrator %d (%s) links to %s, want %s…", i, a.Principal.Name, rows[i][1], want)
		}
	}
	if section(body, "escalation") != "" || !strings.Contains(body, "Not computed: slower on a large organization") || !strings.Contains(body, "escalation=1") {
		t.Errorf("without ?escalation=1 the escalation paths should say not computed, with a link to compute them")
	}
	_, body, _ = get(t, c, s.http.URL+"/findings?c=prod&escalation=1")
	if got := strings.Count(section(body, "escalation"), `<ol class="steps">`); got != len(paths) {
		t.Errorf("?escalation=1 lists %d paths, want %d", got, len(paths))
	}
	_, body, _ = get(t, c, s.http.URL+"/findings?c=prod&effective=0")
	if section(body, "effective-admins") != "" || !strings.Contains(body, "Not computed (use") {
		t.Errorf("?effective=0 should say the effective administrators were not computed")
	}
}
