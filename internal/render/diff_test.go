package render

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
)

func diffReport() *diff.Report {
	from := &model.Snapshot{ID: 41, ConnectionID: "default", FinishedAt: time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), Status: model.StatusComplete}
	to := &model.Snapshot{ID: 42, ConnectionID: "default", FinishedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Status: model.StatusPartial,
		Errors: []model.SourceError{{Source: "iam"}}, Carried: []model.CarriedPart{{Part: "444455556666"}}}
	r := &diff.Report{From: from, To: to,
		Access: []diff.AccessChange{
			{Change: diff.Gained, Text: "alice gained AdministratorAccess via group admins in 111122223333"},
			{Change: diff.Gained, Text: "alice gained membership of group admins in 111122223333"},
			{Change: diff.Lost, Text: "bob lost ReadOnlyAccess directly in 111122223333"},
		},
		Resources: []diff.ResourceDiff{{Change: diff.Changed, Text: "iam policy deploy in 111122223333 changed: policy.default_version_id, policy.document",
			Fields: []diff.FieldChange{
				{Path: "policy.default_version_id", Before: "v1", After: "v2"},
				{Path: "policy.document", StatementsAdded: []json.RawMessage{json.RawMessage(`{"Action":"s3:*"}`)}, StatementsRemoved: []json.RawMessage{json.RawMessage(`{"Action":"ec2:*"}`)}},
			}}},
		Summary: diff.Summary{Changed: true, PrincipalsGained: 1, PrincipalsLost: 1, AdministratorsAdded: []string{"alice"}, KeysCreated: 2, ResourcesChanged: 1},
	}
	return r
}

func TestDiffTables(t *testing.T) {
	var b bytes.Buffer
	if err := Tables(&b, DiffTables(diffReport(), 2)...); err != nil {
		t.Fatal(err)
	}
	want := `Changes from snapshot 41 (2026-12-01 07:00 UTC) to snapshot 42 (2026-12-01 09:00 UTC), connection default
note                      snapshot 42 is partial (1 part(s) failed): it keeps 444455556666 as last read, so no change shows there
principals gained access  1
principals lost access    1
administrators added      1 (alice)
access keys created       2
resources changed         1

Access gained and lost (3; the first 2 shown: --limit 0 or -o json shows all)
+  alice gained AdministratorAccess via group admins in 111122223333
+  alice gained membership of group admins in 111122223333
  … and 1 more

Resources (1)
~  iam policy deploy in 111122223333 changed: policy.default_version_id, policy.document
       policy.default_version_id: "v1" → "v2"
       policy.document: - {"Action":"ec2:*"}
       policy.document: + {"Action":"s3:*"}
`
	if b.String() != want {
		t.Errorf("diff tables:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestChangeParagraph(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r := diffReport()
	r.Summary = diff.Summary{Changed: true, PrincipalsGained: 3, PrincipalsLost: 1, AdministratorsAdded: []string{"bob"}, KeysCreated: 2, ResourcesAdded: 4, ResourcesChanged: 10}
	if got, want := ChangeParagraph(r, now), "Since snapshot 41 (2h ago): 3 principals gained access, 1 lost; 1 new administrator (bob); 2 access keys created; 14 resources changed. Run `warden diff` for details."; got != want {
		t.Errorf("paragraph:\n%s\nwant\n%s", got, want)
	}
	r.Summary = diff.Summary{Changed: true, PrincipalsLost: 2, TrustAdded: 1, MFARemoved: 1, FindingsResolved: 1}
	if got, want := ChangeParagraph(r, now), "Since snapshot 41 (2h ago): 2 principals lost access; 1 new trust outside an account; MFA removed for 1; 1 finding resolved. Run `warden diff` for details."; got != want {
		t.Errorf("paragraph:\n%s\nwant\n%s", got, want)
	}
	r.Summary = diff.Summary{}
	if got, want := ChangeParagraph(r, now.Add(72*time.Hour)), "No change since snapshot 41 (3d ago)."; got != want {
		t.Errorf("paragraph: %s, want %s", got, want)
	}
}
