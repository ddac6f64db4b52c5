package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// This file serves S3's bucket access control lists and Object Ownership
// over REST-XML, path-style and virtual-hosted as the other bucket calls,
// with their region, account and NoSuchBucket checks (ownBucket):
//
//   - GetBucketAcl (GET /BUCKET?acl): the bucket's Owner and its grants,
//     <AccessControlPolicy><Owner><ID>…</ID></Owner><AccessControlList>
//     <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
//     xsi:type="CanonicalUser"><ID>…</ID></Grantee><Permission>…</Permission>
//     </Grant>…</AccessControlList></AccessControlPolicy>, a Group grantee
//     carrying its <URI>; a bucket with no ACL set answers S3's default,
//     the owner's FULL_CONTROL alone.
//   - PutBucketAcl (PUT /BUCKET?acl): a canned ACL in x-amz-acl (private,
//     public-read, public-read-write, authenticated-read,
//     log-delivery-write; any other InvalidArgument), grants in the
//     x-amz-grant-* headers (id="…", uri="…", comma-separated), or an
//     AccessControlPolicy body of GetBucketAcl's shape (MalformedACLError
//     when it is not; an email grantee is UnresolvableGrantByEmailAddress,
//     an unknown group URI or a canonical ID that is not 64 hex digits
//     InvalidArgument). The new ACL replaces the old. A bucket whose
//     Object Ownership is BucketOwnerEnforced refuses it, 400
//     AccessControlListNotSupported; an ACL granting to AllUsers or
//     AuthenticatedUsers while BlockPublicAcls is on for the bucket or its
//     account is 403 AccessDenied. Recorded in CloudTrail as PutBucketAcl.
//   - GetBucketOwnershipControls (GET /BUCKET?ownershipControls): the
//     bucket's one rule, BucketOwnerEnforced for a bucket with none set.
//   - PutBucketOwnershipControls (PUT /BUCKET?ownershipControls):
//     <OwnershipControls><Rule><ObjectOwnership>X</ObjectOwnership></Rule>
//     </OwnershipControls>, X one of the three settings (else MalformedXML);
//     BucketOwnerEnforced while the ACL grants to anyone but the owner is
//     400 InvalidBucketAclWithObjectOwnership. Recorded as
//     PutBucketOwnershipControls.

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// aclPermissions are the permissions an ACL grant may give, in the order
// the x-amz-grant-* headers are read.
var aclPermissions = []string{"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"}

// aclGroups are S3's predefined groups.
var aclGroups = []string{GroupAllUsers, GroupAuthenticatedUsers, GroupLogDelivery}

var canonicalID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// effectiveACL is a bucket's ACL as GetBucketAcl answers it: S3's default,
// the owner's FULL_CONTROL, when none is set.
func (b *Bucket) effectiveACL() []BucketGrant {
	if b.ACL == nil {
		return []BucketGrant{{Type: GranteeCanonicalUser, ID: CanonicalUserID(b.Account), Permission: "FULL_CONTROL"}}
	}
	return slices.Clone(b.ACL)
}

// objectOwnership is a bucket's Object Ownership, "" read as S3's default.
func (b *Bucket) objectOwnership() string {
	if b.ObjectOwnership == "" {
		return ObjectOwnershipEnforced
	}
	return b.ObjectOwnership
}

// aclIsPublic reports whether an ACL grants to AllUsers or
// AuthenticatedUsers.
func aclIsPublic(acl []BucketGrant) bool {
	return slices.ContainsFunc(acl, func(g BucketGrant) bool {
		return g.Type == GranteeGroup && (g.URI == GroupAllUsers || g.URI == GroupAuthenticatedUsers)
	})
}

// aclGrantsOthers reports whether an ACL grants to anyone but the owner.
func aclGrantsOthers(acl []BucketGrant, owner string) bool {
	id := CanonicalUserID(owner)
	return slices.ContainsFunc(acl, func(g BucketGrant) bool { return g.Type != GranteeCanonicalUser || g.ID != id })
}

// cannedACL returns the grants of a canned bucket ACL, false for a name
// S3 does not take for a bucket.
func cannedACL(name, owner string) ([]BucketGrant, bool) {
	own := BucketGrant{Type: GranteeCanonicalUser, ID: CanonicalUserID(owner), Permission: "FULL_CONTROL"}
	group := func(uri, perm string) BucketGrant { return BucketGrant{Type: GranteeGroup, URI: uri, Permission: perm} }
	switch name {
	case "private":
		return []BucketGrant{own}, true
	case "public-read":
		return []BucketGrant{own, group(GroupAllUsers, "READ")}, true
	case "public-read-write":
		return []BucketGrant{own, group(GroupAllUsers, "READ"), group(GroupAllUsers, "WRITE")}, true
	case "authenticated-read":
		return []BucketGrant{own, group(GroupAuthenticatedUsers, "READ")}, true
	case "log-delivery-write":
		return []BucketGrant{own, group(GroupLogDelivery, "WRITE"), group(GroupLogDelivery, "READ_ACP")}, true
	}
	return nil, false
}

// writeACLXML writes an AccessControlPolicy as S3 does.
func writeACLXML(owner string, acl []BucketGrant) []byte {
	var sb strings.Builder
	esc := func(s string) {
		xml.EscapeText(&sb, []byte(s))
	}
	sb.WriteString(xml.Header)
	sb.WriteString(`<AccessControlPolicy xmlns="` + s3Namespace + `"><Owner><ID>`)
	esc(CanonicalUserID(owner))
	sb.WriteString(`</ID></Owner><AccessControlList>`)
	for _, g := range acl {
		sb.WriteString(`<Grant><Grantee xmlns:xsi="` + xsiNamespace + `" xsi:type="`)
		esc(g.Type)
		sb.WriteString(`">`)
		if g.Type == GranteeGroup {
			sb.WriteString("<URI>")
			esc(g.URI)
			sb.WriteString("</URI>")
		} else {
			sb.WriteString("<ID>")
			esc(g.ID)
			sb.WriteString("</ID>")
		}
		sb.WriteString(`</Grantee><Permission>`)
		esc(g.Permission)
		sb.WriteString(`</Permission></Grant>`)
	}
	sb.WriteString(`</AccessControlList></AccessControlPolicy>`)
	return []byte(sb.String())
}

// s3GetBucketAcl answers a bucket's ACL.
func (s *Server) s3GetBucketAcl(req *s3Request) (*s3Answer, *apiError) {
	b, e := s.ownBucket(req, "GetBucketAcl")
	if e != nil {
		return nil, e
	}
	return &s3Answer{body: writeACLXML(b.Account, b.effectiveACL()), contentType: "application/xml"}, nil
}

type aclPolicyIn struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *struct {
		ID string
	}
	Grants []struct {
		Grantee *struct {
			Type         string `xml:"type,attr"`
			ID           string
			URI          string
			EmailAddress string
		}
		Permission string
	} `xml:"AccessControlList>Grant"`
}

func malformedACL() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MalformedACLError", message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

func unresolvableEmail() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "UnresolvableGrantByEmailAddress", message: "The email address you provided does not match any account on record."}
}

// checkGrantee validates a grantee by ID or group URI.
func checkGrantee(g BucketGrant) *apiError {
	switch g.Type {
	case GranteeCanonicalUser:
		if !canonicalID.MatchString(g.ID) {
			return &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Invalid id"}
		}
	case GranteeGroup:
		if !slices.Contains(aclGroups, g.URI) {
			return &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Invalid group uri"}
		}
	}
	return nil
}

// parseACLBody reads an AccessControlPolicy body.
func parseACLBody(body []byte) ([]BucketGrant, *apiError) {
	var in aclPolicyIn
	if err := xml.Unmarshal(body, &in); err != nil || in.Owner == nil || in.Owner.ID == "" {
		return nil, malformedACL()
	}
	acl := []BucketGrant{}
	for _, g := range in.Grants {
		if g.Grantee == nil || !slices.Contains(aclPermissions, g.Permission) {
			return nil, malformedACL()
		}
		out := BucketGrant{Type: g.Grantee.Type, Permission: g.Permission}
		switch g.Grantee.Type {
		case GranteeCanonicalUser:
			out.ID = strings.TrimSpace(g.Grantee.ID)
		case GranteeGroup:
			out.URI = strings.TrimSpace(g.Grantee.URI)
		case "AmazonCustomerByEmail":
			return nil, unresolvableEmail()
		default:
			return nil, malformedACL()
		}
		if e := checkGrantee(out); e != nil {
			return nil, e
		}
		acl = append(acl, out)
	}
	return acl, nil
}

// grantHeaders reads the x-amz-grant-* headers, nil when there are none.
func grantHeaders(h http.Header) ([]BucketGrant, *apiError) {
	var acl []BucketGrant
	for _, perm := range aclPermissions {
		v := h.Get("X-Amz-Grant-" + strings.ReplaceAll(strings.ReplaceAll(perm, "FULL_CONTROL", "Full-Control"), "_", "-"))
		if v == "" {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			val = strings.Trim(strings.TrimSpace(val), `"`)
			if !ok || val == "" {
				return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Argument format not recognized"}
			}
			g := BucketGrant{Permission: perm}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "id":
				g.Type, g.ID = GranteeCanonicalUser, val
			case "uri":
				g.Type, g.URI = GranteeGroup, val
			case "emailaddress":
				return nil, unresolvableEmail()
			default:
				return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Argument format not recognized"}
			}
			if e := checkGrantee(g); e != nil {
				return nil, e
			}
			acl = append(acl, g)
		}
	}
	return acl, nil
}

// s3PutBucketAcl replaces a bucket's ACL.
func (s *Server) s3PutBucketAcl(req *s3Request) (*s3Answer, *apiError) {
	canned := req.r.Header.Get("X-Amz-Acl")
	headerGrants, e := grantHeaders(req.r.Header)
	if e != nil {
		return nil, e
	}
	body := len(strings.TrimSpace(string(req.auth.body))) > 0
	switch {
	case canned != "" && headerGrants != nil:
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidRequest", message: "Specifying both Canned ACLs and Header Grants is not allowed"}
	case (canned != "" || headerGrants != nil) && body:
		return nil, &apiError{status: http.StatusBadRequest, code: "UnexpectedContent", message: "This request does not support content"}
	}
	var acl []BucketGrant
	switch {
	case canned != "":
		var ok bool
		if acl, ok = cannedACL(canned, req.auth.caller.account); !ok {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: "Invalid canned ACL: " + canned}
		}
	case headerGrants != nil:
		acl = headerGrants
	case body:
		if acl, e = parseACLBody(req.auth.body); e != nil {
			return nil, e
		}
	default:
		return nil, malformedACL()
	}
	return s.s3Mutate(req, "PutBucketAcl", "PutBucketAcl", func(b *Bucket) *apiError {
		if b.objectOwnership() == ObjectOwnershipEnforced {
			return &apiError{status: http.StatusBadRequest, code: "AccessControlListNotSupported", message: "The bucket does not allow ACLs"}
		}
		if aclIsPublic(acl) && s.as.blockPublicAcls(b) {
			return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"}
		}
		b.ACL = acl
		return nil
	})
}

// blockPublicAcls reports whether BlockPublicAcls is on for a bucket or
// its account; the caller holds st.mu.
func (st *assetState) blockPublicAcls(b *Bucket) bool {
	if p := b.PublicAccessBlock; p != nil && p.BlockPublicAcls {
		return true
	}
	p := st.a.AccountPublicAccessBlocks[b.Account]
	return p != nil && p.BlockPublicAcls
}

type s3OwnershipControls struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		ObjectOwnership string
	} `xml:"Rule"`
}

// s3GetBucketOwnershipControls answers a bucket's Object Ownership rule.
func (s *Server) s3GetBucketOwnershipControls(req *s3Request) (*s3Answer, *apiError) {
	b, e := s.ownBucket(req, "GetBucketOwnershipControls")
	if e != nil {
		return nil, e
	}
	out := s3OwnershipControls{Xmlns: s3Namespace}
	out.Rules = append(out.Rules, struct{ ObjectOwnership string }{b.objectOwnership()})
	return xmlAnswer(out)
}

// validObjectOwnership reports whether v is an Object Ownership setting.
func validObjectOwnership(v string) bool {
	return v == ObjectOwnershipEnforced || v == ObjectOwnershipPreferred || v == ObjectOwnershipObjectWriter
}

// s3PutBucketOwnershipControls sets a bucket's Object Ownership.
func (s *Server) s3PutBucketOwnershipControls(req *s3Request) (*s3Answer, *apiError) {
	var in s3OwnershipControls
	if err := xml.Unmarshal(req.auth.body, &in); err != nil || len(in.Rules) != 1 || !validObjectOwnership(in.Rules[0].ObjectOwnership) {
		return nil, &apiError{status: http.StatusBadRequest, code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	v := in.Rules[0].ObjectOwnership
	return s.s3Mutate(req, "PutBucketOwnershipControls", "PutBucketOwnershipControls", func(b *Bucket) *apiError {
		if v == ObjectOwnershipEnforced && aclGrantsOthers(b.effectiveACL(), b.Account) {
			return &apiError{status: http.StatusBadRequest, code: "InvalidBucketAclWithObjectOwnership",
				message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
		}
		b.ObjectOwnership = v
		return nil
	})
}

// configACL is a bucket's ACL as AWS Config's AccessControlList
// supplementary configuration encodes it: a JSON string of grantSet,
// grantList (a canonical user grantee {"id","displayName"}, a group the
// bare string AllUsers, AuthenticatedUsers or LogDelivery; permissions
// FullControl, Read, Write, ReadAcp, WriteAcp), owner and
// isRequesterCharged.
func configACL(b *Bucket) string {
	type grantee struct {
		ID          string  `json:"id"`
		DisplayName *string `json:"displayName"`
	}
	type grant struct {
		Grantee    any    `json:"grantee"`
		Permission string `json:"permission"`
	}
	type owner struct {
		DisplayName *string `json:"displayName"`
		ID          string  `json:"id"`
	}
	type acl struct {
		GrantSet           any     `json:"grantSet"`
		GrantList          []grant `json:"grantList"`
		Owner              owner   `json:"owner"`
		IsRequesterCharged bool    `json:"isRequesterCharged"`
	}
	perms := map[string]string{"FULL_CONTROL": "FullControl", "READ": "Read", "WRITE": "Write", "READ_ACP": "ReadAcp", "WRITE_ACP": "WriteAcp"}
	groups := map[string]string{GroupAllUsers: "AllUsers", GroupAuthenticatedUsers: "AuthenticatedUsers", GroupLogDelivery: "LogDelivery"}
	out := acl{GrantList: []grant{}, Owner: owner{ID: CanonicalUserID(b.Account)}}
	for _, g := range b.effectiveACL() {
		var who any = grantee{ID: g.ID}
		if g.Type == GranteeGroup {
			who = groups[g.URI]
		}
		out.GrantList = append(out.GrantList, grant{Grantee: who, Permission: perms[g.Permission]})
	}
	data, _ := json.Marshal(out)
	return string(data)
}
