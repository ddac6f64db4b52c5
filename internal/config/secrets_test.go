package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveExternalID(t *testing.T) {
	const env = "WARDEN_TEST_EXTERNAL_ID"
	tests := []struct {
		name    string
		creds   Credentials
		envVal  string
		want    string
		wantErr string
	}{
		{"none", Credentials{}, "", "", ""},
		{"inline", Credentials{ExternalID: "inline-value"}, "", "inline-value", ""},
		{"from environment", Credentials{ExternalIDEnv: env}, "Env+Value=1,2.3@4:5/6-7_8", "Env+Value=1,2.3@4:5/6-7_8", ""},
		{"environment unset", Credentials{ExternalIDEnv: env}, "", "", "environment variable WARDEN_TEST_EXTERNAL_ID is unset or empty"},
		{"environment invalid", Credentials{ExternalIDEnv: env}, "bad value!", "", "the value of WARDEN_TEST_EXTERNAL_ID is not a valid ExternalId: it contains ' '"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(env, tt.envVal)
			got, err := tt.creds.ResolveExternalID()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.envVal != "" && strings.Contains(err.Error(), tt.envVal) {
					t.Errorf("the error repeats the value: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("organization", func(t *testing.T) {
		t.Setenv(env, "member-external-id")
		got, err := Organization{ExternalIDEnv: env}.ResolveExternalID()
		if err != nil || got != "member-external-id" {
			t.Errorf("= %q, %v", got, err)
		}
	})
}

func TestSCIMToken(t *testing.T) {
	const env = "WARDEN_TEST_SCIM_TOKEN"
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("  file-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(dir, "blank")
	if err := os.WriteFile(blank, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		scim    SCIM
		envVal  string
		want    string
		wantErr string
	}{
		{"environment", SCIM{TokenEnv: env}, "env-token-value\n", "env-token-value", ""},
		{"environment unset", SCIM{TokenEnv: env}, "", "", "environment variable WARDEN_TEST_SCIM_TOKEN is unset or empty"},
		{"file", SCIM{TokenFile: good}, "", "file-token-value", ""},
		{"file blank", SCIM{TokenFile: blank}, "", "", "is empty"},
		{"file missing", SCIM{TokenFile: filepath.Join(dir, "nope")}, "", "", "read the SCIM token"},
		{"nothing configured", SCIM{}, "", "", "set scim.token_env or scim.token_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(env, tt.envVal)
			got, err := tt.scim.Token()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
