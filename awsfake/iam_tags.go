package awsfake

import (
	"fmt"
	"strings"
)

// This file holds IAM's tagging actions for users, roles and customer
// managed policies: a tag whose key is already there (keys compare
// without case) replaces it, at most 50 tags a resource, and untagging a
// key that is not there is no error.

// iamTagHandlers serve the tagging actions.
var iamTagHandlers = map[string]iamHandler{
	"TagUser":        tagResource("User"),
	"UntagUser":      untagResource("User"),
	"ListUserTags":   listTags("User"),
	"TagRole":        tagResource("Role"),
	"UntagRole":      untagResource("Role"),
	"ListRoleTags":   listTags("Role"),
	"TagPolicy":      tagResource("Policy"),
	"UntagPolicy":    untagResource("Policy"),
	"ListPolicyTags": listTags("Policy"),
}

// tagsOf finds the tags of the user, role or customer managed policy an
// action names.
func tagsOf(a *Account, r *request, kind string) (*[]Tag, *apiError) {
	switch kind {
	case "User":
		u, e := userOf(a, r)
		if e != nil {
			return nil, e
		}
		return &u.Tags, nil
	case "Role":
		ro, e := roleOf(a, r)
		if e != nil {
			return nil, e
		}
		return &ro.Tags, nil
	}
	p, e := localPolicyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	return &p.Tags, nil
}

// tagResource serves Tag{User,Role,Policy}.
func tagResource(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		ts, e := tagsOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		add, e := r.tags()
		if e != nil {
			return nil, e
		}
		if len(add) == 0 {
			return nil, errValidation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
		}
		merged := append([]Tag{}, *ts...)
		for _, t := range add {
			replaced := false
			for i := range merged {
				if strings.EqualFold(merged[i].Key, t.Key) {
					merged[i], replaced = t, true
				}
			}
			if !replaced {
				merged = append(merged, t)
			}
		}
		if len(merged) > maxTagsPerResource {
			return nil, errLimit(fmt.Sprintf("Cannot exceed quota for TagsPer%s: %d", kind, maxTagsPerResource))
		}
		*ts = merged
		return fields{}, nil
	}
}

// untagResource serves Untag{User,Role,Policy}.
func untagResource(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		ts, e := tagsOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		keys := r.memberList("TagKeys")
		if len(keys) == 0 {
			return nil, errValidation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
		}
		var kept []Tag
		for _, t := range *ts {
			drop := false
			for _, k := range keys {
				if strings.EqualFold(k, t.Key) {
					drop = true
				}
			}
			if !drop {
				kept = append(kept, t)
			}
		}
		*ts = kept
		return fields{}, nil
	}
}

// listTags serves List{User,Role,Policy}Tags.
func listTags(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		ts, e := tagsOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		return paged(r, toAny(tags(*ts)), "Tags")
	}
}
