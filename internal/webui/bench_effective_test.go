package webui

import (
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/effective"
)

// BenchmarkWhoCanPage renders /who-can s3:GetObject on every resource over
// the benchmark organization: the first page decides every principal
// (printed), the pages after it come from the answer kept.
func BenchmarkWhoCanPage(b *testing.B) {
	benchUI(b)
	base := "/who-can?c=" + url.QueryEscape(bench.conn) + "&action=s3:GetObject&resource=*"
	t0 := time.Now()
	serve(b, base)
	fmt.Fprintf(os.Stderr, "webui bench: the first /who-can s3:GetObject * (deciding every principal) took %s\n", time.Since(t0).Round(time.Millisecond))
	ans, err := bench.ui.whoCans.get(b.Context(), bench.ui, bench.snap.ID, whoCanQ("s3:GetObject", "*"))
	if err != nil {
		b.Fatal(err)
	}
	pages := max(1, (len(ans.Principals)+whoCanPageSize-1)/whoCanPageSize)
	fmt.Fprintf(os.Stderr, "webui bench: %d principals, %d pages of %d\n", len(ans.Principals), pages, whoCanPageSize)
	i := 0
	start := time.Now()
	for b.Loop() {
		p := 1 + (i*7)%pages
		i++
		serve(b, base+"&page="+fmt.Sprint(p))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

// BenchmarkCanPage renders /can s3:GetObject for users of the benchmark
// organization, server time.
func BenchmarkCanPage(b *testing.B) {
	benchUI(b)
	i := 0
	start := time.Now()
	for b.Loop() {
		u := bench.users[(i*7919)%len(bench.users)]
		i++
		serve(b, "/can?c="+url.QueryEscape(bench.conn)+"&action=s3:GetObject&resource=*&principal="+url.QueryEscape(u.ID))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

// BenchmarkActivityPage renders /activity over the benchmark organization
// (the credential report and RoleLastUsed of every principal): the first
// page builds the report (printed), the pages after it reuse it.
func BenchmarkActivityPage(b *testing.B) {
	benchUI(b)
	base := "/activity?c=" + url.QueryEscape(bench.conn)
	t0 := time.Now()
	serve(b, base)
	fmt.Fprintf(os.Stderr, "webui bench: the first /activity (the report of every principal) took %s\n", time.Since(t0).Round(time.Millisecond))
	pages := max(1, (len(bench.ui.actCache.rep.Principals)+activityPageSize-1)/activityPageSize)
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		serve(b, base+"&page="+fmt.Sprint(1+(i*13)%pages))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

func whoCanQ(action, resource string) effective.WhoCanQuestion {
	return effective.WhoCanQuestion{Action: action, Resource: resource}
}
