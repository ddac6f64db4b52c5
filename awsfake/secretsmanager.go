package awsfake

import (
	"net/http"
)

// This file serves Secrets Manager's read APIs over JSON 1.1 (X-Amz-Target
// secretsmanager.<Action>), on the secrets of the caller's account in the
// region the call was signed for. No action returns a secret's value.
//
//   - ListSecrets: MaxResults 1..100 (default 100), NextToken; an invalid
//     token is InvalidNextTokenException.
//   - GetResourcePolicy: ARN, Name and, when the secret has one,
//     ResourcePolicy; an unknown secret is ResourceNotFoundException.

// secretsManagerHandlers are Secrets Manager's actions by name.
func (s *Server) secretsManagerHandlers() map[string]jsonHandler {
	return map[string]jsonHandler{
		"ListSecrets":       s.smListSecrets,
		"GetResourcePolicy": s.smGetResourcePolicy,
		// Writes: asset_write.go.
		"PutResourcePolicy":    s.smPutResourcePolicy,
		"DeleteResourcePolicy": s.smDeleteResourcePolicy,
		"DeleteSecret":         s.smDeleteSecret,
		"CreateSecret":         s.smCreateSecret,
	}
}

// secretsManagerAction serves one Secrets Manager call.
func (s *Server) secretsManagerAction(req *jsonRequest) (any, *apiError) {
	h, ok := s.secretsManagerHandlers()[req.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate Secrets Manager " + req.action}
	}
	if e := s.regionGate(req.caller, "secretsmanager", req.action, req.region); e != nil {
		return nil, e
	}
	return h(req)
}

type smListIn struct {
	MaxResults *int
	NextToken  string
	SecretID   string `json:"SecretId"`
}

// smEntry is one SecretListEntry: the secret's metadata, never its value.
type smEntry struct {
	ARN             string
	Name            string
	Description     string `json:",omitempty"`
	KmsKeyID        string `json:"KmsKeyId,omitempty"`
	CreatedDate     epoch
	LastChangedDate epoch
	Tags            []map[string]string `json:",omitempty"`
}

// smListSecrets lists the secrets of the caller's account in the region.
func (s *Server) smListSecrets(req *jsonRequest) (any, *apiError) {
	var in smListIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	var entries []smEntry
	for _, x := range st.region(req.caller.account, req.region).secrets {
		e := smEntry{ARN: x.ARN, Name: x.Name, Description: x.Description, KmsKeyID: x.KMSKeyID, CreatedDate: epoch(x.CreatedAt), LastChangedDate: epoch(x.CreatedAt)}
		for _, t := range x.Tags {
			e.Tags = append(e.Tags, map[string]string{"Key": t.Key, "Value": t.Value})
		}
		entries = append(entries, e)
	}
	st.mu.Unlock()
	out, e := jsonList("SecretList", entries, in.MaxResults, in.NextToken, 100, "InvalidParameterException")
	if e != nil && e.message == "The NextToken value is invalid." {
		e = &apiError{status: http.StatusBadRequest, code: "InvalidNextTokenException", message: "The NextToken value is invalid."}
	}
	return out, e
}

// smGetResourcePolicy answers a secret's resource policy.
func (s *Server) smGetResourcePolicy(req *jsonRequest) (any, *apiError) {
	var in smListIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, x := range st.region(req.caller.account, req.region).secrets {
		if x.Name == in.SecretID || x.ARN == in.SecretID {
			out := map[string]any{"ARN": x.ARN, "Name": x.Name}
			if x.Policy != "" {
				out["ResourcePolicy"] = x.Policy
			}
			return out, nil
		}
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret."}
}
