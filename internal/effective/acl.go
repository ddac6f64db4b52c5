package effective

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// This file takes a bucket's ACL into the requests on the bucket. S3
// grants a request that the bucket policy or the ACL allows (an explicit
// deny in a policy still wins), and a grant names an account (its
// canonical user), a predefined group or S3's log delivery (Amazon S3 User
// Guide, "Access control list (ACL) overview"). So each grant of the ACL
// becomes a statement appended to the bucket policy, named "bucket ACL:
// PERMISSION to GRANTEE" in explanations, with the actions its permission
// maps to:
//
//	READ          s3:ListBucket, s3:ListBucketVersions, s3:ListBucketMultipartUploads
//	WRITE         s3:PutObject (on the bucket's objects)
//	READ_ACP      s3:GetBucketAcl
//	WRITE_ACP     s3:PutBucketAcl
//	FULL_CONTROL  all of these
//
// A grant to the bucket's owner adds nothing (the owner's IAM policies
// decide for its own principals) and is left out; a grant to AllUsers or
// AuthenticatedUsers is public, and Block Public Access IgnorePublicAcls
// (the bucket's or its account's) makes S3 ignore it. A canonical user is
// the account whose buckets that ID owns when the snapshot knows it, else
// an account outside the snapshot named by its canonical ID. Only the
// bucket's own ACL is taken: objects' ACLs are not read.

// aclSidPrefix begins the Sid of every statement that stands for an ACL
// grant: RestrictPublicBuckets judges the bucket policy without them.
const aclSidPrefix = "bucket ACL: "

// aclStatements are the policy statements that stand for a bucket's ACL
// grants, in the ACL's order; owners maps canonical user IDs to the
// accounts the snapshot knows them as. ignorePublic (IgnorePublicAcls)
// leaves the public grants out, with a note.
func aclStatements(bucket *model.Resource, owners map[string]string, ignorePublic bool, notes *[]string) []map[string]any {
	acl := bucket.Bucket.ACL
	if acl == nil {
		return nil
	}
	arn := "arn:aws:s3:::" + bucket.Name
	var out []map[string]any
	ignored := 0
	for _, g := range acl.Grants {
		principal, who, ok := aclPrincipal(g, acl.OwnerID, bucket.AccountID, owners)
		if !ok {
			continue
		}
		if g.PublicGrant() && ignorePublic {
			ignored++
			continue
		}
		for _, p := range model.ACLPermissions(g.Permission) {
			resource := arn
			if p == "WRITE" {
				resource = arn + "/*" // s3:PutObject, on its objects
			}
			out = append(out, map[string]any{"Sid": aclSidPrefix + g.Permission + " to " + who, "Effect": "Allow",
				"Principal": principal, "Action": model.ACLActions(p), "Resource": resource})
		}
	}
	if ignored > 0 {
		*notes = append(*notes, fmt.Sprintf("Block Public Access IgnorePublicAcls (the bucket's or its account's): S3 ignores the %d public grant(s) of the ACL of %s", ignored, bucket.Name))
	}
	return out
}

// aclPrincipal is the policy Principal of an ACL grant's grantee and how
// explanations name it; false for a grant to the bucket's owner, or to a
// grantee S3 grants nothing by (an unknown group).
func aclPrincipal(g model.BucketACLGrant, ownerID, ownerAccount string, owners map[string]string) (map[string]any, string, bool) {
	switch g.GranteeType {
	case model.ACLGroup:
		switch g.Grantee {
		case model.ACLAllUsers:
			return map[string]any{"AWS": "*"}, "AllUsers (anyone)", true
		case model.ACLAuthenticatedUsers:
			return map[string]any{"AWS": "*"}, "AuthenticatedUsers (any AWS account)", true
		case model.ACLLogDelivery:
			return map[string]any{"Service": "logging.s3.amazonaws.com"}, "LogDelivery (S3 server access logging)", true
		}
		return nil, "", false
	case model.ACLCanonicalUser:
		if g.Grantee == ownerID {
			return nil, "", false
		}
		if acct, ok := owners[g.Grantee]; ok {
			if acct == ownerAccount {
				return nil, "", false
			}
			return map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}, "account " + acct, true
		}
		short := g.Grantee
		if len(short) > 12 {
			short = short[:12] + "…"
		}
		return map[string]any{"CanonicalUser": g.Grantee}, "canonical user " + short, true
	}
	// AmazonCustomerByEmail: S3 keeps such grants as the account's canonical
	// user, so GetBucketAcl does not return this type.
	return nil, "", false
}

// foreignACL reports whether a bucket's ACL grants to a canonical user
// other than its owner (so that who it is needs the canonical IDs of the
// snapshot's accounts).
func foreignACL(r *model.Resource) bool {
	if r == nil || r.Bucket == nil || r.Bucket.ACL == nil {
		return false
	}
	for _, g := range r.Bucket.ACL.Grants {
		if g.GranteeType == model.ACLCanonicalUser && g.Grantee != r.Bucket.ACL.OwnerID {
			return true
		}
	}
	return false
}

// canonicalOwners maps the canonical user IDs the snapshot knows (its
// buckets' owners) to their accounts, read once; nil when no bucket's ACL
// needs them.
func (s *Snapshot) canonicalOwners(ctx context.Context, bucket *model.Resource) (map[string]string, error) {
	if !foreignACL(bucket) {
		return nil, nil
	}
	s.mu.Lock()
	c := s.canon
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	rs, err := s.src.ofType(ctx, model.TypeS3Bucket)
	if err != nil {
		return nil, err
	}
	c = map[string]string{}
	for _, r := range rs {
		if r.Bucket != nil && r.Bucket.ACL != nil && r.Bucket.ACL.OwnerID != "" {
			c[r.Bucket.ACL.OwnerID] = r.AccountID
		}
	}
	if len(rs) > 0 {
		// (A snapshot in memory holds no buckets: readBeside sets them.)
		s.setCanonical(c)
	}
	return c, nil
}

// setCanonical sets the canonical owners (readBeside reads them from the
// store for who-can, whose snapshot in memory holds no buckets).
func (s *Snapshot) setCanonical(c map[string]string) {
	s.mu.Lock()
	s.canon = c
	s.mu.Unlock()
}

// withStatements is the text of a resource policy with statements
// appended; text "" (no policy, or one not read) gives a document of the
// statements alone. A policy that is not a JSON object is an error.
func withStatements(text, kind string, add []map[string]any) (string, error) {
	doc := map[string]any{"Version": "2012-10-17"}
	if strings.TrimSpace(text) != "" {
		if err := json.Unmarshal([]byte(text), &doc); err != nil {
			return "", fmt.Errorf("the %s is not a JSON object: %w", kind, err)
		}
	}
	var stmts []any
	switch s := doc["Statement"].(type) {
	case nil:
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	default:
		return "", fmt.Errorf("the %s's Statement is neither an object nor a list", kind)
	}
	for _, st := range add {
		stmts = append(stmts, st)
	}
	doc["Statement"] = stmts
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fromACL reports whether an evaluation's allow rests on an ACL grant: a
// resource step whose statement stands for one.
func fromACL(steps []policy.Step) bool {
	for _, st := range steps {
		if st.Kind == "resource" && st.Effect == "Allow" && strings.HasPrefix(st.Statement, aclSidPrefix) {
			return true
		}
	}
	return false
}
