package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// TestConcurrentWriters writes snapshots from several writers at once,
// two per connection and two connections, as several warden processes
// sharing one database do: every write succeeds, and every snapshot reads
// back exactly as its writer wrote it, the history of each connection
// intact.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		series := graphSeries(6)
		type written struct {
			id int64
			g  *model.Graph
		}
		var mu sync.Mutex
		var all []written
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := fmt.Sprintf("conn-%d", w%2)
				for i := 0; i < 3; i++ {
					g := series[(w+2*i)%len(series)]
					at := time.Date(2026, 11, 1, w, i, 0, 0, time.UTC)
					id, err := st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: c, StartedAt: at, FinishedAt: at, Status: model.StatusComplete}, g)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					all = append(all, written{id, g})
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(all) != 12 {
			t.Fatalf("wrote %d snapshots, want 12", len(all))
		}
		for _, w := range all {
			g, err := st.Graph(ctx, w.id)
			if err != nil {
				t.Fatal(err)
			}
			if want := sorted(w.g); !reflect.DeepEqual(g, want) {
				t.Errorf("snapshot %d reads back differently from what its writer wrote", w.id)
			}
		}
	})
}
