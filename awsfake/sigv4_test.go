package awsfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// signTestRequest signs a hand-made request as the SDK would, with the
// secret and session token the emulator issued with keyID (any secret for
// a key it does not know), for tests that speak the wire protocol
// directly.
func signTestRequest(srv *Server, req *http.Request, keyID, service string, body []byte) {
	srv.mu.Lock()
	c := srv.keys[keyID]
	srv.mu.Unlock()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: c.secret, SessionToken: c.sessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		panic(err)
	}
}

// rawQuery sends one query-protocol request, signed with secret (or the
// key's own secret when secret is ""), and returns the answer.
func rawQuery(srv *Server, keyID, secret, token, service string, form url.Values, tamper func(*http.Request)) *httptest.ResponseRecorder {
	body := form.Encode()
	req := httptest.NewRequest(http.MethodPost, "http://"+service+".example/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	srv.mu.Lock()
	c := srv.keys[keyID]
	srv.mu.Unlock()
	if secret == "" {
		secret = c.secret
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		panic(err)
	}
	if tamper != nil {
		tamper(req)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

// TestSignaturesAreVerifiedThroughSDK: the right secret passes and a wrong
// one fails with AWS's code, for one service of each protocol, through
// the real SDK.
func TestSignaturesAreVerifiedThroughSDK(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := smallOrg().Build()
	good := truth.Install(srv)
	wrong := good
	wrong.SecretAccessKey = "not-" + good.SecretAccessKey
	unknown := Credentials{AccessKeyID: "AKIAFAKENOSUCHKEY000", SecretAccessKey: good.SecretAccessKey}
	ctx := context.Background()

	cases := []struct {
		name string
		call func(Credentials) error
		// bad and unknownKey are the codes AWS answers for a wrong secret
		// and an access key it does not know.
		bad, unknownKey string
	}{
		{"IAM (query)", func(c Credentials) error {
			_, err := iamClient(srv, c).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}, "SignatureDoesNotMatch", "InvalidClientTokenId"},
		{"STS (query)", func(c Credentials) error {
			_, err := sts.NewFromConfig(sdkConfig(srv, c)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "SignatureDoesNotMatch", "InvalidClientTokenId"},
		{"Organizations (JSON 1.1)", func(c Credentials) error {
			_, err := organizations.NewFromConfig(sdkConfig(srv, c)).ListRoots(ctx, &organizations.ListRootsInput{})
			return err
		}, "InvalidSignatureException", "UnrecognizedClientException"},
	}
	for _, c := range cases {
		if err := c.call(good); err != nil {
			t.Errorf("%s: the right secret: %v", c.name, err)
		}
		if err := c.call(wrong); apiCode(err) != c.bad {
			t.Errorf("%s: a wrong secret: err = %v, want %s", c.name, err, c.bad)
		} else if !strings.Contains(err.Error(), "The request signature we calculated does not match the signature you provided") {
			t.Errorf("%s: a wrong secret: message %q is not AWS's", c.name, err)
		}
		if err := c.call(unknown); apiCode(err) != c.unknownKey {
			t.Errorf("%s: an unknown key: err = %v, want %s", c.name, err, c.unknownKey)
		}
	}

	// Temporary credentials sign with their own secret and must send the
	// session token issued with them.
	stsc := sts.NewFromConfig(sdkConfig(srv, good))
	out, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + truth.Members[0].ID + ":role/" + DefaultMemberRoleName),
		RoleSessionName: aws.String("sig"), ExternalId: aws.String(smallOrg().ExternalID)})
	if err != nil {
		t.Fatal(err)
	}
	temp := Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	if err := cases[0].call(temp); err != nil {
		t.Errorf("assumed-role credentials: %v", err)
	}
	badToken := temp
	badToken.SessionToken += "x"
	if err := cases[0].call(badToken); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("a session token not issued with the key: err = %v, want InvalidClientTokenId", err)
	}
	noToken := temp
	noToken.SessionToken = ""
	if err := cases[2].call(noToken); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("temporary credentials without their token: err = %v, want UnrecognizedClientException", err)
	}
	badSecret := temp
	badSecret.SecretAccessKey = good.SecretAccessKey
	if err := cases[2].call(badSecret); apiCode(err) != "InvalidSignatureException" {
		t.Errorf("temporary key signed with another secret: err = %v, want InvalidSignatureException", err)
	}

	// A key made by CreateAccessKey works with its own secret only.
	admin := iamClient(srv, good)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("signer")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("signer")})
	if err != nil {
		t.Fatal(err)
	}
	own := Credentials{AccessKeyID: *key.AccessKey.AccessKeyId, SecretAccessKey: *key.AccessKey.SecretAccessKey}
	if err := cases[1].call(own); err != nil {
		t.Errorf("a created access key: %v", err)
	}
	own.SecretAccessKey = good.SecretAccessKey
	if err := cases[1].call(own); apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("a created access key with another secret: err = %v, want SignatureDoesNotMatch", err)
	}
	// An inactive key is refused as an unknown one is, and works again
	// once active.
	own.SecretAccessKey = *key.AccessKey.SecretAccessKey
	for _, st := range []types.StatusType{types.StatusTypeInactive, types.StatusTypeActive} {
		if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("signer"), AccessKeyId: key.AccessKey.AccessKeyId, Status: st}); err != nil {
			t.Fatal(err)
		}
		want := ""
		if st == types.StatusTypeInactive {
			want = "InvalidClientTokenId"
		}
		if err := cases[1].call(own); apiCode(err) != want {
			t.Errorf("a key whose status is %s: err = %v, want %q", st, err, want)
		}
	}
}

// TestSignatureCoversRequest: a request changed after signing (its body,
// a signed header, its date) no longer matches; an unsigned header may
// change; a header without a signature is incomplete.
func TestSignatureCoversRequest(t *testing.T) {
	srv := NewHandler(Options{})
	creds := srv.AddAccount(Estate{Users: 1, Seed: 1}.Build())
	form := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
	cases := []struct {
		name   string
		tamper func(*http.Request)
		status int
		code   string
	}{
		{"untouched", nil, 200, ""},
		{"unsigned header added", func(r *http.Request) { r.Header.Set("User-Agent", "changed") }, 200, ""},
		{"body changed", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("Action=GetCallerIdentity&Version=2011-06-16"))
		}, 403, "SignatureDoesNotMatch"},
		{"signed header changed", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, 403, "SignatureDoesNotMatch"},
		{"date changed", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().Add(time.Hour).UTC().Format("20060102T150405Z"))
		}, 403, "SignatureDoesNotMatch"},
		{"no signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, 400, "IncompleteSignature"},
		{"no authorization", func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationToken"},
		{"a session token with a user's key", func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "forged") }, 403, "InvalidClientTokenId"},
	}
	for _, c := range cases {
		w := rawQuery(srv, creds.AccessKeyID, "", "", "sts", form, c.tamper)
		if w.Code != c.status || (c.code != "" && !strings.Contains(w.Body.String(), "<Code>"+c.code+"</Code>")) {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.code)
		}
	}
}

// BenchmarkAuthenticateRequest measures what verifying a signature adds
// to each call.
func BenchmarkAuthenticateRequest(b *testing.B) {
	srv := NewHandler(Options{})
	creds := srv.AddAccount(Estate{Users: 1, Seed: 1}.Build())
	body := url.Values{"Action": {"GetAccountAuthorizationDetails"}, "Version": {"2010-05-08"}, "MaxItems": {"1000"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "http://iam.example/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signTestRequest(srv, req, creds.AccessKeyID, "iam", []byte(body))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Body = io.NopCloser(strings.NewReader(body))
		if _, e := srv.authenticateRequest(req); e != nil {
			b.Fatal(e.message)
		}
	}
}

// TestSignedGETRequest: the query protocol's parameters in a signed GET's
// query string are served as AWS serves them, and the query string is
// covered by the signature.
func TestSignedGETRequest(t *testing.T) {
	srv := NewHandler(Options{})
	creds := srv.AddAccount(Estate{Users: 1, Seed: 1}.Build())
	for _, c := range []struct {
		name   string
		tamper func(*http.Request)
		status int
	}{
		{"signed", nil, 200},
		{"query changed", func(r *http.Request) { r.URL.RawQuery += "&Extra=1" }, 403},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://sts.example/?Action=GetCallerIdentity&Version=2011-06-15", nil)
		signTestRequest(srv, req, creds.AccessKeyID, "sts", nil)
		if c.tamper != nil {
			c.tamper(req)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != c.status || (c.status == 200 && !strings.Contains(w.Body.String(), "<GetCallerIdentityResponse")) {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.status)
		}
	}
}
