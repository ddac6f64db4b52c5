package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoServeSignInLink runs `warden demo --serve`: after the demo it
// serves the web UI over the demo's database and prints one link that
// signs its first visitor in; the link then is dead, and the UI shows the
// demo's organization.
func TestDemoServeSignInLink(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--db", db, "demo", "--serve", "--listen", "127.0.0.1:0"}, stdout, stderr)
	}()
	linkRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/signin/link\?s=\S+`)
	var link string
	for deadline := time.Now().Add(60 * time.Second); link == ""; time.Sleep(50 * time.Millisecond) {
		select {
		case c := <-code:
			t.Fatalf("demo --serve exited with %d before printing its link:\n%s\n%s", c, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo --serve printed no sign-in link in 60 s:\n%s\n%s", stdout, stderr)
		}
		link = linkRE.FindString(stdout.String())
	}
	if !strings.Contains(stdout.String(), "What the demo changed") {
		t.Errorf("the demo's report is not printed before the link:\n%s", stdout)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" || !strings.Contains(string(body), "default") {
		t.Fatalf("the sign-in link led to %d %s:\n%.800s", resp.StatusCode, resp.Request.URL, body)
	}
	var session *http.Cookie
	for _, c := range jar.Cookies(resp.Request.URL) {
		session = c
	}
	if session == nil {
		t.Fatal("the sign-in link set no session cookie")
	}
	base := strings.TrimSuffix(link[:strings.Index(link, "/signin")], "/")
	resp, err = browser.Get(base + "/search?q=dana")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "dana.ops") {
		t.Errorf("search for dana in the signed-in UI: %d\n%.800s", resp.StatusCode, body)
	}
	// The link works once.
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the sign-in link used a second time: %d, want 401", resp.StatusCode)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("demo --serve exited %d after SIGTERM-like cancel, want 0:\n%s", c, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo --serve did not stop within 30 s")
	}
}

// TestDemoServeRefusesNonLoopback: --serve on another address is a usage
// error before any demo runs, and writes no database.
func TestDemoServeRefusesNonLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	_, errOut, code := runIn(t, db, "demo", "--serve", "--listen", "0.0.0.0:8080")
	if code != 2 || !strings.Contains(errOut, "loopback") {
		t.Fatalf("demo --serve --listen 0.0.0.0:8080: exit %d, %s; want 2 naming loopback", code, errOut)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a refused demo --serve wrote %s (%v)", db, err)
	}
}
