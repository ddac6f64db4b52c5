package awsfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// This file serves Lambda's read APIs over REST-JSON, on the functions of
// the caller's account in the region the call was signed for:
//
//   - ListFunctions (GET /2015-03-31/functions/): MaxItems 1..10000, at most
//     50 a page whatever MaxItems asks, as Lambda documents; Marker and
//     NextMarker.
//   - GetPolicy (GET /2015-03-31/functions/NAME/policy): the function's
//     resource-based policy and its RevisionId; ResourceNotFoundException
//     (404) for a function without one or an unknown function.
//
// Errors are Lambda's: the code in the X-Amzn-ErrorType header and a JSON
// body {"Type": "User", "message": …}.

// lambdaPrefix is the path of Lambda's function APIs.
const lambdaPrefix = "/2015-03-31/functions"

// assetService returns the server of a REST or EC2-query service, nil for
// the services served elsewhere (IAM and STS over the query protocol, the
// JSON 1.1 ones by X-Amz-Target).
func (s *Server) assetService(service string) func(http.ResponseWriter, *http.Request, authenticated, *apiError) {
	switch service {
	case "s3":
		return s.serveS3
	case "lambda":
		return s.serveLambda
	case "ec2":
		return s.serveEC2
	}
	return nil
}

// serveLambda serves one Lambda request.
func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, auth authenticated, authErr *apiError) {
	if authErr != nil {
		e := jsonAuthError(authErr)
		if e.code == "InvalidSignatureException" {
			e.status = http.StatusForbidden
		}
		writeLambdaError(w, auth.id, e)
		return
	}
	path := r.URL.EscapedPath()
	var action, name, sid string // sid: RemovePermission's statement
	switch {
	case r.Method == http.MethodGet && (path == lambdaPrefix+"/" || path == lambdaPrefix):
		action = "ListFunctions"
	case r.Method == http.MethodGet && strings.HasPrefix(path, lambdaPrefix+"/") && strings.HasSuffix(path, "/policy"):
		action = "GetPolicy"
		n, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, lambdaPrefix+"/"), "/policy"))
		if err != nil {
			n = ""
		}
		name = n
	case r.Method == http.MethodPost && strings.HasPrefix(path, lambdaPrefix+"/") && strings.HasSuffix(path, "/policy"):
		action = "AddPermission" // asset_write.go
		name, _ = url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, lambdaPrefix+"/"), "/policy"))
	case r.Method == http.MethodDelete && strings.HasPrefix(path, lambdaPrefix+"/") && strings.Contains(path, "/policy/"):
		action = "RemovePermission"
		fn, statement, _ := strings.Cut(strings.TrimPrefix(path, lambdaPrefix+"/"), "/policy/")
		name, _ = url.PathUnescape(fn)
		sid, _ = url.PathUnescape(statement)
	case r.Method == http.MethodPut && strings.HasPrefix(path, lambdaPrefix+"/") && strings.HasSuffix(path, "/configuration"):
		action = "UpdateFunctionConfiguration" // asset_write.go
		name, _ = url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, lambdaPrefix+"/"), "/configuration"))
	default:
		writeLambdaError(w, auth.id, &apiError{status: http.StatusNotFound, code: "UnknownOperationException", message: "awsfake does not emulate Lambda " + r.Method + " " + path})
		return
	}
	if fault := s.chargeCall(r, auth.caller.account, "lambda", action, nil); fault != nil {
		writeLambdaError(w, auth.id, lambdaFault(fault))
		return
	}
	if e := s.regionGate(auth.caller, "lambda", action, auth.region); e != nil {
		writeLambdaError(w, auth.id, e)
		return
	}
	var out any
	var e *apiError
	switch action {
	case "ListFunctions":
		out, e = s.lambdaListFunctions(auth, r.URL.Query())
	case "UpdateFunctionConfiguration":
		out, e = s.lambdaUpdateConfiguration(auth, name)
	case "AddPermission":
		out, e = s.lambdaAddPermission(auth, name)
	case "RemovePermission":
		out, e = s.lambdaRemovePermission(auth, name, sid)
	default:
		out, e = s.lambdaGetPolicy(auth, name)
	}
	if e != nil {
		writeLambdaError(w, auth.id, e)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-Requestid", auth.id)
	w.Write(b)
}

// lambdaFault renames an injected fault as Lambda answers it.
func lambdaFault(e *apiError) *apiError {
	switch e.code {
	case "ThrottlingException":
		return &apiError{status: http.StatusTooManyRequests, code: "TooManyRequestsException", message: "Rate exceeded"}
	case "InternalServerException":
		return &apiError{status: http.StatusInternalServerError, code: "ServiceException", message: e.message}
	}
	return e
}

// writeLambdaError writes Lambda's REST-JSON error.
func writeLambdaError(w http.ResponseWriter, requestID string, e *apiError) {
	typ := "User"
	if e.status >= 500 {
		typ = "Service"
	}
	b, _ := json.Marshal(map[string]string{"Type": typ, "message": e.message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(e.status)
	w.Write(b)
}

// lambdaConfig is a FunctionConfiguration.
type lambdaConfig struct {
	FunctionName  string
	FunctionArn   string
	Runtime       string
	Role          string
	Handler       string
	CodeSize      int64
	Description   string
	Timeout       int
	MemorySize    int
	LastModified  string
	CodeSha256    string
	Version       string
	PackageType   string
	Architectures []string
	RevisionID    string `json:"RevisionId"`
}

// lambdaRevision is a function's RevisionId, stable for its state.
func lambdaRevision(f *Function) string {
	sum := CanonicalUserID(f.ARN + f.Policy)
	return sum[:8] + "-" + sum[8:12] + "-4" + sum[13:16] + "-8" + sum[17:20] + "-" + sum[20:32]
}

// lambdaListFunctions lists the functions of the caller's account in the
// region.
func (s *Server) lambdaListFunctions(auth authenticated, q url.Values) (any, *apiError) {
	size := 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "1 validation error detected: Value '" + v + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"}
		}
		size = min(n, 50)
	}
	start := 0
	if m := q.Get("Marker"); m != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "fake-marker-"))
		if err != nil || n < 0 || !strings.HasPrefix(m, "fake-marker-") {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "Invalid Marker"}
		}
		start = n
	}
	st := &s.as
	st.mu.Lock()
	fns := st.region(auth.caller.account, auth.region).functions
	start = min(start, len(fns))
	end := min(start+size, len(fns))
	list := []lambdaConfig{}
	for _, f := range fns[start:end] {
		sum := CanonicalUserID(f.ARN)
		list = append(list, lambdaConfig{FunctionName: f.Name, FunctionArn: f.ARN, Runtime: f.Runtime, Role: f.Role, Handler: f.Handler,
			CodeSize: 1024, Description: f.Description, Timeout: 3, MemorySize: 128,
			LastModified: f.LastModified.UTC().Format("2006-01-02T15:04:05.000+0000"), CodeSha256: sum[:43] + "=",
			Version: "$LATEST", PackageType: "Zip", Architectures: []string{"x86_64"}, RevisionID: lambdaRevision(f)})
	}
	total := len(fns)
	st.mu.Unlock()
	out := map[string]any{"Functions": list}
	if end < total {
		out["NextMarker"] = "fake-marker-" + strconv.Itoa(end)
	}
	return out, nil
}

// lambdaGetPolicy answers a function's resource-based policy. The function
// is named by its name or ARN.
func (s *Server) lambdaGetPolicy(auth authenticated, name string) (any, *apiError) {
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, f := range st.region(auth.caller.account, auth.region).functions {
		if f.Name != name && f.ARN != name {
			continue
		}
		if f.Policy == "" {
			return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "The resource you requested does not exist."}
		}
		return map[string]any{"Policy": f.Policy, "RevisionId": lambdaRevision(f)}, nil
	}
	arn := name
	if !strings.HasPrefix(name, "arn:") {
		arn = "arn:aws:lambda:" + auth.region + ":" + auth.caller.account + ":function:" + name
	}
	return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "Function not found: " + arn}
}
