package awsfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// This file authenticates a request as AWS does: the access key must be
// one the emulator issued, a session token must be the one issued with
// it, and the SigV4 signature must be the one the key's secret gives. The
// signature is recomputed with the SDK's own signer (aws/signer/v4) on a
// copy of the request holding only what the client signed, at the time
// the client signed it, so the emulator and the SDK cannot disagree about
// SigV4 itself, and a wrong secret fails here as it would against AWS.
//
// The request's clock is not checked against the emulator's (AWS refuses
// a signature more than 15 minutes old): emulated clocks (Options.Now) are
// often far from the wall clock the SDK signs with.

// maxBody bounds the request bodies the emulator reads.
const maxBody = 16 << 20

// sigV4Auth is a parsed SigV4 Authorization header.
type sigV4Auth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex". ok is false when
// there is no SigV4 header at all; an apiError names a header that is
// there but incomplete.
func parseAuthorization(h string) (a sigV4Auth, ok bool, e *apiError) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return a, false, nil
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, true, errIncompleteSignature("Credential should be scoped to a valid region, not '" + v + "'.")
			}
			a.keyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	switch {
	case a.keyID == "":
		return a, true, errIncompleteSignature("Authorization header requires 'Credential' parameter.")
	case a.signedHeaders == nil:
		return a, true, errIncompleteSignature("Authorization header requires 'SignedHeaders' parameter.")
	case a.signature == "":
		return a, true, errIncompleteSignature("Authorization header requires 'Signature' parameter.")
	}
	return a, true, nil
}

func errIncompleteSignature(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", message: msg}
}

// errSignatureDoesNotMatch is AWS's answer to a signature the secret does
// not give (query protocol; JSON services call it InvalidSignatureException).
func errSignatureDoesNotMatch() *apiError {
	return &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
		message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
}

func errInvalidClientTokenID() *apiError {
	return &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId", message: "The security token included in the request is invalid."}
}

// authenticated is what authenticateRequest learnt of a request.
type authenticated struct {
	caller  caller
	service string // the credential scope's service: iam, sts, organizations, …
	region  string // the credential scope's region
	id      string // the request ID, given even to refused requests
	body    []byte // the request body, read once; r.Body reads it again
}

// authenticateRequest reads the request body, gives the request an ID and
// checks its credentials and SigV4 signature. A request without a SigV4
// Authorization header answers MissingAuthenticationToken; errors carry
// the query protocol's codes (serveJSON renames them).
func (s *Server) authenticateRequest(r *http.Request) (authenticated, *apiError) {
	var out authenticated
	s.mu.Lock()
	s.nextID++
	out.id = fmt.Sprintf("fa4e%04x-0000-4000-8000-%012d", s.nextID%0xffff, s.nextID)
	s.mu.Unlock()

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return out, &apiError{status: http.StatusBadRequest, code: "MalformedQueryString", message: "cannot read the request body: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	out.body = body

	auth, ok, e := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return out, &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token"}
	}
	if e != nil {
		return out, e
	}
	out.service = auth.service
	out.region = auth.region

	s.mu.Lock()
	c, known := s.keys[auth.keyID]
	inactive := known && s.keyInactive(c, auth.keyID)
	now := s.now()
	s.mu.Unlock()
	if !known || inactive || r.Header.Get("X-Amz-Security-Token") != c.sessionToken {
		// AWS answers the same for an unknown key, an inactive one, and a
		// session token that is not the one issued with the key.
		return out, errInvalidClientTokenID()
	}
	if e := verifySignature(r, body, auth, c); e != nil {
		return out, e
	}
	if !c.expires.IsZero() && !now.Before(c.expires) {
		// AWS answers 403 (IAM and STS: ExpiredToken; JSON services:
		// ExpiredTokenException, renamed in serveJSON).
		return out, &apiError{status: http.StatusForbidden, code: "ExpiredToken", message: "The security token included in the request is expired"}
	}
	out.caller = c
	return out, nil
}

// keyInactive reports whether keyID is an access key of an IAM user of the
// emulated state whose status is Inactive (UpdateAccessKey). The caller
// holds s.mu.
func (s *Server) keyInactive(c caller, keyID string) bool {
	a := s.accounts[c.account]
	if a == nil || a.IAM == nil || !strings.Contains(c.arn, ":user/") {
		return false
	}
	u := a.IAM.Users[c.arn[strings.LastIndexByte(c.arn, '/')+1:]]
	if u == nil {
		return false
	}
	for _, k := range u.AccessKeys {
		if k.ID == keyID {
			return k.Status == "Inactive"
		}
	}
	return false
}

// verifySignature signs a copy of r with the caller's secret, as the SDK
// would have signed it (same X-Amz-Date, payload hash, credential scope and
// signed headers), and compares the signatures.
func verifySignature(r *http.Request, body []byte, auth sigV4Auth, c caller) *apiError {
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errIncompleteSignature("Authorization header requires existence of a valid 'X-Amz-Date' header.")
	}
	if signedAt.Format("20060102") != auth.date {
		return errSignatureDoesNotMatch()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	cp := &http.Request{Method: r.Method, Host: r.Host, Header: http.Header{},
		URL: &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}}
	tokenSigned := false
	for _, h := range auth.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			cp.ContentLength = int64(len(body))
		default:
			if h == "x-amz-security-token" {
				tokenSigned = true
			}
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: auth.keyID, SecretAccessKey: c.secret, SessionToken: c.sessionToken}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), auth.service, auth.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableSessionToken = !tokenSigned })
	if err != nil {
		return errSignatureDoesNotMatch()
	}
	want, _, _ := parseAuthorization(cp.Header.Get("Authorization"))
	if !hmac.Equal([]byte(want.signature), []byte(auth.signature)) || strings.Join(want.signedHeaders, ";") != strings.Join(auth.signedHeaders, ";") {
		return errSignatureDoesNotMatch()
	}
	return nil
}
