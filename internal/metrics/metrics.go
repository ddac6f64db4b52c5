// Package metrics is `warden serve`'s Prometheus instrumentation: the HTTP
// requests the service answers, the syncs the scheduler runs, the AWS calls
// they make (throttled and retried attempts as awsapi's middleware sees
// them), the accounts a sync failed to read, the resources of each
// connection's last snapshot, and the findings on it.
//
// A Metrics has its own registry (never Prometheus's global one), served
// by Handler at /metrics. It implements the scheduler's observer
// (SyncFinished) and awsapi.Observer (Attempt). Every metric it exports is
// listed in docs/serve.md.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/warden-iam/warden/internal/model"
)

// Namespace prefixes every metric name.
const Namespace = "warden"

// Buckets of the histograms, in seconds.
var (
	// httpBuckets run from 1 ms to 10 s: an API page or an access answer
	// takes milliseconds; anything above seconds is a problem to see.
	httpBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// syncBuckets run from 1 s to 2 h: one account syncs in seconds, a
	// 200-account organization in minutes.
	syncBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}
)

// Metrics holds warden serve's metrics and the registry that exports them.
// Its methods are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec   // route, method, status
	httpDuration *prometheus.HistogramVec // route, method

	syncDuration   *prometheus.HistogramVec // connection
	syncs          *prometheus.CounterVec   // connection, result
	failedAccounts *prometheus.GaugeVec     // connection
	lastSuccess    *prometheus.GaugeVec     // connection
	resources      *perConnection           // connection, kind
	findings       *perConnection           // connection, rule

	awsCalls     *prometheus.CounterVec // service, action
	awsThrottles *prometheus.CounterVec // service, action
	awsRetries   *prometheus.CounterVec // service, action
}

// New returns Metrics registered on a registry of their own, with the Go
// runtime's and the process's standard collectors beside them.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (a server-sent event stream: until it ended), by route pattern and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "sync_duration_seconds",
			Help:    "Duration of the syncs the scheduler ran, whatever their result, by connection.",
			Buckets: syncBuckets,
		}, []string{"connection"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "syncs_total",
			Help: "Syncs the scheduler ran, by connection and result (complete, partial, failed, cancelled).",
		}, []string{"connection", "result"}),
		failedAccounts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "sync_failed_accounts",
			Help: "Accounts the last sync that stored a snapshot set out to read and could not, by connection.",
		}, []string{"connection"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "sync_last_success_timestamp_seconds",
			Help: "When the last sync that stored a snapshot (complete or partial) finished, in Unix seconds, by connection.",
		}, []string{"connection"}),
		resources: newPerConnection(prometheus.NewDesc(Namespace+"_resources",
			"Resources in the last snapshot a sync stored, by connection and kind.",
			[]string{"connection", "kind"}, nil)),
		findings: newPerConnection(prometheus.NewDesc(Namespace+"_findings",
			"Findings on the last snapshot of a connection, by connection and rule.",
			[]string{"connection", "rule"}, nil)),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "aws_calls_total",
			Help: "AWS API requests the scheduler's syncs made, attempts included, by service and action, counted when each sync ends.",
		}, []string{"service", "action"}),
		awsThrottles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "aws_throttles_total",
			Help: "AWS API attempts AWS answered with a throttling error, by service and action.",
		}, []string{"service", "action"}),
		awsRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "aws_retries_total",
			Help: "AWS API attempts that retried a call (every attempt after a call's first), by service and action.",
		}, []string{"service", "action"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.syncDuration, m.syncs, m.failedAccounts, m.lastSuccess, m.resources, m.findings,
		m.awsCalls, m.awsThrottles, m.awsRetries,
	)
	return m
}

// Handler serves the metrics in Prometheus's exposition formats, for
// /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// SyncFinished records the end of one sync of connection: how long it
// took, its result (schedule.ResultComplete, ResultPartial, ResultFailed,
// ResultCancelled), and the snapshot it stored, nil when it stored none.
// A snapshot sets the connection's failed accounts, resources by kind and
// last success time, and adds its API calls; without one those keep the
// last snapshot's values.
func (m *Metrics) SyncFinished(connection string, took time.Duration, result string, snap *model.Snapshot) {
	m.syncDuration.WithLabelValues(connection).Observe(took.Seconds())
	m.syncs.WithLabelValues(connection, result).Inc()
	if snap == nil {
		return
	}
	m.failedAccounts.WithLabelValues(connection).Set(float64(max(0, snap.Accounts.Planned-snap.Accounts.Read)))
	finished := snap.FinishedAt
	if finished.IsZero() {
		finished = time.Now()
	}
	m.lastSuccess.WithLabelValues(connection).Set(float64(finished.UnixNano()) / 1e9)
	kinds := make(map[string]float64, len(snap.Counts))
	for kind, n := range snap.Counts {
		kinds[kind] = float64(n)
	}
	m.resources.set(connection, kinds)
	for key, n := range snap.APICalls {
		service, action := splitCall(key)
		m.awsCalls.WithLabelValues(service, action).Add(float64(n))
	}
}

// SetFindings replaces the findings of connection: the number of findings
// of each rule on its last snapshot. Rules absent from byRule are dropped.
func (m *Metrics) SetFindings(connection string, byRule map[string]int) {
	rules := make(map[string]float64, len(byRule))
	for rule, n := range byRule {
		rules[rule] = float64(n)
	}
	m.findings.set(connection, rules)
}

// Attempt implements awsapi.Observer: it counts a throttled attempt as a
// throttle and an attempt after a call's first as a retry.
func (m *Metrics) Attempt(service, action string, throttled, retry bool) {
	if throttled {
		m.awsThrottles.WithLabelValues(service, action).Inc()
	}
	if retry {
		m.awsRetries.WithLabelValues(service, action).Inc()
	}
}

// splitCall splits a call key as snapshots count them, "iam:ListUsers",
// into its service and action; a key without a colon is all action, of
// service "unknown".
func splitCall(key string) (service, action string) {
	service, action, ok := strings.Cut(key, ":")
	if !ok {
		return "unknown", key
	}
	return service, action
}

// perConnection is a gauge whose values are replaced a connection at a
// time, so that a scrape sees one snapshot's values or the next's, never a
// mixture, and a kind (or rule) gone from the estate is gone from the
// metric.
type perConnection struct {
	desc *prometheus.Desc

	mu     sync.Mutex
	values map[string]map[string]float64 // connection → label → value
}

func newPerConnection(desc *prometheus.Desc) *perConnection {
	return &perConnection{desc: desc, values: map[string]map[string]float64{}}
}

// set replaces the values of connection.
func (p *perConnection) set(connection string, values map[string]float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.values[connection] = values
}

// Describe implements prometheus.Collector.
func (p *perConnection) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

// Collect implements prometheus.Collector.
func (p *perConnection) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for connection, values := range p.values {
		for label, v := range values {
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, v, connection, label)
		}
	}
}
