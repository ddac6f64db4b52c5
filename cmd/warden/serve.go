package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/metrics"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/schedule"
	"github.com/warden-iam/warden/internal/server"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
	"github.com/warden-iam/warden/internal/tokens"
	"github.com/warden-iam/warden/internal/webui"
)

// serveFlags are the flags of `warden serve`.
type serveFlags struct {
	listen       string
	tlsCert      string
	tlsKey       string
	insecureHTTP bool
	grace        time.Duration
	logFormat    string
}

func newServeCmd(a *app) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run warden as a service: scheduled syncs, the HTTP JSON API, the web UI and metrics",
		Long: `serve runs until SIGTERM (or SIGINT): it syncs each connection of the connections file on its
schedule: (see docs/config.md), answers the HTTP JSON API under /api/v1 (described by the OpenAPI
document at /api/v1/openapi.json), serves the web UI at / and Prometheus metrics at /metrics.

Every route but /healthz and the web UI's sign-in needs a bearer token: create one with
` + "`warden token create NAME --scope read|admin`" + ` against the same database, or give one in
WARDEN_API_TOKEN (or a file named by WARDEN_API_TOKEN_FILE).

It listens on loopback by default. Another address needs --tls-cert and --tls-key, or
--insecure-http. Several replicas on one PostgreSQL database share the schedule: each slot runs on
one of them. docs/serve.md describes a deployment.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on; an address other than loopback needs --tls-cert and --tls-key, or --insecure-http")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate chain (PEM), with --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key (PEM) of --tls-cert")
	fl.BoolVar(&f.insecureHTTP, "insecure-http", false, "serve plain HTTP on an address other than loopback: tokens and answers cross the network in clear text")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long a running sync may go on before it is cancelled (a cancelled sync stores nothing)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log lines on stderr: text or json")
	return cmd
}

// serve runs the service until its context ends or SIGTERM comes.
func (a *app) serve(cmd *cobra.Command, f serveFlags) error {
	listen := server.ListenOptions{Addr: f.listen, TLSCert: f.tlsCert, TLSKey: f.tlsKey, InsecureHTTP: f.insecureHTTP}
	if err := server.CheckListen(listen); err != nil {
		return usageError(err.Error(), "listen on loopback (--listen 127.0.0.1:8080), give --tls-cert and --tls-key, or pass --insecure-http behind a TLS-terminating proxy")
	}
	if f.grace < 0 {
		return usageError(fmt.Sprintf("--grace %s is negative", f.grace), "pass --grace 30s (the default), or 0 to cancel a running sync at once")
	}
	logger, err := a.serviceLogger(f.logFormat, cmd.Flags().Changed("log-level"))
	if err != nil {
		return err
	}
	file, path, err := a.loadConfig()
	if err != nil {
		return err
	}
	if file == nil {
		return usageError("warden serve needs a connections file, and there is none (no --config, no WARDEN_CONFIG, no ./warden.yaml)",
			"write one (`warden config example > warden.yaml`, see docs/config.md) with a schedule: per connection, or pass --config")
	}
	env, err := tokens.FromEnv(os.Getenv)
	if err != nil {
		return usageError(err.Error(), "set WARDEN_API_TOKEN (or WARDEN_API_TOKEN_FILE) to a token of at least 24 characters (`openssl rand -hex 32`), or unset them and use `warden token create`")
	}
	m := metrics.New()
	conns := make([]schedule.Connection, 0, len(file.Connections))
	for _, c := range file.Connections {
		t, err := syncjob.FromConnection(c)
		if err != nil {
			return usageError(fmt.Sprintf("connection %q in %s: %v", c.ID, path, err), "set the environment variable it names, or correct the file")
		}
		t.AWS.Observer = m
		conns = append(conns, schedule.Connection{Target: t, Schedule: c.Schedule})
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := a.openStore(ctx, a.dbPath())
	if err != nil {
		return err
	}
	defer st.Close()

	sched, err := schedule.New(schedule.Options{Store: st, Connections: conns, Logger: logger,
		Observer: &syncObserver{metrics: m, store: st, logger: logger}, Grace: f.grace})
	if err != nil {
		return usageError(fmt.Sprintf("%s: %v", path, err), "correct the schedule: (see docs/config.md)")
	}
	version, _ := buildInfo()
	toks := tokens.New(st, tokens.Options{Env: env, Log: logger})
	defer toks.Wait() // before the store closes
	ui, err := webui.New(webui.Config{Store: st, Tokens: toks, Syncs: sched, Connections: file.Connections, Logger: logger,
		Provisioning: &server.Provisioning{Store: st, Connections: file.Connections, Logger: logger}})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: st, Tokens: toks, Syncs: sched,
		Connections: file.Connections, Logger: logger, Metrics: m, Version: version, UI: ui})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	serveErr := server.Serve(ctx, listen, srv.Handler(), func(addr net.Addr) {
		scheme := "https"
		if listen.TLSCert == "" {
			scheme = "http"
		}
		logger.Info("listening", "url", fmt.Sprintf("%s://%s", scheme, addr), "connections", len(conns))
	})
	stop() // the server failed to start, or the context ended: stop the scheduler too
	if err := <-done; err != nil && serveErr == nil {
		serveErr = err
	}
	if serveErr != nil {
		var opErr *net.OpError
		if errors.As(serveErr, &opErr) && opErr.Op == "listen" {
			return usageError(fmt.Sprintf("cannot listen on %s: %v", f.listen, opErr.Err), "pick a free address with --listen, or stop what listens there")
		}
		return serveErr
	}
	logger.Info("stopped")
	return nil
}

// serviceLogger is the logger of `warden serve`: --log-format text or json
// on stderr, at --log-level, which defaults to info here (a request and a
// sync are each a line at info).
func (a *app) serviceLogger(format string, levelSet bool) (*slog.Logger, error) {
	level := slog.LevelInfo
	if levelSet {
		if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
			return nil, usageError(fmt.Sprintf("unknown log level %q", a.logLevel), "use --log-level debug, info, warn or error")
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usageError(fmt.Sprintf("--log-format takes text or json, not %q", format), "pass --log-format text (the default) or --log-format json")
}

// syncObserver tells the metrics of every sync the scheduler finished,
// with the findings of the snapshot it stored.
type syncObserver struct {
	metrics *metrics.Metrics
	store   store.Store
	logger  *slog.Logger
}

// SyncFinished records the sync, then counts the findings of its snapshot.
func (o *syncObserver) SyncFinished(connection string, took time.Duration, result string, snap *model.Snapshot) {
	o.metrics.SyncFinished(connection, took, result, snap)
	if snap == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g, err := o.store.Graph(ctx, snap.ID)
	if err != nil {
		o.logger.Warn("findings metrics not updated: the snapshot could not be read", "connection", connection, "snapshot", snap.ID, "error", err)
		return
	}
	o.metrics.SetFindings(connection, findings.CountByRule(g, time.Now(), staleDays))
}
