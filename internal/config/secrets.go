package config

import (
	"fmt"
	"os"
	"strings"
)

// secretKeyMessage says why a key that would hold a secret is refused and
// where the secret goes instead. It reports false for other keys. The
// message never includes the key's value.
func secretKeyMessage(key string) (string, bool) {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(key))
	switch k {
	case "token", "scimtoken", "bearertoken", "accesstoken", "apitoken", "authtoken":
		return "is refused: tokens are never written in warden.yaml; put the token in an environment variable and set token_env to its name, or in a file only you can read and set token_file to its path", true
	case "secretaccesskey", "awssecretaccesskey", "secretkey", "accesskeyid", "awsaccesskeyid",
		"accesskey", "sessiontoken", "awssessiontoken":
		return "is refused: AWS keys are never written in warden.yaml; use credentials source: environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or any source of the SDK's default chain) or source: profile with a profile from ~/.aws/credentials", true
	case "password", "passwd", "secret", "clientsecret", "privatekey":
		return "is refused: secrets are never written in warden.yaml; keep the secret in an environment variable or a file and name that instead", true
	}
	return "", false
}

// ResolveExternalID returns the ExternalId for assuming RoleARN: the inline
// value, or the value of the environment variable ExternalIDEnv names. It
// returns "" with no error when neither is set.
func (c Credentials) ResolveExternalID() (string, error) {
	return resolveExternalID(c.ExternalID, c.ExternalIDEnv, "credentials")
}

// ResolveExternalID returns the ExternalId for assuming the member role in
// each account, read the same way as Credentials.ResolveExternalID.
func (o Organization) ResolveExternalID() (string, error) {
	return resolveExternalID(o.ExternalID, o.ExternalIDEnv, "organization")
}

func resolveExternalID(inline, env, section string) (string, error) {
	if env == "" {
		return inline, nil
	}
	v := os.Getenv(env)
	if v == "" {
		return "", fmt.Errorf("%s.external_id_env: environment variable %s is unset or empty; export it with the ExternalId (see `warden setup external-id`)", section, env)
	}
	if msg := externalIDProblem(v); msg != "" {
		return "", fmt.Errorf("%s.external_id_env: the value of %s %s", section, env, msg)
	}
	return v, nil
}

// Token reads the SCIM bearer token from the environment variable TokenEnv
// or the file TokenFile, with surrounding white space removed. Errors never
// include the token.
func (s SCIM) Token() (string, error) {
	switch {
	case s.TokenEnv != "":
		v := strings.TrimSpace(os.Getenv(s.TokenEnv))
		if v == "" {
			return "", fmt.Errorf("scim.token_env: environment variable %s is unset or empty; export it with the SCIM access token from the Identity Center console (Settings → Automatic provisioning)", s.TokenEnv)
		}
		return v, nil
	case s.TokenFile != "":
		b, err := os.ReadFile(s.TokenFile)
		if err != nil {
			return "", fmt.Errorf("scim.token_file: read the SCIM token: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("scim.token_file: %s is empty; write the SCIM access token from the Identity Center console into it", s.TokenFile)
		}
		return v, nil
	}
	return "", fmt.Errorf("scim: no token configured; set scim.token_env or scim.token_file")
}
