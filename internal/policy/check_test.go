package policy

import (
	"strings"
	"testing"
)

func TestCheckIdentity(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
		`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b"}}`,
		"\ufeff" + `{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
	} {
		if err := CheckIdentity(doc); err != nil {
			t.Errorf("%s: %v, want no problem", doc, err)
		}
	}
	for _, tt := range []struct{ doc, want string }{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`, `statement 1 has Effect "Perhaps"; it must be "Allow" or "Deny"`},
		{`{"Version":"2012-10-17","Statement":"nope"}`, `statement 1 is "nope", not an object`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"s3:*"}]}`, "statement 2 has no Resource (nor NotResource): add one"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}]}`, "has NotPrincipal"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "Action []; it must be a string or a list of strings"},
		{`{"Version":"2012-10-17"}`, "has no Statement"},
		{`not json`, "not a JSON object"},
	} {
		if err := CheckIdentity(tt.doc); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
}
