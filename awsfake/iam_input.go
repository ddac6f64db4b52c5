package awsfake

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// This file checks IAM's common parameters as IAM's input validation does:
// names, paths and tags, with its "1 validation error detected" messages.

// IAM's default account quotas the emulator enforces.
const (
	maxUsersPerAccount            = 5000
	maxGroupsPerAccount           = 300
	maxRolesPerAccount            = 1000
	maxPoliciesPerAccount         = 1500
	maxInstanceProfilesPerAccount = 1000
	maxTagsPerResource            = 50
)

var (
	iamNamePatternRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathRE           = regexp.MustCompile(`^(/|/[\x21-\x7f]+/)$`)
	tagKeyRE         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValueRE       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

// checkName checks an entity name parameter: [\w+=,.@-]+, at most max
// characters.
func checkName(name, param string, max int) *apiError {
	switch {
	case name == "":
		return errValidation("1 validation error detected: Value null at '" + param + "' failed to satisfy constraint: Member must not be null")
	case len(name) > max:
		return errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", name, param, max))
	case !iamNamePatternRE.MatchString(name):
		return errValidation("1 validation error detected: Value '" + name + "' at '" + param + "' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	return nil
}

// checkPath checks a Path parameter; "" is "/".
func checkPath(path string) (string, *apiError) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 || !pathRE.MatchString(path) {
		return "", errValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

// newNameAndPath reads and checks the name and Path of an IAM entity to
// create: the name is the request's parameter key (UserName, RoleName, …),
// at most max characters, reported as AWS names the member (userName).
func newNameAndPath(r *request, key string, max int) (name, path string, e *apiError) {
	name = r.get(key)
	if e := checkName(name, strings.ToLower(key[:1])+key[1:], max); e != nil {
		return "", "", e
	}
	path, e = checkPath(r.get("Path"))
	if e != nil {
		return "", "", e
	}
	return name, path, nil
}

// vacant refuses a new entity called name where m (one kind's entities by
// name) holds one of that name in any case, as IAM names are unique
// case-insensitively (EntityAlreadyExists with exists as its message), or
// where m is at the account's quota limit (LimitExceeded).
func vacant[V any](m map[string]V, name, exists, quota string, limit int) *apiError {
	for n := range m {
		if strings.EqualFold(n, name) {
			return errEntityExists(exists)
		}
	}
	if len(m) >= limit {
		return errLimit(fmt.Sprintf("Cannot exceed quota for %s: %d", quota, limit))
	}
	return nil
}

// tags reads and checks a Tags.member.N list.
func (r *request) tags() ([]Tag, *apiError) {
	var out []Tag
	seen := map[string]bool{}
	for i := 1; ; i++ {
		k, ok := r.form[fmt.Sprintf("Tags.member.%d.Key", i)]
		if !ok {
			break
		}
		t := Tag{Key: k[0], Value: r.get(fmt.Sprintf("Tags.member.%d.Value", i))}
		if !tagKeyRE.MatchString(t.Key) {
			return nil, errValidation("1 validation error detected: Value '" + t.Key + "' at 'tags." + fmt.Sprint(i) + ".member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+")
		}
		if !tagValueRE.MatchString(t.Value) {
			return nil, errValidation("1 validation error detected: Value '" + t.Value + "' at 'tags." + fmt.Sprint(i) + ".member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
		}
		if seen[strings.ToLower(t.Key)] {
			return nil, errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(t.Key)] = true
		out = append(out, t)
	}
	if len(out) > maxTagsPerResource {
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxTagsPerResource))
	}
	return out, nil
}

func errInvalidInput(msg string) *apiError {
	return &apiError{status: 400, code: "InvalidInput", message: msg}
}

// isARN reports whether s looks like an ARN.
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// lowerFirst lower-cases the first letter, as IAM names parameters in its
// validation messages (PolicyDocument → policyDocument).
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
