package awsfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file serves Lambda's aliases over REST-JSON, on the functions of
// the caller's account in the region the call was signed for:
//
//   - ListAliases (GET /2015-03-31/functions/NAME/aliases): the function's
//     aliases in name order, each {AliasArn, Name, FunctionVersion,
//     Description, RevisionId}; FunctionVersion filters to the aliases of
//     that version; MaxItems 1..10000 as the API model bounds it, and at
//     most 50 a page whatever MaxItems asks (Lambda documents no page
//     cap for ListAliases; the emulator caps it as ListFunctions is
//     capped); Marker and NextMarker. An unknown function is
//     ResourceNotFoundException (404).
//   - CreateAlias (POST …/aliases, body {Name, FunctionVersion,
//     Description}; 201 and the alias's configuration):
//     ResourceConflictException (409) for a name taken; the alias has no
//     policy. Versions are not emulated, so any version number is taken.
//   - DeleteAlias (DELETE …/aliases/ALIAS; 204): the alias and its policy
//     go; an alias that does not exist is 204 too, as Lambda answers.
//
// An alias's resource-based policy is read by GetPolicy and written by
// AddPermission and RemovePermission with Qualifier=ALIAS (or a name
// qualified by the alias). The writes are recorded in CloudTrail as
// CreateAlias20150331 and DeleteAlias20150331, with the function's
// unqualified ARN as the event's resource, as the permission writes are.

// lambdaAliasName is the pattern of an alias's name: not all digits (a
// version), at most 128 characters.
var lambdaAliasName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

// lambdaVersion matches a version number.
var lambdaVersion = regexp.MustCompile(`^[0-9]+$`)

// lambdaRef is a function a request names, with its qualifier.
type lambdaRef struct {
	name      string // the function's name
	arn       string // the function's unqualified ARN
	qualifier string // "" for none
}

// qualifiedARN is the ARN the reference names, qualified when it is.
func (r lambdaRef) qualifiedARN() string {
	if r.qualifier == "" {
		return r.arn
	}
	return r.arn + ":" + r.qualifier
}

// parseLambdaName reads a function's name, ARN or partial ARN
// (ACCOUNT:function:NAME), each optionally qualified (:QUALIFIER), with a
// Qualifier parameter that must agree with the name's.
func parseLambdaName(auth authenticated, raw, qualifier string) (lambdaRef, *apiError) {
	region, account := auth.region, auth.caller.account
	parts := strings.Split(raw, ":")
	var name, q string
	qualified := false
	switch {
	case strings.HasPrefix(raw, "arn:") && (len(parts) == 7 || len(parts) == 8) && parts[2] == "lambda" && parts[5] == "function":
		region, account, name = parts[3], parts[4], parts[6]
		if qualified = len(parts) == 8; qualified {
			q = parts[7]
		}
	case (len(parts) == 3 || len(parts) == 4) && parts[1] == "function":
		account, name = parts[0], parts[2]
		if qualified = len(parts) == 4; qualified {
			q = parts[3]
		}
	case len(parts) == 2:
		name, q, qualified = parts[0], parts[1], true
	default:
		name = raw
	}
	if qualified && q == "" {
		return lambdaRef{}, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "Invalid qualifier in function name: " + raw}
	}
	if q != "" && qualifier != "" && q != qualifier {
		return lambdaRef{}, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "The derived qualifier from the function name does not match the specified qualifier."}
	}
	if q == "" {
		q = qualifier
	}
	return lambdaRef{name: name, arn: "arn:aws:lambda:" + region + ":" + account + ":function:" + name, qualifier: q}, nil
}

// lambdaFunctionNotFound is Lambda's answer for a function, or a
// function's version or alias, that does not exist.
func lambdaFunctionNotFound(arn string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "Function not found: " + arn}
}

// liveFunctionRef returns the caller's function a reference names, its
// qualifier aside, under st.mu.
func (st *assetState) liveFunctionRef(auth authenticated, ref lambdaRef) *Function {
	for _, f := range st.region(auth.caller.account, auth.region).functions {
		if f.ARN == ref.arn {
			return f
		}
	}
	return nil
}

// lambdaPolicyTarget resolves, under st.mu, whose resource-based policy a
// request acts on: the function's own (alias nil) for no qualifier or
// $LATEST, else the alias the qualifier names. A version number or an
// unknown alias is ResourceNotFoundException, as is an unknown function.
func (st *assetState) lambdaPolicyTarget(auth authenticated, ref lambdaRef) (*Function, *FunctionAlias, *apiError) {
	f := st.liveFunctionRef(auth, ref)
	if f == nil {
		return nil, nil, lambdaFunctionNotFound(ref.qualifiedARN())
	}
	if ref.qualifier == "" || ref.qualifier == "$LATEST" {
		return f, nil, nil
	}
	a := f.Alias(ref.qualifier)
	if a == nil || lambdaVersion.MatchString(ref.qualifier) {
		return nil, nil, lambdaFunctionNotFound(ref.qualifiedARN())
	}
	return f, a, nil
}

// aliasRevision is an alias's RevisionId, stable for its state.
func aliasRevision(f *Function, a *FunctionAlias) string {
	sum := CanonicalUserID(f.AliasARN(a.Name) + "|" + a.FunctionVersion + "|" + a.Description + "|" + a.Policy)
	return sum[:8] + "-" + sum[8:12] + "-4" + sum[13:16] + "-8" + sum[17:20] + "-" + sum[20:32]
}

// lambdaAlias is an AliasConfiguration.
type lambdaAlias struct {
	AliasArn        string
	Name            string
	FunctionVersion string
	Description     string
	RevisionID      string `json:"RevisionId"`
}

func aliasConfig(f *Function, a *FunctionAlias) lambdaAlias {
	return lambdaAlias{AliasArn: f.AliasARN(a.Name), Name: a.Name, FunctionVersion: a.FunctionVersion, Description: a.Description, RevisionID: aliasRevision(f, a)}
}

// lambdaListAliases lists a function's aliases in name order.
func (s *Server) lambdaListAliases(auth authenticated, name string, q url.Values) (any, *apiError) {
	size, start, e := lambdaPage(q)
	if e != nil {
		return nil, e
	}
	version := q.Get("FunctionVersion")
	if version != "" && version != "$LATEST" && !lambdaVersion.MatchString(version) {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: "1 validation error detected: Value '" + version + "' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"}
	}
	ref, e := parseLambdaName(auth, name, "")
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.liveFunctionRef(auth, ref)
	if f == nil {
		return nil, lambdaFunctionNotFound(ref.arn)
	}
	var matched []*FunctionAlias
	for _, a := range f.Aliases {
		if version == "" || a.FunctionVersion == version {
			matched = append(matched, a)
		}
	}
	start = min(start, len(matched))
	end := min(start+size, len(matched))
	list := []lambdaAlias{}
	for _, a := range matched[start:end] {
		list = append(list, aliasConfig(f, a))
	}
	out := map[string]any{"Aliases": list}
	if end < len(matched) {
		out["NextMarker"] = "fake-marker-" + strconv.Itoa(end)
	}
	return out, nil
}

// lambdaCreateAlias creates an alias of a function, without a policy.
func (s *Server) lambdaCreateAlias(auth authenticated, name string) (any, *apiError) {
	var in struct {
		Name, FunctionVersion, Description string
	}
	if json.Unmarshal(auth.body, &in) != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidRequestContentException", message: "Could not parse request body into json"}
	}
	if !lambdaAliasName.MatchString(in.Name) || lambdaVersion.MatchString(in.Name) {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "1 validation error detected: Value '" + in.Name + "' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"}
	}
	if in.FunctionVersion != "$LATEST" && !lambdaVersion.MatchString(in.FunctionVersion) {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "1 validation error detected: Value '" + in.FunctionVersion + "' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"}
	}
	st := &s.as
	f, e := st.lockFunction(auth, name)
	if e != nil {
		return nil, e
	}
	if f.Alias(in.Name) != nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusConflict, code: "ResourceConflictException", message: "Alias already exists: " + f.AliasARN(in.Name)}
	}
	a := &FunctionAlias{Name: in.Name, FunctionVersion: in.FunctionVersion, Description: in.Description}
	f.Aliases = append(f.Aliases, a)
	sort.Slice(f.Aliases, func(i, j int) bool { return f.Aliases[i].Name < f.Aliases[j].Name })
	out, arn := aliasConfig(f, a), f.ARN
	st.mu.Unlock()
	s.recordAssetWrite(auth.caller, "lambda.amazonaws.com", auth.region, "CreateAlias20150331",
		map[string]string{"functionName": name, "name": in.Name, "functionVersion": in.FunctionVersion, "description": in.Description},
		EventResource{Type: "AWS::Lambda::Function", Name: arn})
	return out, nil
}

// lambdaDeleteAlias deletes a function's alias and its policy; an alias
// that does not exist is no error, as Lambda answers.
func (s *Server) lambdaDeleteAlias(auth authenticated, name, alias string) (any, *apiError) {
	st := &s.as
	f, e := st.lockFunction(auth, name)
	if e != nil {
		return nil, e
	}
	var kept []*FunctionAlias
	for _, a := range f.Aliases {
		if a.Name != alias {
			kept = append(kept, a)
		}
	}
	deleted := len(kept) != len(f.Aliases)
	f.Aliases = kept
	arn := f.ARN
	st.mu.Unlock()
	if deleted {
		s.recordAssetWrite(auth.caller, "lambda.amazonaws.com", auth.region, "DeleteAlias20150331",
			map[string]string{"functionName": name, "name": alias}, EventResource{Type: "AWS::Lambda::Function", Name: arn})
	}
	return nil, nil
}

// lockFunction locks the asset state and returns the caller's function
// name names (unqualified), the lock held; or, unlocked, why there is none.
func (st *assetState) lockFunction(auth authenticated, name string) (*Function, *apiError) {
	ref, e := parseLambdaName(auth, name, "")
	if e != nil {
		return nil, e
	}
	st.mu.Lock()
	f := st.liveFunctionRef(auth, ref)
	if f == nil {
		st.mu.Unlock()
		return nil, lambdaFunctionNotFound(ref.arn)
	}
	return f, nil
}
