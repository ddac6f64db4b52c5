package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file serves AWS's JSON 1.1 protocol: POST with
// X-Amz-Target: <Prefix>.<Action>, a JSON object as the body, a JSON object
// as the answer, and errors as {"__type": code, "message": …} with the
// code also in the x-amzn-ErrorType header.

// jsonRequest is one decoded JSON-protocol call.
type jsonRequest struct {
	caller caller
	action string
	region string // the credential scope's region
	body   []byte
	id     string
}

// decode reads the request body into v; a body that is not the JSON the
// action takes is a SerializationException, as AWS answers.
func (r *jsonRequest) decode(v any) *apiError {
	if len(r.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "SerializationException", message: err.Error()}
	}
	return nil
}

// jsonHandler serves the actions of one JSON-protocol service.
type jsonHandler func(*jsonRequest) (any, *apiError)

// serveJSON serves one JSON-protocol request.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, target string) {
	_, action, _ := strings.Cut(target, ".")
	auth, apiErr := s.authenticateRequest(r)
	reqID, service := auth.id, auth.service
	if apiErr != nil {
		// JSON-protocol services name the authentication failures
		// differently from IAM and STS (jsonAuthError).
		writeJSONError(w, reqID, jsonAuthError(apiErr))
		return
	}
	req := &jsonRequest{action: action, region: auth.region, body: auth.body, id: reqID}
	c := auth.caller
	req.caller = c
	handlers := map[string]jsonHandler{"organizations": s.orgAction, "identitystore": s.identityStoreAction, "sso": s.ssoAdminAction, "cloudtrail": s.cloudTrailAction,
		"kms": s.kmsAction, "secretsmanager": s.secretsManagerAction, "config": s.configAction}
	h, ok := handlers[service]
	if !ok {
		writeJSONError(w, reqID, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate service " + service})
		return
	}
	if fault := s.chargeCall(r, c.account, service, action, auth.body); fault != nil {
		writeJSONError(w, reqID, fault)
		return
	}
	out, apiErr := h(req)
	if apiErr != nil {
		writeJSONError(w, reqID, apiErr)
		return
	}
	s.recordWrite(service, auth.region, action, c, requestParam(r, auth.body))
	b, err := json.Marshal(out)
	if err != nil {
		writeJSONError(w, reqID, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Write(b)
}

// jsonAuthError renames an authentication failure as JSON-protocol
// services answer it: InvalidSignatureException (400) where IAM says
// SignatureDoesNotMatch, UnrecognizedClientException for an unknown key or
// token, and the Exception suffix on the others.
func jsonAuthError(e *apiError) *apiError {
	switch e.code {
	case "SignatureDoesNotMatch":
		return &apiError{status: http.StatusBadRequest, code: "InvalidSignatureException", message: e.message}
	case "InvalidClientTokenId":
		return &apiError{status: e.status, code: "UnrecognizedClientException", message: e.message}
	case "ExpiredToken", "IncompleteSignature", "MissingAuthenticationToken":
		return &apiError{status: e.status, code: e.code + "Exception", message: e.message}
	}
	return e
}

// writeJSONError writes a JSON-protocol error: __type and message (the SDK
// reads the message under either casing), the error's further fields, and
// the code in the x-amzn-ErrorType header, which the SDK prefers.
func writeJSONError(w http.ResponseWriter, requestID string, e *apiError) {
	body := map[string]string{"__type": e.code, "message": e.message}
	for k, v := range e.fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	w.Write(b)
}

// epoch is a timestamp as the JSON protocol writes it: seconds since 1970,
// with fractions.
type epoch time.Time

// MarshalJSON implements json.Marshaler.
func (t epoch) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(time.Time(t).UnixMilli())/1000)), nil
}

// jsonPage reads MaxResults (1..limit, default limit) and NextToken,
// returning the start offset and page size; invalid values answer the
// service's validation error, code. AWS's own tokens are opaque; the
// emulator's are "fake-token-N".
func jsonPage(maxResults *int, nextToken string, limit int, code string) (start, size int, e *apiError) {
	size = limit
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > limit {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: code,
				message: fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *maxResults, limit)}
		}
		size = *maxResults
	}
	if nextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(nextToken, "fake-token-"))
		if err != nil || n < 0 || !strings.HasPrefix(nextToken, "fake-token-") {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: code, message: "The NextToken value is invalid."}
		}
		start = n
	}
	return start, size, nil
}

// jsonList answers one page of a listing in field, with NextToken when more
// remain.
func jsonList[T any](field string, items []T, maxResults *int, nextToken string, limit int, code string) (any, *apiError) {
	start, size, e := jsonPage(maxResults, nextToken, limit, code)
	if e != nil {
		return nil, e
	}
	if items == nil {
		items = []T{}
	}
	start = min(start, len(items))
	end, next := jsonPageEnd(start, size, len(items))
	out := map[string]any{field: items[start:end]}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

// jsonPageEnd returns the end of a page and the token for the next one.
func jsonPageEnd(start, size, total int) (end int, next *string) {
	end = min(start+size, total)
	if end < total {
		t := "fake-token-" + strconv.Itoa(end)
		return end, &t
	}
	return end, nil
}
