package setup

import (
	"fmt"
	"regexp"
)

// RoleOptions describe the integration role a template creates. Every field
// but Mode may be empty: the template then asks for it as a parameter when
// deployed (RoleName has a default). A value given becomes its parameter's
// default.
type RoleOptions struct {
	Mode Mode
	// RoleName defaults to WardenReadRole or WardenProvisionRole.
	RoleName string
	// TrustedPrincipalARN is who may assume the role: the ARN of the role or
	// user warden runs as, or an account id (any principal of that account
	// whose own policies allow it).
	TrustedPrincipalARN string
	// ExternalID is the ExternalId the role requires (see NewExternalID);
	// at least MinExternalIDLength characters.
	ExternalID string
}

// DefaultRoleName returns the role name a template uses for a mode.
func DefaultRoleName(m Mode) string {
	if m == ModeProvision {
		return "WardenProvisionRole"
	}
	return "WardenReadRole"
}

// Patterns the templates enforce on their parameters (CloudFormation
// AllowedPattern syntax, which RE2 also reads).
const (
	principalPattern  = `^(arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(user|role)/[\w+=,.@/-]+)|[0-9]{12})$`
	externalIDPattern = `^[\w+=,.@:/-]+$`
	roleNamePattern   = `^[\w+=,.@-]+$`
)

var (
	principalRE  = regexp.MustCompile(principalPattern)
	externalIDRE = regexp.MustCompile(externalIDPattern)
	roleNameRE   = regexp.MustCompile(roleNamePattern)
)

// check validates the options, saying what to fix. The ExternalId is never
// repeated.
func (o RoleOptions) check() error {
	if _, err := ParseMode(string(o.Mode)); err != nil {
		return fmt.Errorf("role options: %w", err)
	}
	if o.RoleName != "" && (len(o.RoleName) > 64 || !roleNameRE.MatchString(o.RoleName)) {
		return fmt.Errorf("role name %q: use 1 to 64 letters, digits and +=,.@_-", o.RoleName)
	}
	if o.TrustedPrincipalARN != "" && !principalRE.MatchString(o.TrustedPrincipalARN) {
		return fmt.Errorf("trusted principal %q: give an IAM role or user ARN (arn:aws:iam::<account>:role/<name>) or a 12-digit account id", o.TrustedPrincipalARN)
	}
	if n := len(o.ExternalID); o.ExternalID != "" && (n < MinExternalIDLength || n > 1224) {
		return fmt.Errorf("external id has %d characters; use %d to 1224 (`warden setup external-id` makes one)", n, MinExternalIDLength)
	}
	if o.ExternalID != "" && !externalIDRE.MatchString(o.ExternalID) {
		return fmt.Errorf("external id has characters AWS does not accept; use letters, digits and +=,.@:/-_ (`warden setup external-id` makes one)")
	}
	return nil
}

// template is a CloudFormation template. Parameters, Resources and Outputs
// are maps, so their keys come out sorted.
type template struct {
	AWSTemplateFormatVersion string               `json:"AWSTemplateFormatVersion"`
	Description              string               `json:"Description"`
	Parameters               map[string]parameter `json:"Parameters"`
	Resources                map[string]resource  `json:"Resources"`
	Outputs                  map[string]output    `json:"Outputs"`
}

// parameter is a template parameter; an empty Default makes it required.
type parameter struct {
	Type                  string   `json:"Type"`
	Description           string   `json:"Description"`
	Default               string   `json:"Default,omitempty"`
	NoEcho                bool     `json:"NoEcho,omitempty"`
	MinLength             int      `json:"MinLength,omitempty"`
	MaxLength             int      `json:"MaxLength,omitempty"`
	AllowedPattern        string   `json:"AllowedPattern,omitempty"`
	AllowedValues         []string `json:"AllowedValues,omitempty"`
	ConstraintDescription string   `json:"ConstraintDescription,omitempty"`
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

type output struct {
	Description string `json:"Description"`
	Value       any    `json:"Value"`
}

// ref is CloudFormation's {"Ref": name}.
func ref(name string) map[string]any { return map[string]any{"Ref": name} }

// roleParameters are the parameters of the role template, with o's values
// as defaults.
func roleParameters(o RoleOptions) map[string]parameter {
	roleName := o.RoleName
	if roleName == "" {
		roleName = DefaultRoleName(o.Mode)
	}
	return map[string]parameter{
		"TrustedPrincipalArn": {
			Type:                  "String",
			Description:           "Who may assume the role: the ARN of the IAM role or user warden runs as, or a 12-digit account id.",
			Default:               o.TrustedPrincipalARN,
			AllowedPattern:        principalPattern,
			ConstraintDescription: "an IAM role or user ARN, or a 12-digit account id",
		},
		"ExternalId": {
			Type:                  "String",
			Description:           "The ExternalId warden must present (make one with `warden setup external-id`).",
			Default:               o.ExternalID,
			NoEcho:                true,
			MinLength:             MinExternalIDLength,
			MaxLength:             1224,
			AllowedPattern:        externalIDPattern,
			ConstraintDescription: fmt.Sprintf("%d to 1224 letters, digits and +=,.@:/-_", MinExternalIDLength),
		},
		"RoleName": {
			Type:                  "String",
			Description:           "Name of the role to create.",
			Default:               roleName,
			MaxLength:             64,
			AllowedPattern:        roleNamePattern,
			ConstraintDescription: "1 to 64 letters, digits and +=,.@_-",
		},
	}
}

// roleTemplate is the template of the integration role with the policy for
// the given features of o.Mode.
func roleTemplate(o RoleOptions, fs []Feature, description string) (template, error) {
	if err := o.check(); err != nil {
		return template{}, err
	}
	policy, err := policyFor(o.Mode, fs)
	if err != nil {
		return template{}, err
	}
	trust := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "WardenAssumeWithExternalId",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": ref("TrustedPrincipalArn")},
			"Action":    "sts:AssumeRole",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"sts:ExternalId": ref("ExternalId")},
			},
		}},
	}
	role := resource{
		Type: "AWS::IAM::Role",
		Properties: map[string]any{
			"RoleName":                 ref("RoleName"),
			"Description":              fmt.Sprintf("Lets warden %s this account. Generated by warden setup.", modeVerb(o.Mode)),
			"MaxSessionDuration":       3600,
			"AssumeRolePolicyDocument": trust,
			"Policies": []any{map[string]any{
				"PolicyName":     "warden-" + string(o.Mode),
				"PolicyDocument": policy,
			}},
			"Tags": []any{
				map[string]any{"Key": "managed-by", "Value": "warden"},
				map[string]any{"Key": "warden-mode", "Value": string(o.Mode)},
			},
		},
	}
	return template{
		AWSTemplateFormatVersion: "2010-09-09",
		Description:              description,
		Parameters:               roleParameters(o),
		Resources:                map[string]resource{"WardenRole": role},
		Outputs: map[string]output{
			"RoleArn": {
				Description: "ARN of the role: warden.yaml credentials.role_arn, or the member role of organization mode.",
				Value:       map[string]any{"Fn::GetAtt": []string{"WardenRole", "Arn"}},
			},
		},
	}, nil
}

// modeVerb says what a mode lets warden do.
func modeVerb(m Mode) string {
	if m == ModeProvision {
		return "read and provision identities in"
	}
	return "read identities and access in"
}
