package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/server"
	"github.com/warden-iam/warden/internal/tokens"
	"github.com/warden-iam/warden/internal/webui"
)

// demoServe serves the web UI and the API over the demo's database on
// listen (loopback only; with -o json the URL goes to stderr) until ctx ends or SIGTERM comes, and prints one
// URL that signs its first visitor in (admin, valid 5 minutes, once).
// There is no schedule: the demo's emulator ended with the demo, so the
// UI's "sync now" answers that no scheduler runs.
func (a *app) demoServe(ctx context.Context, res *demoResult, listen string) error {
	lo := server.ListenOptions{Addr: listen}
	if err := checkDemoListen(listen); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := a.openStore(ctx, res.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	toks := tokens.New(st, tokens.Options{Log: a.log})
	defer toks.Wait() // before the store closes
	ui, err := webui.New(webui.Config{Store: st, Tokens: toks, Logger: a.log})
	if err != nil {
		return err
	}
	version, _ := buildInfo()
	srv, err := server.New(server.Config{Store: st, Tokens: toks, Logger: a.log, Version: version, UI: ui})
	if err != nil {
		return err
	}
	var linkErr error
	err = server.Serve(ctx, lo, srv.Handler(), func(addr net.Addr) {
		link, err := ui.SignInLink("http://" + addr.String())
		if err != nil {
			linkErr = err
			stop()
			return
		}
		out := a.stdout
		if a.format == render.FormatJSON {
			out = a.stderr // stdout holds the demo's one JSON document
		}
		fmt.Fprintf(out, "\nThe web UI serves the demo at http://%s (Ctrl-C stops it).\nOpen this link to sign in (it works once, within 5 minutes):\n%s\n", addr, link)
	})
	if linkErr != nil {
		return linkErr
	}
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "listen" {
			return usageError(fmt.Sprintf("cannot listen on %s: %v", listen, opErr.Err), "pick a free address with --listen, such as 127.0.0.1:0")
		}
		return err
	}
	return nil
}

// checkDemoListen refuses a --listen the demo cannot serve on: it serves
// on loopback only, without TLS.
func checkDemoListen(listen string) error {
	if err := server.CheckListen(server.ListenOptions{Addr: listen}); err != nil {
		return usageError(fmt.Sprintf("--listen %s: %v", listen, err), "the demo serves on loopback only: pass --listen 127.0.0.1:8080 (or 127.0.0.1:0 for any free port)")
	}
	return nil
}
