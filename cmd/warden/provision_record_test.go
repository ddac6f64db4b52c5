package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUnreadableDeactivationRecordHasItsFix: plan reactivate-user on a
// deactivation record that does not parse exits 5 (the database) with a
// fix line naming `warden audit` and the statement that deletes the
// record; that statement, run as printed, lets the plan go on.
func TestUnreadableDeactivationRecordHasItsFix(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "apply", "create-user", "--user", "leaver", "--console-password"); code != 0 {
		t.Fatalf("create-user exited %d: %s", code, errOut)
	}
	if _, errOut, code := runIn(t, db, "apply", "deactivate-user", "--user", "leaver", "--yes"); code != 0 {
		t.Fatalf("deactivate-user exited %d: %s", code, errOut)
	}
	sqlDB, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	if res, err := sqlDB.Exec(`UPDATE deactivations SET state='{not json' WHERE principal='user/leaver'`); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d deactivation records of leaver, want 1", n)
	}

	out, stderr, code := runIn(t, db, "plan", "reactivate-user", "--user", "leaver")
	assertFailure(t, out, stderr, code, exitStore, "the recorded deactivation of leaver is unreadable")
	if !strings.Contains(stderr, "\nfix: `warden audit` lists what deactivate-user changed for leaver") ||
		!strings.HasSuffix(strings.TrimSpace(stderr), "; "+planAgain) {
		t.Errorf("the fix line does not say what to do:\n%s", stderr)
	}
	stmt := regexp.MustCompile(`DELETE FROM deactivations WHERE account_id='\d{12}' AND principal='user/leaver'`).FindString(stderr)
	if stmt == "" {
		t.Fatalf("the fix names no statement that deletes the record:\n%s", stderr)
	}
	if res, err := sqlDB.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("%s deleted %d records, want 1", stmt, n)
	}
	_, stderr, code = runIn(t, db, "plan", "reactivate-user", "--user", "leaver")
	assertFailure(t, "", stderr, code, exitUsage, "no deactivation of user leaver is recorded")
}
