package policy

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Grüße 1+1","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a b/*"}]}`
	enc := strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
	got, err := Decode(enc)
	if err != nil || got != doc {
		t.Fatalf("Decode = %q, %v; want %q", got, err, doc)
	}
	if got, _ := Decode(doc); got != doc {
		t.Fatalf("Decode of plain JSON changed it: %q", got)
	}
	if _, err := Decode("%zz"); err == nil {
		t.Fatal("Decode of a bad escape returned no error")
	}
}

func TestNormalize(t *testing.T) {
	a, err := Normalize(`{ "b": 1, "a": [ "x" ] }`)
	if err != nil || a != `{"a":["x"],"b":1}` {
		t.Fatalf("Normalize = %q, %v", a, err)
	}
	if _, err := Normalize(`{`); err == nil {
		t.Fatal("Normalize of bad JSON returned no error")
	}
}

func TestTrustedPrincipals(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []TrustedPrincipal
	}{
		{"single statement object, account string", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}}`,
			[]TrustedPrincipal{{Kind: "AWS", Value: "111122223333"}}},
		{"lists and condition", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","arn:aws:iam::1:user/a"],"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`,
			[]TrustedPrincipal{
				{Kind: "AWS", Value: "arn:aws:iam::1:root", Conditions: []string{"sts:ExternalId"}},
				{Kind: "AWS", Value: "arn:aws:iam::1:user/a", Conditions: []string{"sts:ExternalId"}},
				{Kind: "Service", Value: "ec2.amazonaws.com", Conditions: []string{"sts:ExternalId"}},
			}},
		{"star principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`,
			[]TrustedPrincipal{{Kind: "*", Value: "*", Conditions: []string{"aws:PrincipalOrgID"}}}},
		{"federated web identity", `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML"}]}`,
			[]TrustedPrincipal{{Kind: "Federated", Value: "arn:aws:iam::1:saml-provider/Okta"}}},
		{"deny and other actions ignored", `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"2"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"3"},"Action":"s3:GetObject"}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TrustedPrincipals(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := TrustedPrincipals(`{"Statement":[{"Effect":"Allow","Principal":"someone","Action":"sts:AssumeRole"}]}`); err == nil {
		t.Fatal("a bare non-* principal string was accepted")
	}
}

func TestIsAdmin(t *testing.T) {
	tests := []struct {
		doc  string
		want bool
	}{
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{`{"Statement":{"Effect":"Allow","Action":["*:*"],"Resource":["*"]}}`, true},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, false},
		{`{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Action":"*","Resource":"*"}]}`, false},
		{`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, false},
		{`not json`, false},
	}
	for _, tt := range tests {
		if got := IsAdmin(tt.doc); got != tt.want {
			t.Errorf("IsAdmin(%s) = %v, want %v", tt.doc, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		_, _ = Parse(doc)
		_, _ = TrustedPrincipals(doc)
		_ = IsAdmin(doc)
	})
}
