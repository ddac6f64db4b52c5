package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ListenOptions say where and how `warden serve` listens.
type ListenOptions struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// TLSCert and TLSKey are PEM files; with both, the service speaks TLS.
	TLSCert, TLSKey string
	// InsecureHTTP allows plain HTTP on an address other than loopback.
	InsecureHTTP bool
}

// ErrInsecureListen is returned (wrapped) by CheckListen for plain HTTP on
// an address other than loopback without InsecureHTTP.
var ErrInsecureListen = errors.New("plain HTTP on a non-loopback address")

// Timeouts of every connection (the event stream of a sync clears its
// write deadline), and how long a shutdown lets requests in flight finish.
// Variables only so that tests can shorten them.
var (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 15 * time.Second
)

// stoppingKey is the context key of the channel closed when Serve shuts
// down.
type stoppingKey struct{}

// stoppingOf is the channel closed when the server shuts down; nil (never
// closed) outside Serve.
func stoppingOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return ch
}

// CheckListen refuses options that would send tokens in clear text over a
// network: an Addr that is not loopback needs TLSCert and TLSKey, or
// InsecureHTTP. One of TLSCert and TLSKey without the other is refused too.
func CheckListen(o ListenOptions) error {
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return fmt.Errorf("--listen %q is not HOST:PORT (%v): give for example --listen 127.0.0.1:8080", o.Addr, err)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both (the certificate chain and its private key, PEM), or neither")
	}
	if o.TLSCert != "" || o.InsecureHTTP || loopback(host) {
		return nil
	}
	return fmt.Errorf("--listen %s: %w would send tokens and answers in clear text: give --tls-cert FILE --tls-key FILE, "+
		"or --insecure-http behind a TLS-terminating proxy, or listen on 127.0.0.1", o.Addr, ErrInsecureListen)
}

// loopback reports whether host names only the loopback interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve listens as o says (after CheckListen), calls ready with the bound
// address, and serves h until ctx is done; it then stops accepting, lets the
// requests in flight finish (at most shutdownTimeout) and returns nil.
func Serve(ctx context.Context, o ListenOptions, h http.Handler, ready func(addr net.Addr)) error {
	if err := CheckListen(o); err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10,
	}
	// Requests in flight are not cancelled by ctx (they finish); streams
	// that would never end watch stopping instead.
	stopping := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(stopping) })
	base := context.WithValue(context.WithoutCancel(ctx), stoppingKey{}, (<-chan struct{})(stopping))
	srv.BaseContext = func(net.Listener) context.Context { return base }
	var ln net.Listener
	var err error
	if o.TLSCert != "" {
		cert, cerr := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if cerr != nil {
			return fmt.Errorf("load --tls-cert %s and --tls-key %s: %w: give a PEM certificate chain and its private key", o.TLSCert, o.TLSKey, cerr)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln, err = net.Listen("tcp", o.Addr)
		if err == nil {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	} else {
		ln, err = net.Listen("tcp", o.Addr)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w: pick another --listen address or stop what uses it", o.Addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down the server on %s: %w (requests still running after %s were cut)", ln.Addr(), err, shutdownTimeout)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	return nil
}
