package webui

import (
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// TestGrantConstraintWords: a grant's constraints as the asset page says
// them, keys sorted, both kinds when both are set.
func TestGrantConstraintWords(t *testing.T) {
	for _, c := range []struct {
		in   *model.KMSGrantConstraints
		want string
	}{
		{nil, ""},
		{&model.KMSGrantConstraints{}, ""},
		{&model.KMSGrantConstraints{EncryptionContextSubset: map[string]string{"team": "data", "app": "etl"}}, "context includes app=etl, team=data"},
		{&model.KMSGrantConstraints{EncryptionContextEquals: map[string]string{"stage": "prod"}, EncryptionContextSubset: map[string]string{"a": "b"}},
			"context includes a=b; context is exactly stage=prod"},
	} {
		if got := grantConstraintWords(c.in); got != c.want {
			t.Errorf("%+v: %q, want %q", c.in, got, c.want)
		}
	}
}
