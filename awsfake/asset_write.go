package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file serves the asset services' writes a test needs to change an
// estate the way an operator would, each recorded in the caller's
// CloudTrail history as AWS records it (recordAssetWrite: the service's
// own event name and source, the asset's region, the caller's identity,
// the request's string parameters and the event's resources):
//
//   - S3 (REST-XML): CreateBucket (PUT /BUCKET, a LocationConstraint that
//     must be the signing region's, none only in us-east-1), DeleteBucket
//     (DELETE /BUCKET), PutBucketPolicy (PUT /BUCKET?policy, the policy
//     as the body; MalformedPolicy when it is not a JSON object with a
//     Statement), DeleteBucketPolicy, PutPublicAccessBlock (PUT
//     /BUCKET?publicAccessBlock; CloudTrail's event is
//     PutBucketPublicAccessBlock), DeletePublicAccessBlock
//     (DeleteBucketPublicAccessBlock), and PutBucketAcl and
//     PutBucketOwnershipControls (s3_acl.go). A new bucket has every Block
//     Public Access setting on and the Object Ownership the
//     x-amz-object-ownership header names, BucketOwnerEnforced by default,
//     as S3 creates buckets since April 2023.
//   - KMS (JSON 1.1): CreateGrant (GranteePrincipal and Operations
//     required, each operation one KMS names; Constraints kept, each of
//     its maps at most 8 pairs, each value at most 384 characters, as
//     KMS documents; an empty map is no constraint), RevokeGrant and
//     PutKeyPolicy.
//   - Lambda (REST-JSON): UpdateFunctionConfiguration (PUT
//     /2015-03-31/functions/NAME/configuration) of the execution role,
//     AddPermission (POST …/policy: a statement as Lambda writes it;
//     ResourceConflictException for a statement ID taken) and
//     RemovePermission (DELETE …/policy/SID), each with Qualifier=ALIAS
//     (or a name qualified by the alias) acting on the alias's own policy,
//     recorded as UpdateFunctionConfiguration20150331v2,
//     AddPermission20150331v2 and RemovePermission20150331v2 as Lambda
//     names its events (an alias's as its function's, the qualifier in
//     the request parameters); CreateAlias and DeleteAlias
//     (lambda_alias.go).
//   - Secrets Manager (JSON 1.1): CreateSecret (the value kept, never
//     returned nor recorded), PutResourcePolicy (a JSON policy, else
//     MalformedPolicyDocumentException), DeleteResourcePolicy and
//     DeleteSecret (the secret leaves ListSecrets at once, as ListSecrets
//     hides one scheduled for deletion; the emulator does not keep it for
//     its recovery window).
//   - EC2 (query): AuthorizeSecurityGroupIngress and
//     RevokeSecurityGroupIngress (IpPermissions.N with IpRanges,
//     Ipv6Ranges and Groups; a rule already there is
//     InvalidPermission.Duplicate, one not there InvalidPermission.NotFound),
//     CreateSecurityGroup (in VpcId or the default group's VPC, with the
//     default egress rule; InvalidGroup.Duplicate), DeleteSecurityGroup
//     (DependencyViolation while an instance uses it; the default group
//     CannotDelete), StopInstances (the transition completes at once: the answer says
//     stopping, DescribeInstances then stopped; the instance loses its
//     public IPv4 address, as an auto-assigned one is released; Elastic
//     IPs are not emulated).

// lambdaTime is the format of Lambda's timestamps.
const lambdaTime = "2006-01-02T15:04:05.000+0000"

// recordAssetWrite records an asset write in the caller's history, in the
// asset's region.
func (s *Server) recordAssetWrite(c caller, source, region, name string, request map[string]string, resources ...EventResource) {
	e := Event{Name: name, Source: source, Time: s.now(), Account: c.account, Region: region, Request: request, Resources: resources}
	e.IdentityType, e.IdentityARN, e.IdentityAccount, e.Username = callerIdentity(c)
	s.RecordEvent(e)
}

// --- S3 ---

// s3WriteAction names the S3 write a non-GET request calls, "" for one
// the emulator does not serve.
func s3WriteAction(r *http.Request, bucket string) string {
	if bucket == "" {
		return ""
	}
	q := r.URL.Query()
	path := strings.Trim(r.URL.Path, "/")
	if path != "" && path != bucket {
		return "" // an object: not emulated
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case q.Has("policy"):
			return "PutBucketPolicy"
		case q.Has("publicAccessBlock"):
			return "PutPublicAccessBlock"
		case q.Has("acl"):
			return "PutBucketAcl" // s3_acl.go
		case q.Has("ownershipControls"):
			return "PutBucketOwnershipControls"
		case len(q) == 0:
			return "CreateBucket"
		}
	case http.MethodDelete:
		switch {
		case q.Has("policy"):
			return "DeleteBucketPolicy"
		case q.Has("publicAccessBlock"):
			return "DeletePublicAccessBlock"
		case len(q) == 0:
			return "DeleteBucket"
		}
	}
	return ""
}

// s3WriteHandlers are the S3 writes by action.
func (s *Server) s3WriteHandlers() map[string]func(*s3Request) (*s3Answer, *apiError) {
	return map[string]func(*s3Request) (*s3Answer, *apiError){
		"CreateBucket":               s.s3CreateBucket,
		"DeleteBucket":               s.s3DeleteBucket,
		"PutBucketPolicy":            s.s3PutBucketPolicy,
		"DeleteBucketPolicy":         s.s3DeleteBucketPolicy,
		"PutPublicAccessBlock":       s.s3PutPublicAccessBlock,
		"DeletePublicAccessBlock":    s.s3DeletePublicAccessBlock,
		"PutBucketAcl":               s.s3PutBucketAcl,
		"PutBucketOwnershipControls": s.s3PutBucketOwnershipControls,
	}
}

// s3Recorded records an S3 write of a bucket as CloudTrail names it.
func (s *Server) s3Recorded(req *s3Request, event, region string) {
	s.recordAssetWrite(req.auth.caller, "s3.amazonaws.com", region, event,
		map[string]string{"bucketName": req.bucket, "Host": req.r.Host}, EventResource{Type: "AWS::S3::Bucket", Name: req.bucket})
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

type s3CreateBucketConfiguration struct {
	LocationConstraint string
}

// s3CreateBucket creates a bucket in the signing region.
func (s *Server) s3CreateBucket(req *s3Request) (*s3Answer, *apiError) {
	region := req.auth.region
	if !bucketName.MatchString(req.bucket) || strings.Contains(req.bucket, "..") {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidBucketName", message: "The specified bucket is not valid."}
	}
	var cfg s3CreateBucketConfiguration
	if len(req.auth.body) > 0 {
		if err := xml.Unmarshal(req.auth.body, &cfg); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema"}
		}
	}
	switch {
	case cfg.LocationConstraint == "" && region != "us-east-1":
		return nil, &apiError{status: http.StatusBadRequest, code: "IllegalLocationConstraintException",
			message: "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."}
	case cfg.LocationConstraint != "" && cfg.LocationConstraint != region:
		return nil, &apiError{status: http.StatusBadRequest, code: "IllegalLocationConstraintException",
			message: "The " + cfg.LocationConstraint + " location constraint is incompatible for the region specific endpoint this request was sent to."}
	}
	ownership := req.r.Header.Get("X-Amz-Object-Ownership")
	if ownership == "" {
		ownership = ObjectOwnershipEnforced
	}
	if !validObjectOwnership(ownership) {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Invalid x-amz-object-ownership header: " + ownership}
	}
	if e := s.regionGate(req.auth.caller, "s3", "CreateBucket", region); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	if b := st.buckets[req.bucket]; b != nil {
		st.mu.Unlock()
		if b.Account == req.auth.caller.account {
			return nil, &apiError{status: http.StatusConflict, code: "BucketAlreadyOwnedByYou", message: "Your previous request to create the named bucket succeeded and you already own it."}
		}
		return nil, &apiError{status: http.StatusConflict, code: "BucketAlreadyExists", message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."}
	}
	b := &Bucket{Name: req.bucket, Account: req.auth.caller.account, Region: region, CreatedAt: s.now(), ObjectOwnership: ownership,
		// New buckets have every Block Public Access setting on, as S3
		// creates them since April 2023.
		PublicAccessBlock: &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}}
	st.buckets[b.Name] = b
	st.a.Buckets = append(st.a.Buckets, b)
	st.mu.Unlock()
	s.s3Recorded(req, "CreateBucket", region)
	return &s3Answer{contentType: "application/xml"}, nil
}

// s3Mutate changes the caller's bucket the request names under the
// lock, after ownBucket's checks, and records the write.
func (s *Server) s3Mutate(req *s3Request, action, event string, f func(*Bucket) *apiError) (*s3Answer, *apiError) {
	b, e := s.ownBucket(req, action)
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	live := st.buckets[b.Name]
	if live == nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchBucket", message: "The specified bucket does not exist"}
	}
	e = f(live)
	st.mu.Unlock()
	if e != nil {
		return nil, e
	}
	s.s3Recorded(req, event, b.Region)
	return &s3Answer{contentType: "application/xml"}, nil
}

// s3DeleteBucket deletes a bucket (the emulator holds no objects, so none
// is BucketNotEmpty).
func (s *Server) s3DeleteBucket(req *s3Request) (*s3Answer, *apiError) {
	return s.s3Mutate(req, "DeleteBucket", "DeleteBucket", func(b *Bucket) *apiError {
		st := &s.as
		delete(st.buckets, b.Name)
		st.a.Buckets = slices.DeleteFunc(slices.Clone(st.a.Buckets), func(x *Bucket) bool { return x == b })
		return nil
	})
}

// s3PutBucketPolicy sets a bucket's policy. S3 refuses a public policy
// while the bucket's BlockPublicPolicy is on.
func (s *Server) s3PutBucketPolicy(req *s3Request) (*s3Answer, *apiError) {
	doc := string(req.auth.body)
	if !policyHasStatements(doc) {
		return nil, &apiError{status: http.StatusBadRequest, code: "MalformedPolicy", message: "Policies must be valid JSON and the first byte must be '{'"}
	}
	return s.s3Mutate(req, "PutBucketPolicy", "PutBucketPolicy", func(b *Bucket) *apiError {
		if b.PublicAccessBlock != nil && b.PublicAccessBlock.BlockPublicPolicy && policyIsPublic(doc) {
			return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "User: " + req.auth.caller.arn +
				" is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::" + b.Name + "\" because public policies are blocked by the BlockPublicPolicy block public access setting."}
		}
		b.Policy = doc
		return nil
	})
}

// s3DeleteBucketPolicy removes a bucket's policy (204 even when it has
// none, as S3 answers).
func (s *Server) s3DeleteBucketPolicy(req *s3Request) (*s3Answer, *apiError) {
	return s.s3Mutate(req, "DeleteBucketPolicy", "DeleteBucketPolicy", func(b *Bucket) *apiError {
		b.Policy = ""
		return nil
	})
}

// s3PutPublicAccessBlock sets a bucket's Block Public Access settings.
func (s *Server) s3PutPublicAccessBlock(req *s3Request) (*s3Answer, *apiError) {
	var in s3PublicAccessBlock
	if err := xml.Unmarshal(req.auth.body, &in); err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	return s.s3Mutate(req, "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock", func(b *Bucket) *apiError {
		b.PublicAccessBlock = &PublicAccessBlock{BlockPublicAcls: in.BlockPublicAcls, IgnorePublicAcls: in.IgnorePublicAcls,
			BlockPublicPolicy: in.BlockPublicPolicy, RestrictPublicBuckets: in.RestrictPublicBuckets}
		return nil
	})
}

// s3DeletePublicAccessBlock removes a bucket's Block Public Access
// settings.
func (s *Server) s3DeletePublicAccessBlock(req *s3Request) (*s3Answer, *apiError) {
	return s.s3Mutate(req, "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", func(b *Bucket) *apiError {
		b.PublicAccessBlock = nil
		return nil
	})
}

// policyHasStatements reports whether doc is a JSON object with a
// Statement.
func policyHasStatements(doc string) bool {
	var d map[string]json.RawMessage
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	_, ok := d["Statement"]
	return ok
}

// policyIsPublic reports whether a resource policy allows Principal "*"
// (or AWS "*") in a statement without a condition, S3's test of a public
// policy in its simplest form.
func policyIsPublic(doc string) bool {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	var sts []trustStatement
	if json.Unmarshal(d.Statement, &sts) != nil {
		var one trustStatement
		if json.Unmarshal(d.Statement, &one) != nil {
			return false
		}
		sts = []trustStatement{one}
	}
	for _, st := range sts {
		if st.Effect != "Allow" || len(st.Condition) > 0 {
			continue
		}
		if string(st.Principal) == `"*"` {
			return true
		}
		var p map[string]json.RawMessage
		if json.Unmarshal(st.Principal, &p) == nil && slices.Contains(stringList(p["AWS"]), "*") {
			return true
		}
	}
	return false
}

// --- KMS ---

// kmsGrantOperations are the operations a KMS grant may allow.
var kmsGrantOperations = []string{"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
	"Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret"}

type kmsGrantIn struct {
	KeyID             string `json:"KeyId"`
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Name              string
	GrantID           string `json:"GrantId"`
	Constraints       *GrantConstraints
}

// kmsConstraintPairs and kmsConstraintValue are KMS's documented limits
// on a grant constraint: pairs per map, characters per value.
const (
	kmsConstraintPairs = 8
	kmsConstraintValue = 384
)

// checkGrantConstraints validates a CreateGrant's Constraints and returns
// them as a grant keeps them: nil when both maps are empty.
func checkGrantConstraints(c *GrantConstraints) (*GrantConstraints, *apiError) {
	if c == nil {
		return nil, nil
	}
	for _, m := range []struct {
		field string
		pairs map[string]string
	}{{"encryptionContextEquals", c.EncryptionContextEquals}, {"encryptionContextSubset", c.EncryptionContextSubset}} {
		if len(m.pairs) > kmsConstraintPairs {
			return nil, kmsValidation(fmt.Sprintf("1 validation error detected: Value at 'constraints.%s' failed to satisfy constraint: Member must have length less than or equal to %d", m.field, kmsConstraintPairs))
		}
		for _, k := range slices.Sorted(maps.Keys(m.pairs)) {
			if utf8.RuneCountInString(m.pairs[k]) > kmsConstraintValue {
				return nil, kmsValidation(fmt.Sprintf("1 validation error detected: Value at 'constraints.%s' for key '%s' failed to satisfy constraint: Member must have length less than or equal to %d", m.field, k, kmsConstraintValue))
			}
		}
	}
	nonEmpty := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		return maps.Clone(m)
	}
	out := &GrantConstraints{EncryptionContextEquals: nonEmpty(c.EncryptionContextEquals), EncryptionContextSubset: nonEmpty(c.EncryptionContextSubset)}
	if out.EncryptionContextEquals == nil && out.EncryptionContextSubset == nil {
		return nil, nil
	}
	return out, nil
}

// liveKey returns the caller's key the request names, under st.mu.
func (st *assetState) liveKey(account, region, id string) *KMSKey {
	for _, k := range st.region(account, region).keys {
		if k.ID == id || k.ARN == id {
			return k
		}
	}
	return nil
}

// kmsCreateGrant adds a grant to a key.
func (s *Server) kmsCreateGrant(req *jsonRequest) (any, *apiError) {
	var in kmsGrantIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if in.GranteePrincipal == "" {
		return nil, kmsValidation("1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Operations) == 0 {
		return nil, kmsValidation("1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null")
	}
	for _, op := range in.Operations {
		if !slices.Contains(kmsGrantOperations, op) {
			return nil, kmsValidation("1 validation error detected: Value '[" + op + "]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [" + strings.Join(kmsGrantOperations, ", ") + "]]")
		}
	}
	constraints, e := checkGrantConstraints(in.Constraints)
	if e != nil {
		return nil, e
	}
	if _, e := s.findKey(req, in.KeyID); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	k := st.liveKey(req.caller.account, req.region, in.KeyID)
	st.grantN++
	id := fmt.Sprintf("%064x", hash64(fmt.Sprint("grant|", k.ARN, "|", st.grantN)))
	g := &KMSGrant{ID: id, Name: in.Name, GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal,
		IssuingAccount: "arn:aws:iam::" + req.caller.account + ":root", Operations: slices.Clone(in.Operations), CreatedAt: s.now(), Constraints: constraints}
	k.Grants = append(k.Grants, g)
	arn := k.ARN
	st.mu.Unlock()
	s.recordAssetWrite(req.caller, "kms.amazonaws.com", req.region, "CreateGrant",
		map[string]string{"keyId": in.KeyID, "granteePrincipal": in.GranteePrincipal, "retiringPrincipal": in.RetiringPrincipal, "name": in.Name},
		EventResource{Type: "AWS::KMS::Key", Name: arn})
	return map[string]any{"GrantId": id, "GrantToken": "fake-grant-token-" + id[:16]}, nil
}

// kmsRevokeGrant removes a grant from a key.
func (s *Server) kmsRevokeGrant(req *jsonRequest) (any, *apiError) {
	var in kmsGrantIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if in.GrantID == "" {
		return nil, kmsValidation("1 validation error detected: Value null at 'grantId' failed to satisfy constraint: Member must not be null")
	}
	if _, e := s.findKey(req, in.KeyID); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	k := st.liveKey(req.caller.account, req.region, in.KeyID)
	n := len(k.Grants)
	k.Grants = slices.DeleteFunc(slices.Clone(k.Grants), func(g *KMSGrant) bool { return g.ID == in.GrantID })
	removed, arn := n != len(k.Grants), k.ARN
	st.mu.Unlock()
	if !removed {
		return nil, &apiError{status: http.StatusBadRequest, code: "NotFoundException", message: "Grant ID " + in.GrantID + " not found"}
	}
	s.recordAssetWrite(req.caller, "kms.amazonaws.com", req.region, "RevokeGrant",
		map[string]string{"keyId": in.KeyID, "grantId": in.GrantID}, EventResource{Type: "AWS::KMS::Key", Name: arn})
	return map[string]any{}, nil
}

// --- Lambda ---

var roleARN = regexp.MustCompile(`^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$`)

// lambdaUpdateConfiguration changes a function's execution role (the other
// settings of the request are accepted and not kept).
func (s *Server) lambdaUpdateConfiguration(auth authenticated, name string) (any, *apiError) {
	var in struct {
		Role string
	}
	if len(auth.body) > 0 && json.Unmarshal(auth.body, &in) != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidRequestContentException", message: "Could not parse request body into json"}
	}
	if in.Role != "" && !roleARN.MatchString(in.Role) {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException",
			message: "1 validation error detected: Value '" + in.Role + "' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"}
	}
	st := &s.as
	st.mu.Lock()
	var f *Function
	for _, x := range st.region(auth.caller.account, auth.region).functions {
		if x.Name == name || x.ARN == name {
			f = x
		}
	}
	if f == nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException",
			message: "Function not found: arn:aws:lambda:" + auth.region + ":" + auth.caller.account + ":function:" + name}
	}
	if in.Role != "" {
		f.Role = in.Role
	}
	f.LastModified = s.now()
	sum := CanonicalUserID(f.ARN)
	out := lambdaConfig{FunctionName: f.Name, FunctionArn: f.ARN, Runtime: f.Runtime, Role: f.Role, Handler: f.Handler,
		CodeSize: 1024, Description: f.Description, Timeout: 3, MemorySize: 128,
		LastModified: f.LastModified.UTC().Format(lambdaTime), CodeSha256: sum[:43] + "=",
		Version: "$LATEST", PackageType: "Zip", Architectures: []string{"x86_64"}, RevisionID: lambdaRevision(f)}
	st.mu.Unlock()
	s.recordAssetWrite(auth.caller, "lambda.amazonaws.com", auth.region, "UpdateFunctionConfiguration20150331v2",
		map[string]string{"functionName": name, "role": in.Role}, EventResource{Type: "AWS::Lambda::Function", Name: out.FunctionArn})
	return out, nil
}

// --- Secrets Manager ---

type smWriteIn struct {
	SecretID                   string `json:"SecretId"`
	ResourcePolicy             string
	ForceDeleteWithoutRecovery bool
	RecoveryWindowInDays       *int
}

// liveSecret returns the caller's secret named by name or ARN, under st.mu.
func (st *assetState) liveSecret(account, region, id string) *Secret {
	for _, x := range st.region(account, region).secrets {
		if x.Name == id || x.ARN == id {
			return x
		}
	}
	return nil
}

// smWrite changes the secret the request names under the lock and records
// the write.
func (s *Server) smWrite(req *jsonRequest, in smWriteIn, f func(*Secret)) (any, *apiError) {
	st := &s.as
	st.mu.Lock()
	x := st.liveSecret(req.caller.account, req.region, in.SecretID)
	if x == nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret."}
	}
	arn, name := x.ARN, x.Name
	f(x)
	st.mu.Unlock()
	s.recordAssetWrite(req.caller, "secretsmanager.amazonaws.com", req.region, req.action, map[string]string{"secretId": in.SecretID})
	return map[string]any{"ARN": arn, "Name": name}, nil
}

// smPutResourcePolicy sets a secret's resource policy.
func (s *Server) smPutResourcePolicy(req *jsonRequest) (any, *apiError) {
	var in smWriteIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if !policyHasStatements(in.ResourcePolicy) {
		return nil, &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocumentException", message: "This resource policy contains a syntax error."}
	}
	return s.smWrite(req, in, func(x *Secret) { x.Policy = in.ResourcePolicy })
}

// smDeleteResourcePolicy removes a secret's resource policy.
func (s *Server) smDeleteResourcePolicy(req *jsonRequest) (any, *apiError) {
	var in smWriteIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	return s.smWrite(req, in, func(x *Secret) { x.Policy = "" })
}

// smDeleteSecret deletes a secret.
func (s *Server) smDeleteSecret(req *jsonRequest) (any, *apiError) {
	var in smWriteIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if in.ForceDeleteWithoutRecovery && in.RecoveryWindowInDays != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterException",
			message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."}
	}
	if w := in.RecoveryWindowInDays; w != nil && (*w < 7 || *w > 30) {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterException",
			message: "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."}
	}
	out, e := s.smWrite(req, in, func(x *Secret) {
		st := &s.as
		ra := st.regions[x.Account+"/"+x.Region]
		ra.secrets = slices.DeleteFunc(slices.Clone(ra.secrets), func(y *Secret) bool { return y == x })
		st.a.Secrets = slices.DeleteFunc(slices.Clone(st.a.Secrets), func(y *Secret) bool { return y == x })
	})
	if e != nil {
		return nil, e
	}
	days := 30
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
	}
	if in.ForceDeleteWithoutRecovery {
		days = 0
	}
	out.(map[string]any)["DeletionDate"] = epoch(s.now().AddDate(0, 0, days))
	return out, nil
}

// --- EC2 ---

type ec2ReturnResult struct {
	XMLName xml.Name `xml:"r"`
	Return  bool     `xml:"return"`
}

// permissions reads IpPermissions.N of an EC2 request.
func (r *ec2Request) permissions() ([]IPPermission, *apiError) {
	var out []IPPermission
	for i := 1; ; i++ {
		p := "IpPermissions." + strconv.Itoa(i) + "."
		proto := r.form.Get(p + "IpProtocol")
		if proto == "" {
			if len(out) == 0 {
				return nil, &apiError{status: http.StatusBadRequest, code: "MissingParameter", message: "The request must contain the parameter ipPermissions"}
			}
			return out, nil
		}
		x := IPPermission{Protocol: proto, FromPort: -1, ToPort: -1}
		if proto == "all" {
			x.Protocol = "-1"
		}
		if x.Protocol != "-1" {
			from, err1 := strconv.Atoi(r.form.Get(p + "FromPort"))
			to, err2 := strconv.Atoi(r.form.Get(p + "ToPort"))
			if err1 != nil || err2 != nil || from > to && to != -1 {
				return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."}
			}
			x.FromPort, x.ToPort = from, to
		}
		x.CIDRs = r.nested(p+"IpRanges", "CidrIp")
		x.IPv6CIDRs = r.nested(p+"Ipv6Ranges", "CidrIpv6")
		x.Groups = r.nested(p+"Groups", "GroupId")
		if len(x.CIDRs)+len(x.IPv6CIDRs)+len(x.Groups) == 0 {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: "The request must contain a source: an IP range or a security group"}
		}
		out = append(out, x)
	}
}

// nested reads a list of structures' member (Name.1.Member, Name.2.Member, …).
func (r *ec2Request) nested(name, member string) []string {
	var out []string
	for i := 1; ; i++ {
		v := r.form.Get(name + "." + strconv.Itoa(i) + "." + member)
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// liveGroup returns the caller's security group, under st.mu.
func (st *assetState) liveGroup(account, region, id string) *SecurityGroup {
	for _, g := range st.region(account, region).groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// ec2AuthorizeIngress adds inbound rules to a security group.
func (s *Server) ec2AuthorizeIngress(req *ec2Request) (any, *apiError) {
	return s.ec2ChangeIngress(req, "AuthorizeSecurityGroupIngress", true)
}

// ec2RevokeIngress removes inbound rules from a security group.
func (s *Server) ec2RevokeIngress(req *ec2Request) (any, *apiError) {
	return s.ec2ChangeIngress(req, "RevokeSecurityGroupIngress", false)
}

// ec2ChangeIngress adds or removes each source of each permission:
// sources are kept merged by protocol and ports, as EC2 describes them.
func (s *Server) ec2ChangeIngress(req *ec2Request, action string, add bool) (any, *apiError) {
	id := req.form.Get("GroupId")
	if id == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "MissingParameter", message: "The request must contain the parameter groupId"}
	}
	perms, e := req.permissions()
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	g := st.liveGroup(req.auth.caller.account, req.auth.region, id)
	if g == nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidGroup.NotFound", message: "The security group '" + id + "' does not exist"}
	}
	rules := cloneIPPermissions(g.Ingress)
	for _, p := range perms {
		i := slices.IndexFunc(rules, func(x IPPermission) bool {
			return x.Protocol == p.Protocol && x.FromPort == p.FromPort && x.ToPort == p.ToPort
		})
		if add {
			if i < 0 {
				rules = append(rules, IPPermission{Protocol: p.Protocol, FromPort: p.FromPort, ToPort: p.ToPort})
				i = len(rules) - 1
			}
			r := &rules[i]
			for _, src := range [][2]*[]string{{&r.CIDRs, &p.CIDRs}, {&r.IPv6CIDRs, &p.IPv6CIDRs}, {&r.Groups, &p.Groups}} {
				for _, v := range *src[1] {
					if slices.Contains(*src[0], v) {
						st.mu.Unlock()
						return nil, &apiError{status: http.StatusBadRequest, code: "InvalidPermission.Duplicate",
							message: fmt.Sprintf("the specified rule \"peer: %s, %s, %s\" already exists", v, strings.ToUpper(p.Protocol), ports(p))}
					}
					*src[0] = append(*src[0], v)
				}
			}
			continue
		}
		missing := i < 0
		if !missing {
			r := &rules[i]
			for _, src := range [][2]*[]string{{&r.CIDRs, &p.CIDRs}, {&r.IPv6CIDRs, &p.IPv6CIDRs}, {&r.Groups, &p.Groups}} {
				for _, v := range *src[1] {
					j := slices.Index(*src[0], v)
					if j < 0 {
						missing = true
						continue
					}
					*src[0] = slices.Delete(*src[0], j, j+1)
				}
			}
			if len(r.CIDRs)+len(r.IPv6CIDRs)+len(r.Groups) == 0 {
				rules = slices.Delete(rules, i, i+1)
			}
		}
		if missing {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidPermission.NotFound",
				message: "The specified rule does not exist in this security group."}
		}
	}
	g.Ingress = rules
	st.mu.Unlock()
	s.recordAssetWrite(req.auth.caller, "ec2.amazonaws.com", req.auth.region, action, map[string]string{"groupId": id},
		EventResource{Type: "AWS::EC2::SecurityGroup", Name: id})
	return ec2ReturnResult{Return: true}, nil
}

func ports(p IPPermission) string {
	if p.Protocol == "-1" {
		return "ALL"
	}
	return fmt.Sprintf("%d-%d", p.FromPort, p.ToPort)
}

func cloneIPPermissions(ps []IPPermission) []IPPermission {
	out := make([]IPPermission, 0, len(ps))
	for _, p := range ps {
		p.CIDRs, p.IPv6CIDRs, p.Groups = slices.Clone(p.CIDRs), slices.Clone(p.IPv6CIDRs), slices.Clone(p.Groups)
		out = append(out, p)
	}
	return out
}

type ec2StateChange struct {
	InstanceID string   `xml:"instanceId"`
	Current    ec2State `xml:"currentState"`
	Previous   ec2State `xml:"previousState"`
}

type ec2StateChangeResult struct {
	XMLName   xml.Name         `xml:"r"`
	Instances []ec2StateChange `xml:"instancesSet>item"`
}

// ec2StopInstances stops running instances.
func (s *Server) ec2StopInstances(req *ec2Request) (any, *apiError) {
	return s.ec2ChangeState(req, "StopInstances", "stopping", "stopped")
}

// ec2ChangeState moves the instances InstanceId.N to the state final,
// answering the transition's state.
func (s *Server) ec2ChangeState(req *ec2Request, action, transition, final string) (any, *apiError) {
	ids := req.list("InstanceId")
	if len(ids) == 0 {
		return nil, &apiError{status: http.StatusBadRequest, code: "MissingParameter", message: "The request must contain the parameter InstanceId"}
	}
	st := &s.as
	st.mu.Lock()
	ra := st.region(req.auth.caller.account, req.auth.region)
	var insts []*Instance
	for _, id := range ids {
		i := slices.IndexFunc(ra.instances, func(x *Instance) bool { return x.ID == id })
		if i < 0 {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidInstanceID.NotFound", message: "The instance ID '" + id + "' does not exist"}
		}
		if x := ra.instances[i]; x.State == "terminated" || x.State == "shutting-down" {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusBadRequest, code: "IncorrectInstanceState",
				message: "This instance '" + id + "' is not in a state from which it can be stopped."}
		}
		insts = append(insts, ra.instances[i])
	}
	out := ec2StateChangeResult{}
	var resources []EventResource
	for _, x := range insts {
		prev, now := x.State, transition
		if prev == final {
			now = final // already there: EC2 answers the same state
		}
		x.PublicIP = "" // an auto-assigned public IPv4 address is released
		x.State = final
		out.Instances = append(out.Instances, ec2StateChange{InstanceID: x.ID, Current: ec2State{ec2StateCodes[now], now},
			Previous: ec2State{ec2StateCodes[prev], prev}})
		resources = append(resources, EventResource{Type: "AWS::EC2::Instance", Name: x.ID})
	}
	st.mu.Unlock()
	sort.Slice(resources, func(i, j int) bool { return resources[i].Name < resources[j].Name })
	s.recordAssetWrite(req.auth.caller, "ec2.amazonaws.com", req.auth.region, action, map[string]string{}, resources...)
	return out, nil
}

// --- more writes: key policy, function permissions, secret and security
// group creation ---

// kmsPutKeyPolicy replaces a key's policy (named "default", the only one).
func (s *Server) kmsPutKeyPolicy(req *jsonRequest) (any, *apiError) {
	var in struct {
		KeyID      string `json:"KeyId"`
		PolicyName *string
		Policy     string
	}
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if in.PolicyName != nil && *in.PolicyName != "default" {
		return nil, kmsValidation("1 validation error detected: Value '" + *in.PolicyName + "' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+")
	}
	if !policyHasStatements(in.Policy) {
		return nil, &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocumentException", message: "The new key policy will not allow you to update the key policy in the future."}
	}
	if _, e := s.findKey(req, in.KeyID); e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	k := st.liveKey(req.caller.account, req.region, in.KeyID)
	k.Policy = in.Policy
	arn := k.ARN
	st.mu.Unlock()
	s.recordAssetWrite(req.caller, "kms.amazonaws.com", req.region, "PutKeyPolicy", map[string]string{"keyId": in.KeyID, "policyName": "default"},
		EventResource{Type: "AWS::KMS::Key", Name: arn})
	return map[string]any{}, nil
}

// lambdaPermissionIn is AddPermission's request.
type lambdaPermissionIn struct {
	StatementID    string `json:"StatementId"`
	Action         string
	Principal      string
	SourceArn      string
	SourceAccount  string
	PrincipalOrgID string
}

var lambdaStatementID = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,100}$`)

// lambdaAddPermission adds a statement to the resource-based policy of a
// function or, with a qualifier naming an alias (Qualifier, or a qualified
// name), of that alias, as Lambda writes it: the principal a service
// ({"Service": …}), an account ({"AWS": "arn:aws:iam::ID:root"}), an ARN
// or "*"; SourceArn, SourceAccount and PrincipalOrgID as conditions; the
// Resource the function's ARN, or the alias's. An unknown alias or a
// version is ResourceNotFoundException (versions are not emulated).
func (s *Server) lambdaAddPermission(auth authenticated, name, qualifier string) (any, *apiError) {
	var in lambdaPermissionIn
	if json.Unmarshal(auth.body, &in) != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidRequestContentException", message: "Could not parse request body into json"}
	}
	if !lambdaStatementID.MatchString(in.StatementID) || in.Action == "" || in.Principal == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "1 validation error detected: StatementId, Action and Principal are required"}
	}
	var principal any
	switch {
	case in.Principal == "*":
		principal = "*"
	case strings.HasSuffix(in.Principal, ".amazonaws.com"):
		principal = map[string]string{"Service": in.Principal}
	case len(in.Principal) == 12:
		principal = map[string]string{"AWS": "arn:aws:iam::" + in.Principal + ":root"}
	default:
		principal = map[string]string{"AWS": in.Principal}
	}
	cond := map[string]map[string]string{}
	if in.SourceArn != "" {
		cond["ArnLike"] = map[string]string{"AWS:SourceArn": in.SourceArn}
	}
	if in.SourceAccount != "" {
		cond["StringEquals"] = map[string]string{"AWS:SourceAccount": in.SourceAccount}
	}
	if in.PrincipalOrgID != "" {
		if cond["StringEquals"] == nil {
			cond["StringEquals"] = map[string]string{}
		}
		cond["StringEquals"]["aws:PrincipalOrgID"] = in.PrincipalOrgID
	}
	ref, e := parseLambdaName(auth, name, qualifier)
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	f, alias, e := st.lambdaPolicyTarget(auth, ref)
	if e != nil {
		st.mu.Unlock()
		return nil, e
	}
	policy, resource := &f.Policy, f.ARN
	if alias != nil {
		policy, resource = &alias.Policy, f.AliasARN(alias.Name)
	}
	stmt := map[string]any{"Sid": in.StatementID, "Effect": "Allow", "Principal": principal, "Action": in.Action, "Resource": resource}
	if len(cond) > 0 {
		stmt["Condition"] = cond
	}
	doc := map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": []any{}}
	if *policy != "" {
		_ = json.Unmarshal([]byte(*policy), &doc)
	}
	list, _ := doc["Statement"].([]any)
	for _, x := range list {
		if m, _ := x.(map[string]any); m != nil && m["Sid"] == in.StatementID {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusConflict, code: "ResourceConflictException",
				message: "The statement id (" + in.StatementID + ") provided already exists. Please provide a new statement id, or remove the existing statement."}
		}
	}
	doc["Statement"] = append(list, stmt)
	b, _ := json.Marshal(doc)
	*policy = string(b)
	arn := f.ARN
	st.mu.Unlock()
	sb, _ := json.Marshal(stmt)
	request := map[string]string{"functionName": name, "statementId": in.StatementID, "action": in.Action, "principal": in.Principal}
	if qualifier != "" {
		request["qualifier"] = qualifier
	}
	// The event's resource is the function's unqualified ARN, an alias's
	// write included: alias policies belong to their function's asset.
	s.recordAssetWrite(auth.caller, "lambda.amazonaws.com", auth.region, "AddPermission20150331v2", request,
		EventResource{Type: "AWS::Lambda::Function", Name: arn})
	return map[string]any{"Statement": string(sb)}, nil
}

// lambdaRemovePermission removes a statement from the policy of a function
// or, with a qualifier naming an alias, of that alias; the policy goes
// when its last statement does.
func (s *Server) lambdaRemovePermission(auth authenticated, name, qualifier, sid string) (any, *apiError) {
	ref, e := parseLambdaName(auth, name, qualifier)
	if e != nil {
		return nil, e
	}
	st := &s.as
	st.mu.Lock()
	f, alias, e := st.lambdaPolicyTarget(auth, ref)
	if e != nil {
		st.mu.Unlock()
		return nil, e
	}
	policy := &f.Policy
	if alias != nil {
		policy = &alias.Policy
	}
	var doc map[string]any
	_ = json.Unmarshal([]byte(*policy), &doc)
	list, _ := doc["Statement"].([]any)
	kept := []any{}
	for _, x := range list {
		if m, _ := x.(map[string]any); m == nil || m["Sid"] != sid {
			kept = append(kept, x)
		}
	}
	if len(kept) == len(list) {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "Statement " + sid + " is not found in resource policy."}
	}
	*policy = ""
	if len(kept) > 0 {
		doc["Statement"] = kept
		b, _ := json.Marshal(doc)
		*policy = string(b)
	}
	arn := f.ARN
	st.mu.Unlock()
	request := map[string]string{"functionName": name, "statementId": sid}
	if qualifier != "" {
		request["qualifier"] = qualifier
	}
	s.recordAssetWrite(auth.caller, "lambda.amazonaws.com", auth.region, "RemovePermission20150331v2", request,
		EventResource{Type: "AWS::Lambda::Function", Name: arn})
	return nil, nil
}

// regionFor returns an account's resources in a region, made when there
// are none yet; the caller holds st.mu.
func (st *assetState) regionFor(account, region string) *regionAssets {
	k := account + "/" + region
	if st.regions == nil {
		st.regions = map[string]*regionAssets{}
	}
	if st.regions[k] == nil {
		st.regions[k] = &regionAssets{}
	}
	return st.regions[k]
}

var secretName = regexp.MustCompile(`^[\w/+=.@-]{1,512}$`)

// smCreateSecret creates a secret; its value is kept and never returned.
func (s *Server) smCreateSecret(req *jsonRequest) (any, *apiError) {
	var in struct {
		Name, Description string
		KmsKeyID          string `json:"KmsKeyId"`
		SecretString      string
	}
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if !secretName.MatchString(in.Name) {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterException", message: "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"}
	}
	st := &s.as
	st.mu.Lock()
	if st.liveSecret(req.caller.account, req.region, in.Name) != nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceExistsException", message: "The operation failed because the secret " + in.Name + " already exists."}
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h := mix64(hash64("secret|" + req.caller.account + "|" + req.region + "|" + in.Name))
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = letters[h%uint64(len(letters))]
		h /= uint64(len(letters))
	}
	x := &Secret{Name: in.Name, ARN: "arn:aws:secretsmanager:" + req.region + ":" + req.caller.account + ":secret:" + in.Name + "-" + string(suffix),
		Account: req.caller.account, Region: req.region, Description: in.Description, KMSKeyID: in.KmsKeyID, CreatedAt: s.now(), Value: in.SecretString}
	ra := st.regionFor(x.Account, x.Region)
	ra.secrets = append(ra.secrets, x)
	sort.Slice(ra.secrets, func(i, j int) bool { return ra.secrets[i].Name < ra.secrets[j].Name })
	st.a.Secrets = append(st.a.Secrets, x)
	st.mu.Unlock()
	// CloudTrail hides the value: requestParameters name the secret.
	s.recordAssetWrite(req.caller, "secretsmanager.amazonaws.com", req.region, "CreateSecret", map[string]string{"name": in.Name, "description": in.Description})
	return map[string]any{"ARN": x.ARN, "Name": x.Name, "VersionId": fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(h), h>>20)}, nil
}

type ec2CreateGroupResult struct {
	XMLName xml.Name `xml:"r"`
	Return  bool     `xml:"return"`
	GroupID string   `xml:"groupId"`
}

// ec2CreateSecurityGroup creates a security group in a VPC (VpcId, or the
// VPC of the region's default group), with EC2's default egress rule.
func (s *Server) ec2CreateSecurityGroup(req *ec2Request) (any, *apiError) {
	name, desc, vpc := req.form.Get("GroupName"), req.form.Get("GroupDescription"), req.form.Get("VpcId")
	if name == "" || desc == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "MissingParameter", message: "The request must contain the parameters GroupName and GroupDescription"}
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: "Group names may not be in the format sg-*."}
	}
	st := &s.as
	st.mu.Lock()
	ra := st.regionFor(req.auth.caller.account, req.auth.region)
	if vpc == "" {
		for _, g := range ra.groups {
			if g.Name == "default" {
				vpc = g.VPC
			}
		}
	}
	for _, g := range ra.groups {
		if g.Name == name && g.VPC == vpc {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidGroup.Duplicate", message: "The security group '" + name + "' already exists for VPC '" + vpc + "'"}
		}
	}
	h := mix64(hash64("sg|" + req.auth.caller.account + "|" + req.auth.region + "|" + vpc + "|" + name))
	g := &SecurityGroup{ID: fmt.Sprintf("sg-%017x", h&0xfffffffffffffff), Name: name, Description: desc, Account: req.auth.caller.account,
		Region: req.auth.region, VPC: vpc, Egress: []IPPermission{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []string{"0.0.0.0/0"}}}}
	ra.groups = append(ra.groups, g)
	sort.Slice(ra.groups, func(i, j int) bool { return ra.groups[i].ID < ra.groups[j].ID })
	st.a.SecurityGroups = append(st.a.SecurityGroups, g)
	st.mu.Unlock()
	s.recordAssetWrite(req.auth.caller, "ec2.amazonaws.com", req.auth.region, "CreateSecurityGroup",
		map[string]string{"groupName": name, "groupDescription": desc, "vpcId": vpc})
	return ec2CreateGroupResult{Return: true, GroupID: g.ID}, nil
}

// ec2DeleteSecurityGroup deletes a security group no instance uses (the
// default group cannot be deleted).
func (s *Server) ec2DeleteSecurityGroup(req *ec2Request) (any, *apiError) {
	id := req.form.Get("GroupId")
	st := &s.as
	st.mu.Lock()
	g := st.liveGroup(req.auth.caller.account, req.auth.region, id)
	if g == nil {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidGroup.NotFound", message: "The security group '" + id + "' does not exist"}
	}
	if g.Name == "default" {
		st.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "CannotDelete", message: "the specified group: \"" + id + "\" name: \"default\" cannot be deleted by a user"}
	}
	ra := st.regionFor(g.Account, g.Region)
	for _, x := range ra.instances {
		if slices.Contains(x.SecurityGroups, id) && x.State != "terminated" {
			st.mu.Unlock()
			return nil, &apiError{status: http.StatusBadRequest, code: "DependencyViolation", message: "resource " + id + " has a dependent object"}
		}
	}
	ra.groups = slices.DeleteFunc(slices.Clone(ra.groups), func(x *SecurityGroup) bool { return x == g })
	st.a.SecurityGroups = slices.DeleteFunc(slices.Clone(st.a.SecurityGroups), func(x *SecurityGroup) bool { return x == g })
	st.mu.Unlock()
	s.recordAssetWrite(req.auth.caller, "ec2.amazonaws.com", req.auth.region, "DeleteSecurityGroup", map[string]string{"groupId": id},
		EventResource{Type: "AWS::EC2::SecurityGroup", Name: id})
	return ec2ReturnResult{Return: true}, nil
}
