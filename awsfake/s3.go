package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// This file serves S3's read APIs a collector needs over REST-XML, with
// both addressings S3 takes: path-style (http://host/BUCKET?policy) and
// virtual-hosted (http://BUCKET.s3.host/?policy, the SDK's default). A
// host whose labels hold "s3" after a first label names the bucket in that
// first part; any other host (an IP, localhost, s3.…) is path-style.
//
//   - ListBuckets (GET /): the caller's buckets over every region, with
//     BucketRegion, paged by max-buckets (1..10000) and continuation-token
//     when max-buckets is given, filtered by prefix and bucket-region.
//   - GetBucketPolicy (GET /BUCKET?policy): the policy document as the
//     body; NoSuchBucketPolicy (404) when there is none.
//   - GetPublicAccessBlock (GET /BUCKET?publicAccessBlock);
//     NoSuchPublicAccessBlockConfiguration (404) when none is set.
//   - GetBucketLocation (GET /BUCKET?location): empty for us-east-1.
//   - GetBucketAcl (GET /BUCKET?acl) and GetBucketOwnershipControls (GET
//     /BUCKET?ownershipControls): see s3_acl.go.
//
// A bucket call signed for another region than the bucket's answers 400
// AuthorizationHeaderMalformed with the bucket's region (also in the
// x-amz-bucket-region header), as S3 does; a caller from another account
// than the owner's is refused AccessDenied (S3 lets only the owner's
// account read these configurations); an unknown bucket is NoSuchBucket.

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Target splits a request into its bucket (""  for the service itself)
// by the host (virtual-hosted) or the first path segment (path-style).
func s3Target(r *http.Request) (bucket string, virtual bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) == nil {
		if i := strings.Index(host, ".s3."); i > 0 {
			return host[:i], true
		}
		if b, ok := strings.CutSuffix(host, ".s3"); ok && b != "" {
			return b, true
		}
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	b, _, _ := strings.Cut(p, "/")
	return b, false
}

// s3Handlers are S3's actions by name.
func (s *Server) s3Handlers() map[string]func(*s3Request) (*s3Answer, *apiError) {
	return map[string]func(*s3Request) (*s3Answer, *apiError){
		"ListBuckets":                s.s3ListBuckets,
		"GetBucketPolicy":            s.s3GetBucketPolicy,
		"GetPublicAccessBlock":       s.s3GetPublicAccessBlock,
		"GetBucketLocation":          s.s3GetBucketLocation,
		"GetBucketAcl":               s.s3GetBucketAcl, // s3_acl.go
		"GetBucketOwnershipControls": s.s3GetBucketOwnershipControls,
	}
}

// s3Request is one decoded S3 call.
type s3Request struct {
	r      *http.Request
	auth   authenticated
	bucket string
}

// s3Answer is an S3 answer: a status, a body and its content type.
type s3Answer struct {
	body        []byte
	contentType string
}

// s3Action names the S3 action a request calls, "" for one the emulator
// does not serve.
func s3Action(r *http.Request, bucket string) string {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		return s3WriteAction(r, bucket) // asset_write.go
	}
	if bucket == "" {
		return "ListBuckets"
	}
	switch {
	case q.Has("policy"):
		return "GetBucketPolicy"
	case q.Has("publicAccessBlock"):
		return "GetPublicAccessBlock"
	case q.Has("location"):
		return "GetBucketLocation"
	case q.Has("acl"):
		return "GetBucketAcl"
	case q.Has("ownershipControls"):
		return "GetBucketOwnershipControls"
	}
	return ""
}

// serveS3 serves one S3 request.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, auth authenticated, authErr *apiError) {
	if isS3Control(r) {
		s.serveS3Control(w, r, auth, authErr)
		return
	}
	bucket, _ := s3Target(r)
	if authErr != nil {
		writeS3Error(w, auth.id, s3AuthError(authErr), bucket)
		return
	}
	action := s3Action(r, bucket)
	h, ok := s.s3Handlers()[action]
	if w, isWrite := s.s3WriteHandlers()[action]; isWrite { // asset_write.go
		h, ok = w, true
	}
	if !ok {
		writeS3Error(w, auth.id, &apiError{status: http.StatusNotImplemented, code: "NotImplemented", message: "awsfake does not emulate this S3 request: " + r.Method + " " + r.URL.RequestURI()}, bucket)
		return
	}
	if fault := s.chargeCall(r, auth.caller.account, "s3", action, nil); fault != nil {
		writeS3Error(w, auth.id, s3Fault(fault), bucket)
		return
	}
	out, e := h(&s3Request{r: r, auth: auth, bucket: bucket})
	if e != nil {
		writeS3Error(w, auth.id, e, bucket)
		return
	}
	w.Header().Set("Content-Type", out.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out.body)))
	w.Header().Set("X-Amz-Request-Id", auth.id)
	w.Write(out.body)
}

// s3Fault renames an injected fault as S3 answers it.
func s3Fault(e *apiError) *apiError {
	switch e.code {
	case "ThrottlingException":
		return &apiError{status: http.StatusServiceUnavailable, code: "SlowDown", message: "Please reduce your request rate."}
	case "InternalServerException":
		return &apiError{status: http.StatusInternalServerError, code: "InternalError", message: "We encountered an internal error. Please try again."}
	}
	return e
}

// s3AuthError renames an authentication failure as S3 answers it.
func s3AuthError(e *apiError) *apiError {
	switch e.code {
	case "InvalidClientTokenId":
		return &apiError{status: http.StatusForbidden, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records."}
	case "MissingAuthenticationToken":
		return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"}
	case "ExpiredToken":
		return &apiError{status: http.StatusBadRequest, code: "ExpiredToken", message: "The provided token has expired."}
	case "IncompleteSignature":
		return &apiError{status: http.StatusBadRequest, code: "AuthorizationHeaderMalformed", message: e.message}
	}
	return e
}

// s3Error is S3's error body.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	BucketName string `xml:",omitempty"`
	Region     string `xml:",omitempty"`
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
}

// writeS3Error writes S3's error XML; an AuthorizationHeaderMalformed for
// a wrong region carries the bucket's region (fields["Region"]).
func writeS3Error(w http.ResponseWriter, requestID string, e *apiError, bucket string) {
	if e.code == "NoSuchBucket" || e.code == "NoSuchBucketPolicy" || e.code == "NoSuchPublicAccessBlockConfiguration" {
		// S3 names the bucket in these errors.
	} else {
		bucket = ""
	}
	body, _ := xml.Marshal(s3Error{Code: e.code, Message: e.message, BucketName: bucket, Region: e.fields["Region"], RequestID: requestID, HostID: "fakehost/" + requestID})
	if region := e.fields["Region"]; region != "" {
		w.Header().Set("X-Amz-Bucket-Region", region)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", requestID)
	w.WriteHeader(e.status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// CanonicalUserID is the S3 canonical user ID the emulator gives an
// account: 64 lowercase hex digits, as S3's are, a hash of the account ID
// (the same for an account in every emulator). It is the Owner ID of
// ListBuckets and GetBucketAcl and the ID of a CanonicalUser BucketGrant.
func CanonicalUserID(account string) string {
	sum := sha256.Sum256([]byte("awsfake-canonical-" + account))
	return hex.EncodeToString(sum[:])
}

type s3Owner struct {
	ID string
}

type s3BucketEntry struct {
	Name         string
	CreationDate string
	BucketRegion string
	BucketArn    string
}

type s3ListBucketsResult struct {
	XMLName           xml.Name        `xml:"ListAllMyBucketsResult"`
	Xmlns             string          `xml:"xmlns,attr"`
	Owner             s3Owner         `xml:"Owner"`
	Buckets           []s3BucketEntry `xml:"Buckets>Bucket"`
	ContinuationToken string          `xml:",omitempty"`
	Prefix            string          `xml:",omitempty"`
}

// s3ListBuckets lists the caller's buckets.
func (s *Server) s3ListBuckets(req *s3Request) (*s3Answer, *apiError) {
	q := req.r.URL.Query()
	size := 0
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Argument max-buckets must be an integer between 1 and 10000."}
		}
		size = n
	}
	start := 0
	if t := q.Get("continuation-token"); t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "fake-token-"))
		if err != nil || n < 0 || !strings.HasPrefix(t, "fake-token-") {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "The continuation token provided is incorrect"}
		}
		start = n
	}
	prefix, region := q.Get("prefix"), q.Get("bucket-region")
	st := &s.as
	st.mu.Lock()
	var mine []s3BucketEntry
	for _, name := range sortedKeys(st.buckets) {
		b := st.buckets[name]
		if b.Account != req.auth.caller.account || !strings.HasPrefix(name, prefix) || region != "" && b.Region != region {
			continue
		}
		mine = append(mine, s3BucketEntry{Name: name, CreationDate: b.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), BucketRegion: b.Region,
			BucketArn: "arn:aws:s3:::" + name})
	}
	st.mu.Unlock()
	out := s3ListBucketsResult{Xmlns: s3Namespace, Owner: s3Owner{ID: CanonicalUserID(req.auth.caller.account)}, Prefix: prefix}
	start = min(start, len(mine))
	end := len(mine)
	if size > 0 && start+size < end {
		end = start + size
		out.ContinuationToken = "fake-token-" + strconv.Itoa(end)
	}
	out.Buckets = mine[start:end]
	return xmlAnswer(out)
}

// ownBucket returns the bucket a call names, refusing one that does not
// exist, is not the caller's account's, or lives in another region than
// the call was signed for.
func (s *Server) ownBucket(req *s3Request, action string) (*Bucket, *apiError) {
	st := &s.as
	st.mu.Lock()
	b := st.buckets[req.bucket]
	var cp Bucket
	if b != nil {
		cp = *b
	}
	st.mu.Unlock()
	if b == nil {
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchBucket", message: "The specified bucket does not exist"}
	}
	if req.auth.region != cp.Region {
		return nil, &apiError{status: http.StatusBadRequest, code: "AuthorizationHeaderMalformed",
			message: fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", req.auth.region, cp.Region),
			fields:  map[string]string{"Region": cp.Region}}
	}
	if e := s.regionGate(req.auth.caller, "s3", action, cp.Region); e != nil {
		return nil, e
	}
	if cp.Account != req.auth.caller.account {
		return nil, &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"}
	}
	return &cp, nil
}

// s3GetBucketPolicy answers a bucket's policy document.
func (s *Server) s3GetBucketPolicy(req *s3Request) (*s3Answer, *apiError) {
	b, e := s.ownBucket(req, "GetBucketPolicy")
	if e != nil {
		return nil, e
	}
	if b.Policy == "" {
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchBucketPolicy", message: "The bucket policy does not exist"}
	}
	return &s3Answer{body: []byte(b.Policy), contentType: "application/json"}, nil
}

type s3PublicAccessBlock struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr"`
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// s3GetPublicAccessBlock answers a bucket's Block Public Access settings.
func (s *Server) s3GetPublicAccessBlock(req *s3Request) (*s3Answer, *apiError) {
	b, e := s.ownBucket(req, "GetBucketPublicAccessBlock")
	if e != nil {
		return nil, e
	}
	p := b.PublicAccessBlock
	if p == nil {
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchPublicAccessBlockConfiguration", message: "The public access block configuration was not found"}
	}
	return xmlAnswer(s3PublicAccessBlock{Xmlns: s3Namespace, BlockPublicAcls: p.BlockPublicAcls, IgnorePublicAcls: p.IgnorePublicAcls,
		BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets})
}

type s3Location struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// s3GetBucketLocation answers a bucket's region, empty for us-east-1 as
// S3 answers it. S3 answers it whatever region the call was signed for.
func (s *Server) s3GetBucketLocation(req *s3Request) (*s3Answer, *apiError) {
	st := &s.as
	st.mu.Lock()
	b := st.buckets[req.bucket]
	var region, account string
	if b != nil {
		region, account = b.Region, b.Account
	}
	st.mu.Unlock()
	if b == nil {
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchBucket", message: "The specified bucket does not exist"}
	}
	if account != req.auth.caller.account {
		return nil, &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"}
	}
	if region == "us-east-1" {
		region = ""
	}
	return xmlAnswer(s3Location{Xmlns: s3Namespace, Region: region})
}

// xmlAnswer marshals an S3 answer.
func xmlAnswer(v any) (*s3Answer, *apiError) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()}
	}
	return &s3Answer{body: append([]byte(xml.Header), b...), contentType: "application/xml"}, nil
}
