package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// crashEnv names the database the crash writer writes to.
const crashEnv = "WARDEN_STORE_CRASH_WRITER"

// TestCrashWriter is the child process of TestKillDuringWriteKeepsThePreviousSnapshot:
// it writes the graphs of crashSeries as snapshots, round after round,
// and prints each snapshot's ID and graph index once committed. Run on its
// own it does nothing.
func TestCrashWriter(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestKillDuringWriteKeepsThePreviousSnapshot; runs only from it")
	}
	ctx := context.Background()
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	series := crashSeries()
	for i := 0; ; i++ {
		g := series[i%len(series)]
		id, err := st.WriteSnapshot(ctx, &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusComplete}, g)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("committed %d %d\n", id, i%len(series))
	}
}

// crashSeries is a series of graphs that differ a lot from one to the
// next, so every write has much to close and insert.
func crashSeries() []*model.Graph {
	var out []*model.Graph
	for i := range 4 {
		g := &model.Graph{}
		for a := range 3 {
			g = merge(g, accountGraph(fmt.Sprintf("%012d", a+i), 150+40*i))
		}
		out = append(out, g)
	}
	return out
}

// TestKillDuringWriteKeepsThePreviousSnapshot kills (SIGKILL) a process
// in the middle of writing snapshots, at several moments, and checks each
// time that the file is intact and its latest snapshot is the last one
// committed, read back exactly.
func TestKillDuringWriteKeepsThePreviousSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: starts and kills child processes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crash.db")
	series := crashSeries()
	for round, delay := range []time.Duration{0, 3 * time.Millisecond, 11 * time.Millisecond, 29 * time.Millisecond, 53 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		var lastID int64 = -1
		last := -1
		for n := 0; n < 2 && lines.Scan(); {
			f := strings.Fields(lines.Text())
			if len(f) == 3 && f[0] == "committed" {
				lastID, _ = strconv.ParseInt(f[1], 10, 64)
				last, _ = strconv.Atoi(f[2])
				n++
			} else if len(f) > 0 && f[0] == "error" {
				t.Fatalf("round %d: the writer failed: %s", round, lines.Text())
			}
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		// Lines printed before the kill landed are commits too.
		for lines.Scan() {
			if f := strings.Fields(lines.Text()); len(f) == 3 && f[0] == "committed" {
				lastID, _ = strconv.ParseInt(f[1], 10, 64)
				last, _ = strconv.Atoi(f[2])
			}
		}
		cmd.Wait()
		if lastID < 0 {
			t.Fatalf("round %d: the writer committed nothing", round)
		}
		st, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		if err := st.Check(ctx); err != nil {
			t.Fatalf("round %d: file damaged after kill: %v", round, err)
		}
		latest, err := st.LatestSnapshot(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// The commit of the next snapshot may have landed before its line
		// was printed.
		want := last
		if latest.ID == lastID+1 {
			want = (last + 1) % len(series)
		} else if latest.ID != lastID {
			t.Fatalf("round %d: latest snapshot %d, last committed %d", round, latest.ID, lastID)
		}
		g, err := st.Graph(ctx, latest.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, sorted(series[want])) {
			t.Fatalf("round %d: latest snapshot %d does not read back as written", round, latest.ID)
		}
		st.Close()
	}
}
