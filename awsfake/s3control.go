package awsfake

import (
	"encoding/xml"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// This file serves S3 Control's account-level Block Public Access read
// over REST-XML: GET /v20180820/configuration/publicAccessBlock with the
// account in the x-amz-account-id header, on the host
// {AccountId}.s3-control.{region}.amazonaws.com (the SDK's default) or any
// host a custom endpoint gives. S3 Control signs as "s3"; the emulator
// tells it from S3 by its path or its host. The calls are counted as
// "s3control:GetPublicAccessBlock" (the SDK's service, where IAM's action
// is s3:GetAccountPublicAccessBlock).
//
// An account with no settings answers 404 NoSuchPublicAccessBlockConfiguration;
// an x-amz-account-id (or host label) other than the caller's account is
// AccessDenied; a missing header is InvalidRequest. Errors are S3 Control's
// wrapped XML, <ErrorResponse><Error>…</Error></ErrorResponse>.

const s3ControlNamespace = "http://awss3control.amazonaws.com/doc/2018-08-20/"

// isS3Control reports whether an S3-signed request is S3 Control's.
func isS3Control(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.HasPrefix(r.URL.Path, "/v20180820/") || strings.Contains(host, ".s3-control.") || strings.HasPrefix(host, "s3-control.")
}

// s3ControlHostAccount returns the account label of a
// {AccountId}.s3-control.… host, "" for any other host.
func s3ControlHostAccount(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.Index(host, ".s3-control."); i > 0 {
		return host[:i]
	}
	return ""
}

type s3ControlError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

func writeS3ControlError(w http.ResponseWriter, requestID string, e *apiError) {
	body, _ := xml.Marshal(s3ControlError{Code: e.code, Message: e.message, RequestID: requestID, HostID: "fakehost/" + requestID})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", requestID)
	w.WriteHeader(e.status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

type s3ControlPAB struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr"`
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// serveS3Control serves one S3 Control request.
func (s *Server) serveS3Control(w http.ResponseWriter, r *http.Request, auth authenticated, authErr *apiError) {
	if authErr != nil {
		writeS3ControlError(w, auth.id, s3AuthError(authErr))
		return
	}
	if r.Method != http.MethodGet || strings.TrimSuffix(r.URL.Path, "/") != "/v20180820/configuration/publicAccessBlock" {
		writeS3ControlError(w, auth.id, &apiError{status: http.StatusNotImplemented, code: "NotImplemented", message: "awsfake does not emulate this S3 Control request: " + r.Method + " " + r.URL.RequestURI()})
		return
	}
	const action = "GetPublicAccessBlock"
	if fault := s.chargeCall(r, auth.caller.account, "s3control", action, nil); fault != nil {
		writeS3ControlError(w, auth.id, s3Fault(fault))
		return
	}
	account := r.Header.Get("X-Amz-Account-Id")
	if account == "" {
		writeS3ControlError(w, auth.id, &apiError{status: http.StatusBadRequest, code: "InvalidRequest", message: "Missing required header for this request: x-amz-account-id"})
		return
	}
	if h := s3ControlHostAccount(r); account != auth.caller.account || h != "" && h != account {
		writeS3ControlError(w, auth.id, &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"})
		return
	}
	if e := s.regionGate(auth.caller, "s3", "GetAccountPublicAccessBlock", auth.region); e != nil {
		writeS3ControlError(w, auth.id, e)
		return
	}
	st := &s.as
	st.mu.Lock()
	var p *PublicAccessBlock
	if v := st.a.AccountPublicAccessBlocks[account]; v != nil {
		c := *v
		p = &c
	}
	st.mu.Unlock()
	if p == nil {
		writeS3ControlError(w, auth.id, &apiError{status: http.StatusNotFound, code: "NoSuchPublicAccessBlockConfiguration", message: "The public access block configuration was not found"})
		return
	}
	out, e := xmlAnswer(s3ControlPAB{Xmlns: s3ControlNamespace, BlockPublicAcls: p.BlockPublicAcls, IgnorePublicAcls: p.IgnorePublicAcls,
		BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets})
	if e != nil {
		writeS3ControlError(w, auth.id, e)
		return
	}
	w.Header().Set("Content-Type", out.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out.body)))
	w.Header().Set("X-Amz-Request-Id", auth.id)
	w.Write(out.body)
}
