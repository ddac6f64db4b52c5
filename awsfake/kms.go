package awsfake

import (
	"net/http"
	"strconv"
	"strings"
)

// This file serves KMS's read APIs over JSON 1.1 (X-Amz-Target
// TrentService.<Action>), on the keys of the caller's account in the
// region the call was signed for:
//
//   - ListKeys: Limit 1..1000 (default 100), Marker, NextMarker and
//     Truncated; customer managed and AWS managed keys alike.
//   - DescribeKey: KeyMetadata, with KeyManager CUSTOMER or AWS.
//   - GetKeyPolicy: the key policy; PolicyName is "default", the only one.
//   - ListGrants: Limit 1..100 (default 50), Marker; a grant's
//     Constraints (EncryptionContextEquals, EncryptionContextSubset) when
//     it has any, each map only when not empty.
//
// A key is named by its ID or ARN; an unknown one (or one of another
// account or region: the emulator does not evaluate a key policy for a
// cross-account caller) is NotFoundException. An invalid Marker is
// InvalidMarkerException.

// kmsHandlers are KMS's actions by name.
func (s *Server) kmsHandlers() map[string]jsonHandler {
	return map[string]jsonHandler{
		"ListKeys":     s.kmsListKeys,
		"DescribeKey":  s.kmsDescribeKey,
		"GetKeyPolicy": s.kmsGetKeyPolicy,
		"ListGrants":   s.kmsListGrants,
		"CreateGrant":  s.kmsCreateGrant, // asset_write.go
		"RevokeGrant":  s.kmsRevokeGrant,
		"PutKeyPolicy": s.kmsPutKeyPolicy,
	}
}

// kmsAction serves one KMS call.
func (s *Server) kmsAction(req *jsonRequest) (any, *apiError) {
	h, ok := s.kmsHandlers()[req.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate KMS " + req.action}
	}
	if e := s.regionGate(req.caller, "kms", req.action, req.region); e != nil {
		return nil, e
	}
	return h(req)
}

func kmsValidation(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationException", message: msg}
}

// kmsMarkerPage reads Limit (1..limit, default def) and Marker.
func kmsMarkerPage(limit *int, marker string, max, def int) (start, size int, e *apiError) {
	size = def
	if limit != nil {
		if *limit < 1 || *limit > max {
			return 0, 0, kmsValidation("1 validation error detected: Value '" + strconv.Itoa(*limit) + "' at 'limit' failed to satisfy constraint: Member must have value less than or equal to " + strconv.Itoa(max))
		}
		size = *limit
	}
	if marker != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(marker, "fake-marker-"))
		if err != nil || n < 0 || !strings.HasPrefix(marker, "fake-marker-") {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "InvalidMarkerException", message: "Invalid marker"}
		}
		start = n
	}
	return start, size, nil
}

// kmsPage writes the NextMarker and Truncated of a page into out.
func kmsPage(out map[string]any, end, total int) {
	out["Truncated"] = end < total
	if end < total {
		out["NextMarker"] = "fake-marker-" + strconv.Itoa(end)
	}
}

type kmsListIn struct {
	Limit  *int
	Marker string
	KeyID  string `json:"KeyId"`
}

// kmsListKeys lists the keys of the caller's account in the region.
func (s *Server) kmsListKeys(req *jsonRequest) (any, *apiError) {
	var in kmsListIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	start, size, e := kmsMarkerPage(in.Limit, in.Marker, 1000, 100)
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	keys := st.region(req.caller.account, req.region).keys
	start = min(start, len(keys))
	end := min(start+size, len(keys))
	entries := []map[string]string{}
	for _, k := range keys[start:end] {
		entries = append(entries, map[string]string{"KeyId": k.ID, "KeyArn": k.ARN})
	}
	total := len(keys)
	st.mu.Unlock()
	out := map[string]any{"Keys": entries}
	kmsPage(out, end, total)
	return out, nil
}

// findKey returns a copy of the key named by ID or ARN in the caller's
// account and region.
func (s *Server) findKey(req *jsonRequest, id string) (*KMSKey, *apiError) {
	if id == "" {
		return nil, kmsValidation("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, k := range st.region(req.caller.account, req.region).keys {
		if k.ID == id || k.ARN == id {
			c := *k
			return &c, nil
		}
	}
	arn := id
	if !strings.HasPrefix(id, "arn:") {
		arn = "arn:aws:kms:" + req.region + ":" + req.caller.account + ":key/" + id
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "NotFoundException", message: "Key '" + arn + "' does not exist"}
}

// kmsDescribeKey answers a key's metadata.
func (s *Server) kmsDescribeKey(req *jsonRequest) (any, *apiError) {
	var in kmsListIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	k, e := s.findKey(req, in.KeyID)
	if e != nil {
		return nil, e
	}
	md := map[string]any{
		"AWSAccountId": k.Account, "KeyId": k.ID, "Arn": k.ARN, "CreationDate": epoch(k.CreatedAt),
		"Enabled": k.State == "Enabled", "Description": k.Description, "KeyUsage": "ENCRYPT_DECRYPT",
		"KeyState": k.State, "Origin": "AWS_KMS", "KeyManager": k.Manager,
		"CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
		"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "MultiRegion": false,
	}
	return map[string]any{"KeyMetadata": md}, nil
}

type kmsPolicyIn struct {
	KeyID      string `json:"KeyId"`
	PolicyName *string
}

// kmsGetKeyPolicy answers a key's policy.
func (s *Server) kmsGetKeyPolicy(req *jsonRequest) (any, *apiError) {
	var in kmsPolicyIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	k, e := s.findKey(req, in.KeyID)
	if e != nil {
		return nil, e
	}
	if in.PolicyName != nil && *in.PolicyName != "default" {
		return nil, &apiError{status: http.StatusBadRequest, code: "NotFoundException", message: "No such policy exists"}
	}
	return map[string]any{"Policy": k.Policy, "PolicyName": "default"}, nil
}

// wire returns c as KMS's GrantConstraints: only the maps that are not
// empty, nil when none is.
func (c *GrantConstraints) wire() map[string]any {
	if c == nil {
		return nil
	}
	m := map[string]any{}
	if len(c.EncryptionContextEquals) > 0 {
		m["EncryptionContextEquals"] = c.EncryptionContextEquals
	}
	if len(c.EncryptionContextSubset) > 0 {
		m["EncryptionContextSubset"] = c.EncryptionContextSubset
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// kmsListGrants lists a key's grants.
func (s *Server) kmsListGrants(req *jsonRequest) (any, *apiError) {
	var in kmsListIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	start, size, e := kmsMarkerPage(in.Limit, in.Marker, 100, 50)
	if e != nil {
		return nil, e
	}
	k, e := s.findKey(req, in.KeyID)
	if e != nil {
		return nil, e
	}
	start = min(start, len(k.Grants))
	end := min(start+size, len(k.Grants))
	grants := []map[string]any{}
	for _, g := range k.Grants[start:end] {
		m := map[string]any{"KeyId": k.ARN, "GrantId": g.ID, "CreationDate": epoch(g.CreatedAt),
			"GranteePrincipal": g.GranteePrincipal, "IssuingAccount": g.IssuingAccount, "Operations": g.Operations}
		if g.Name != "" {
			m["Name"] = g.Name
		}
		if g.RetiringPrincipal != "" {
			m["RetiringPrincipal"] = g.RetiringPrincipal
		}
		if c := g.Constraints.wire(); c != nil {
			m["Constraints"] = c
		}
		grants = append(grants, m)
	}
	out := map[string]any{"Grants": grants}
	kmsPage(out, end, len(k.Grants))
	return out, nil
}
