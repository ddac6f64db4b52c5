package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"30d": 30 * day, "12h": 12 * time.Hour, "2w": 14 * day, "1d12h": 36 * time.Hour,
		"90m": 90 * time.Minute, "45s": 45 * time.Second, " 7d ": 7 * day, "1w2d3h4m5s": 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second,
		"36500d": 36500 * day,
	} {
		got, err := ParseAge(in)
		if err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseAge(FormatAge(got)); err != nil || back != got {
			t.Errorf("ParseAge(FormatAge(%v) = %q) = %v, %v", got, FormatAge(got), back, err)
		}
	}
	for in, why := range map[string]string{
		"":                        "it is empty",
		"30":                      "30 has no unit",
		"30x":                     `unknown unit at "x"`,
		"d":                       `expected a number at "d"`,
		"-3d":                     `expected a number at "-3d"`,
		"1.5d":                    `unknown unit at ".5d"`,
		"0d":                      "more than zero",
		"0h0m":                    "more than zero",
		"36501d":                  "longer than 100 years",
		"9999999999999999999999w": "longer than 100 years",
		"30 d":                    `unknown unit at " d"`,
		"30days":                  `expected a number at "ays"`,
	} {
		_, err := ParseAge(in)
		if err == nil {
			t.Errorf("ParseAge(%q) = nil error", in)
			continue
		}
		if !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "such as 30d, 12h, 2w") {
			t.Errorf("ParseAge(%q) = %v; want it to say %q and how to write an age", in, err, why)
		}
	}
	if got := FormatAge(36 * time.Hour); got != "1d12h" {
		t.Errorf("FormatAge(36h) = %q, want 1d12h", got)
	}
	if got := FormatAge(14 * day); got != "2w" {
		t.Errorf("FormatAge(14d) = %q, want 2w", got)
	}
}

func TestRetention(t *testing.T) {
	f, err := Parse([]byte("version: 1\nconnections:\n  - id: a\n    retention:\n      keep: 24\n      older_than: 2w\n  - id: b\n"), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Connections[0].Retention, f.Connections[1].Retention
	if age, err := a.Age(); a.Keep != 24 || age != 14*24*time.Hour || err != nil || a.IsZero() {
		t.Errorf("retention of a = %+v (age %v, %v)", a, age, err)
	}
	if age, err := b.Age(); !b.IsZero() || age != 0 || err != nil {
		t.Errorf("connection b without retention has %+v (age %v, %v)", b, age, err)
	}

	_, err = Parse([]byte("version: 1\nconnections:\n  - id: a\n    retention:\n      keep: 0\n      older_than: 30x\n  - id: b\n    retention: {keep: -2}\n"), "w.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse = %v; want a *ValidationError", err)
	}
	want := []struct{ at, path, msg string }{
		{"5:7", "connections[0].retention.keep", "must be at least 1 snapshot, not 0 (the latest is always kept); leave keep out for no limit by count"},
		{"6:7", "connections[0].retention.older_than", `"30x" is not an age: unknown unit at "x"; write whole numbers with units`},
		{"8:17", "connections[1].retention.keep", "must be at least 1 snapshot, not -2"},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for i, w := range want {
		p := ve.Problems[i]
		if at := position2(p); at != w.at || p.Path != w.path || !strings.Contains(p.Message, w.msg) {
			t.Errorf("problem %d = %s at %s; want %s at %s: %s", i, p.Path, at, w.path, w.at, w.msg)
		}
	}
}
