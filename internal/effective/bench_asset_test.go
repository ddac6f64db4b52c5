package effective

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// The benchmarks of resource policies: the benchmark organization
// (benchStore) with a bucket and a KMS key added to its first member
// account, written as a snapshot of a store of their own. The bucket's
// policy lets anyone read (so every principal of the account is decided,
// the worst case) and names the second member account; the key has the
// default key policy (IAM delegation).
var benchAsset struct {
	once sync.Once
	dir  string
	st   *store.DB
	snap int64
	user string
	err  error
}

// cleanupBenchAsset closes and removes the store of benchAssetStore.
func cleanupBenchAsset() {
	if benchAsset.st != nil {
		benchAsset.st.Close()
	}
	if benchAsset.dir != "" {
		os.RemoveAll(benchAsset.dir)
	}
}

const (
	benchBucket = "arn:aws:s3:::bench-shared"
	benchKey    = "arn:aws:kms:us-east-1:200000000000:key/0b5e1c2d-0000-4000-8000-000000000001"
)

func benchAssetStore(b *testing.B) (*store.DB, int64, string) {
	b.Helper()
	st, snap := benchStore(b)
	benchAsset.once.Do(func() {
		ctx := context.Background()
		g, err := st.Graph(ctx, snap)
		if err != nil {
			benchAsset.err = err
			return
		}
		sn, err := st.Snapshot(ctx, snap)
		if err != nil {
			benchAsset.err = err
			return
		}
		const a, other = "200000000000", "200000000001"
		g.Resources = append(g.Resources,
			model.Resource{ID: benchBucket, Type: model.TypeS3Bucket, AccountID: a, Name: "bench-shared", ARN: benchBucket,
				Bucket: &model.BucketAttrs{Region: "us-east-1", Policy: doc(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + benchBucket + `/*"},` +
					`{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other + `:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"` + benchBucket + `/*"}`)}},
			model.Resource{ID: benchKey, Type: model.TypeKMSKey, AccountID: a, Name: "0b5e1c2d-0000-4000-8000-000000000001", ARN: benchKey,
				KMSKey: &model.KMSKeyAttrs{Region: "us-east-1", KeyID: "0b5e1c2d-0000-4000-8000-000000000001", State: "Enabled",
					Policy: doc(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + a + `:root"},"Action":"kms:*","Resource":"*"}`)}})
		for _, r := range g.Resources {
			if r.Type == model.TypeIAMUser && r.AccountID == a {
				benchAsset.user = r.ID
				break
			}
		}
		g.Sort()
		if benchAsset.dir, err = os.MkdirTemp("", "effective-bench-assets-"); err != nil {
			benchAsset.err = err
			return
		}
		if benchAsset.st, err = store.OpenSQLite(ctx, filepath.Join(benchAsset.dir, "warden.db")); err != nil {
			benchAsset.err = err
			return
		}
		s := *sn
		s.ID = 0
		benchAsset.snap, benchAsset.err = benchAsset.st.WriteSnapshot(ctx, &s, g)
		runtime.GC()
	})
	if benchAsset.err != nil {
		b.Fatal(benchAsset.err)
	}
	return benchAsset.st, benchAsset.snap, benchAsset.user
}

// BenchmarkWhoCanOnAsset is `warden who-can` on an object of the public
// bucket and on the key, cold (the snapshot loaded from the store each
// time, the asset read beside it), as the CLI asks it.
func BenchmarkWhoCanOnAsset(b *testing.B) {
	st, snap, _ := benchAssetStore(b)
	ctx := context.Background()
	for _, q := range []struct{ name, action, resource string }{
		{"bucket", "s3:GetObject", benchBucket + "/reports/q3.csv"},
		{"key", "kms:Decrypt", benchKey},
	} {
		b.Run(q.name, func(b *testing.B) {
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			stop := peakHeap()
			var a *WhoCanAnswer
			var err error
			for i := 0; i < b.N; i++ {
				if a, err = WhoCan(ctx, st, snap, WhoCanQuestion{Action: q.action, Resource: q.resource}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(len(a.Principals)), "principals")
			b.ReportMetric(float64(a.Evaluated), "requests")
		})
	}
}

// BenchmarkCanOnAsset is `warden can USER s3:GetObject` on an object of
// the public bucket: find the user, read what it holds, the bucket, its
// account's SCP and RCP chains, decide.
func BenchmarkCanOnAsset(b *testing.B) {
	st, snap, user := benchAssetStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var a *CanAnswer
	var err error
	for i := 0; i < b.N; i++ {
		if a, err = Can(ctx, st, snap, Question{Principal: user, Action: "s3:GetObject", Resource: benchBucket + "/reports/q3.csv"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !hasKind(a.Cases[0].Explanation, "resource") {
		b.Fatalf("the bucket policy does not decide: %+v", a.Cases[0])
	}
}
