package main

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// mainEnv, set to 1, makes the test binary run warden's main with its
// arguments instead of the tests: how a test starts `warden serve` as a
// process of its own, to be killed.
const mainEnv = "WARDEN_TEST_RUN_MAIN"

// replicaInterval is the schedule of the replicas test: short, so a few
// minutes hold many slots, and longer than one sync of its estate.
const replicaInterval = 4 * time.Second

// replica is one `warden serve` process of the replicas test.
type replica struct {
	name   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan error    // the process's exit, once, for the test
	done   chan struct{} // closed once the process has exited
}

// startReplica starts `warden serve` as a process of its own with env on
// the configuration and database given.
func startReplica(t *testing.T, name, cfg, db string, env []string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--db", db, "--config", cfg, "serve", "--listen", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(append(os.Environ(), mainEnv+"=1", "WARDEN_API_TOKEN=wdn_replicas_test_token_0123456789abcdef"), env...)
	r := &replica{name: name, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1), done: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start replica %s: %v", name, err)
	}
	go func() {
		err := cmd.Wait()
		close(r.done)
		r.exited <- err
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// TestReplicasRunEachSlotOnce starts two `warden serve` replicas on one
// PostgreSQL database with a connection synced every few seconds, kills
// one with SIGKILL while it is syncing, lets the other run on, and checks
// that every slot from the first to the last has exactly one snapshot:
// none ran twice, and the one the dead replica was syncing was taken by
// the other (its half-written snapshot never became visible).
func TestReplicasRunEachSlotOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped: -short: the replicas test runs two services for about a minute")
	}
	db := pgTestDatabase(t)
	if db == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
	}
	env := useFakeAWS(t, "--users", "40", "--latency", "60ms")
	var awsEnv []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		awsEnv = append(awsEnv, k+"="+env[k])
	}
	cfg := filepath.Join(t.TempDir(), "warden.yaml")
	conf := fmt.Sprintf("version: 1\nconnections:\n  - id: prod\n    schedule:\n      every: %s\n", replicaInterval)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startReplica(t, "a", cfg, db, awsEnv)
	b := startReplica(t, "b", cfg, db, awsEnv)

	conn, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// Wait until one replica is syncing, after at least two slots ran,
	// and kill that one mid-sync.
	deadline := time.Now().Add(90 * time.Second)
	var victim, survivor *replica
	for victim == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no replica was seen syncing after two slots in 90 s\nreplica a:\n%s\nreplica b:\n%s", a.stderr, b.stderr)
		}
		for _, r := range []*replica{a, b} {
			select {
			case err := <-r.exited:
				t.Fatalf("replica %s exited early (%v):\n%s", r.name, err, r.stderr)
			default:
			}
		}
		if n := countSnapshots(t, conn); n >= 2 {
			if pid := lockHolderPID(conn); pid != 0 {
				for _, r := range []*replica{a, b} {
					if r.cmd.Process.Pid == pid {
						victim = r
					}
				}
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	survivor = a
	if victim == a {
		survivor = b
	}
	killedAt := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited

	// The survivor goes on through three more slots.
	for time.Since(killedAt) < 3*replicaInterval+2*time.Second {
		select {
		case err := <-survivor.exited:
			t.Fatalf("replica %s exited after the other was killed (%v):\n%s", survivor.name, err, survivor.stderr)
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
	// SIGTERM: it stops cleanly, exit 0 (a running sync is cancelled or
	// finishes within its grace, never half stored).
	if err := survivor.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-survivor.exited:
		if err != nil {
			t.Errorf("replica %s exited with %v after SIGTERM, want exit 0:\n%s", survivor.name, err, survivor.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not stop within 60 s of SIGTERM", survivor.name)
	}

	slots := snapshotSlots(t, conn)
	if len(slots) < 5 {
		t.Fatalf("only %d scheduled snapshots in the run, want at least 5: %v\nsurvivor:\n%s", len(slots), slots, survivor.stderr)
	}
	keys := make([]time.Time, 0, len(slots))
	for s, n := range slots {
		if n != 1 {
			t.Errorf("slot %s has %d snapshots, want exactly 1", s.Format(time.RFC3339), n)
		}
		keys = append(keys, s)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Before(keys[j]) })
	// No gap: every slot between the first and the last ran, the dead
	// replica's among them. The last slot may have been cut short by
	// SIGTERM, so it is not required.
	for i := 1; i < len(keys); i++ {
		if gap := keys[i].Sub(keys[i-1]); gap != replicaInterval {
			t.Errorf("slots %s and %s are %s apart, want %s: a slot between them never ran",
				keys[i-1].Format(time.RFC3339), keys[i].Format(time.RFC3339), gap, replicaInterval)
		}
	}
	// Both replicas synced (the schedule is shared, not held by one).
	if !strings.Contains(victim.stderr.String(), "sync") {
		t.Logf("replica %s (killed) logged no sync:\n%s", victim.name, victim.stderr)
	}
}

// countSnapshots is how many snapshots the database holds.
func countSnapshots(t *testing.T, conn *sql.DB) int {
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM snapshots`).Scan(&n); err != nil {
		return 0 // not migrated yet
	}
	return n
}

// lockHolderPID is the process holding the connection's sync lock now, or
// 0: the holder recorded in sync_holders while an advisory lock is held
// in the test's database (the server may hold other databases' locks).
func lockHolderPID(conn *sql.DB) int {
	var held int
	if err := conn.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held); err != nil || held == 0 {
		return 0
	}
	var holder string
	if err := conn.QueryRow(`SELECT holder FROM sync_holders`).Scan(&holder); err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscanf(holder, "pid %d", &pid); err != nil {
		return 0
	}
	return pid
}

// snapshotSlots counts the snapshots of each scheduled slot.
func snapshotSlots(t *testing.T, conn *sql.DB) map[time.Time]int {
	t.Helper()
	rows, err := conn.Query(`SELECT slot FROM snapshots WHERE slot IS NOT NULL`)
	if err != nil {
		t.Fatalf("read the snapshots' slots: %v", err)
	}
	defer rows.Close()
	out := map[time.Time]int{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("slot %q: %v", s, err)
		}
		out[at.UTC()]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
