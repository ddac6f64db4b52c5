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
//   - GetPolicy (GET /2015-03-31/functions/NAME/policy?Qualifier=Q): the
//     resource-based policy and its RevisionId of the function (no Q, or
//     Q $LATEST) or of its alias Q; ResourceNotFoundException (404) for a
//     function or alias without one, an unknown function or alias, or a
//     version number (versions are not emulated).
//   - ListAliases (GET /2015-03-31/functions/NAME/aliases, lambda_alias.go).
//
// NAME is a function's name, its ARN or a partial ARN
// (ACCOUNT:function:NAME); where Lambda takes a qualified name (GetPolicy,
// AddPermission, RemovePermission) it may end in :QUALIFIER, meaning the
// same as the Qualifier parameter (InvalidParameterValueException when
// both are given and differ).
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
	q := r.URL.Query()
	qualifier := q.Get("Qualifier")
	rest, inFunctions := strings.CutPrefix(path, lambdaPrefix+"/")
	var action, name, sid string // sid: RemovePermission's statement; DeleteAlias's alias
	switch {
	case r.Method == http.MethodGet && (path == lambdaPrefix+"/" || path == lambdaPrefix):
		action = "ListFunctions"
	case r.Method == http.MethodGet && inFunctions && strings.HasSuffix(rest, "/policy"):
		action = "GetPolicy"
		n, err := url.PathUnescape(strings.TrimSuffix(rest, "/policy"))
		if err != nil {
			n = ""
		}
		name = n
	case r.Method == http.MethodPost && inFunctions && strings.HasSuffix(rest, "/policy"):
		action = "AddPermission" // asset_write.go
		name, _ = url.PathUnescape(strings.TrimSuffix(rest, "/policy"))
	case r.Method == http.MethodDelete && inFunctions && strings.Contains(rest, "/policy/"):
		action = "RemovePermission"
		fn, statement, _ := strings.Cut(rest, "/policy/")
		name, _ = url.PathUnescape(fn)
		sid, _ = url.PathUnescape(statement)
	case r.Method == http.MethodPut && inFunctions && strings.HasSuffix(rest, "/configuration"):
		action = "UpdateFunctionConfiguration" // asset_write.go
		name, _ = url.PathUnescape(strings.TrimSuffix(rest, "/configuration"))
	case r.Method == http.MethodGet && inFunctions && strings.HasSuffix(rest, "/aliases"):
		action = "ListAliases" // lambda_alias.go
		name, _ = url.PathUnescape(strings.TrimSuffix(rest, "/aliases"))
	case r.Method == http.MethodPost && inFunctions && strings.HasSuffix(rest, "/aliases"):
		action = "CreateAlias"
		name, _ = url.PathUnescape(strings.TrimSuffix(rest, "/aliases"))
	case r.Method == http.MethodDelete && inFunctions && strings.Contains(rest, "/aliases/"):
		action = "DeleteAlias"
		fn, alias, _ := strings.Cut(rest, "/aliases/")
		name, _ = url.PathUnescape(fn)
		sid, _ = url.PathUnescape(alias)
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
	status := http.StatusOK
	switch action {
	case "ListFunctions":
		out, e = s.lambdaListFunctions(auth, q)
	case "UpdateFunctionConfiguration":
		out, e = s.lambdaUpdateConfiguration(auth, name)
	case "AddPermission":
		out, e = s.lambdaAddPermission(auth, name, qualifier)
		status = http.StatusCreated
	case "RemovePermission":
		out, e = s.lambdaRemovePermission(auth, name, qualifier, sid)
		status = http.StatusNoContent
	case "ListAliases":
		out, e = s.lambdaListAliases(auth, name, q)
	case "CreateAlias":
		out, e = s.lambdaCreateAlias(auth, name)
		status = http.StatusCreated
	case "DeleteAlias":
		out, e = s.lambdaDeleteAlias(auth, name, sid)
		status = http.StatusNoContent
	default:
		out, e = s.lambdaGetPolicy(auth, name, qualifier)
	}
	if e != nil {
		writeLambdaError(w, auth.id, e)
		return
	}
	w.Header().Set("X-Amzn-Requestid", auth.id)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
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

// lambdaPage is a listing's page: its size, MaxItems (1..10000, else
// InvalidParameterValueException) but at most 50, 50 when not given; and
// its first item, from Marker (a NextMarker this emulator gave).
func lambdaPage(q url.Values) (size, start int, e *apiError) {
	size = 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "1 validation error detected: Value '" + v + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"}
		}
		size = min(n, 50)
	}
	if m := q.Get("Marker"); m != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "fake-marker-"))
		if err != nil || n < 0 || !strings.HasPrefix(m, "fake-marker-") {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "Invalid Marker"}
		}
		start = n
	}
	return size, start, nil
}

// lambdaListFunctions lists the functions of the caller's account in the
// region.
func (s *Server) lambdaListFunctions(auth authenticated, q url.Values) (any, *apiError) {
	size, start, e := lambdaPage(q)
	if e != nil {
		return nil, e
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

// lambdaGetPolicy answers the resource-based policy of a function or of
// one of its aliases: the qualifier (the Qualifier parameter, or the one
// the name carries) "" or $LATEST for the function's own, an alias's name
// for the alias's. A version number is ResourceNotFoundException, since
// versions are not emulated.
func (s *Server) lambdaGetPolicy(auth authenticated, name, qualifier string) (any, *apiError) {
	ref, e := parseLambdaName(auth, name, qualifier)
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	f, a, e := st.lambdaPolicyTarget(auth, ref)
	if e != nil {
		return nil, e
	}
	if a != nil {
		if a.Policy == "" {
			return nil, lambdaNoPolicy()
		}
		return map[string]any{"Policy": a.Policy, "RevisionId": aliasRevision(f, a)}, nil
	}
	if f.Policy == "" {
		return nil, lambdaNoPolicy()
	}
	return map[string]any{"Policy": f.Policy, "RevisionId": lambdaRevision(f)}, nil
}

// lambdaNoPolicy is GetPolicy's answer for a function or alias without a
// policy.
func lambdaNoPolicy() *apiError {
	return &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "The resource you requested does not exist."}
}
