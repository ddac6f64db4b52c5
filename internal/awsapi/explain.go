package awsapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/warden-iam/warden/internal/setup"
)

// Explain turns an error from an AWS call made through a Session into a
// one-line problem and the fix for it, for people rather than logs: missing
// or expired credentials, a credential AWS does not recognise, a missing
// permission (naming the IAM action), an endpoint that cannot be reached,
// and throttling that outlasted every retry. Any other error is returned as
// its own message with an empty fix. Neither line ever contains a secret:
// AWS error messages name identities and actions, never keys.
func Explain(err error) (problem, fix string) {
	if err == nil {
		return "", ""
	}
	action := actionOf(err)
	for _, e := range explainers {
		if p, f, ok := e(err, action); ok {
			return p, f
		}
	}
	msg := oneLine(err.Error())
	var api smithy.APIError
	if errors.As(err, &api) {
		msg = oneLine(api.ErrorCode() + ": " + api.ErrorMessage())
	}
	if action != "" {
		return action + " failed: " + msg, ""
	}
	return msg, ""
}

// An explainer recognises one kind of failure.
type explainer func(err error, action string) (problem, fix string, ok bool)

// explainers are tried in order; the first that recognises the error wins.
var explainers = []explainer{
	explainAssumeRole,
	explainProfile,
	explainExpired,
	explainNoCredentials,
	explainUnknownKey,
	explainOrganizationMode,
	explainAccessDenied,
	explainThrottled,
	explainServerErrors,
	explainUnreachable,
}

// credentialHelp is how to give warden credentials.
const credentialHelp = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or --profile) naming a profile in ~/.aws/config (run `aws sso login` first for an SSO profile), or run where an instance or container role is available"

func explainProfile(err error, _ string) (string, string, bool) {
	var pe config.SharedConfigProfileNotExistError
	if !errors.As(err, &pe) {
		return "", "", false
	}
	return "AWS profile " + quote(pe.Profile) + " is not in the shared config files",
		"name a profile listed by `aws configure list-profiles`, or unset AWS_PROFILE", true
}

func explainExpired(err error, _ string) (string, string, bool) {
	code := apiCode(err)
	msg := err.Error()
	switch {
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
		return "the AWS credentials have expired (" + code + ")",
			"get fresh credentials: `aws sso login` for an SSO profile, or new temporary credentials from your identity provider", true
	case strings.Contains(msg, "SSO session has expired") || strings.Contains(msg, "refresh cached SSO token failed"):
		return "the AWS SSO session has expired",
			"run `aws sso login` (with --profile if you use one), then run warden again", true
	}
	return "", "", false
}

func explainNoCredentials(err error, _ string) (string, string, bool) {
	msg := err.Error()
	if !strings.Contains(msg, "get identity") && !strings.Contains(msg, "get credentials") &&
		!strings.Contains(msg, "failed to refresh cached credentials") {
		return "", "", false
	}
	// A provider that reached AWS and was refused (a profile's role_arn
	// that cannot be assumed, say) carries AWS's error.
	if code := apiCode(err); code != "" {
		return "getting AWS credentials failed: " + oneLine(code+": "+apiMessage(err)),
			"check the profile's role_arn and source credentials, or " + credentialHelp, true
	}
	return "no AWS credentials found: the SDK's chain (environment, profiles, SSO, instance role) gave none", credentialHelp, true
}

func explainUnknownKey(err error, _ string) (string, string, bool) {
	switch apiCode(err) {
	case "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException":
		return "AWS does not recognise the access key ID of these credentials (" + apiCode(err) + ")",
			"check AWS_ACCESS_KEY_ID or the profile's key: it may have been deleted or deactivated; " + credentialHelp, true
	case "SignatureDoesNotMatch", "IncompleteSignature":
		return "AWS rejected the request signature (" + apiCode(err) + "): the secret access key does not match the key ID",
			"check AWS_SECRET_ACCESS_KEY or the profile's secret, and that the system clock is right", true
	}
	return "", "", false
}

// notAuthorized extracts the caller from AWS's AccessDenied message, "User:
// arn:… is not authorized to perform: iam:… on resource: …".
var notAuthorized = regexp.MustCompile(`User: (\S+) is not authorized to perform: (\S+)`)

func explainAccessDenied(err error, action string) (string, string, bool) {
	denied, who, ok := Denied(err)
	if !ok {
		return "", "", false
	}
	if action == "" {
		action = denied
	}
	if who == "" {
		who = "the identity warden runs as"
	}
	fix := DeniedFix(action, who, setup.ModeRead, setup.ModeProvision)
	if action == "" {
		action = "the AWS action"
	}
	return "AWS denied " + action + " to " + who + " (" + apiCode(err) + ")", fix, true
}

// DeniedFix is what to do about AWS refusing action (may be "") to who:
// attach the policy `warden setup policy --for M` prints for the first
// mode M of modes whose table holds action, else a policy allowing action.
// With one mode and no action named, it is that mode's policy. A sync asks
// with ModeRead then ModeProvision, plan and apply with ModeProvision, so
// both say it in the same words.
func DeniedFix(action, who string, modes ...setup.Mode) string {
	for _, m := range modes {
		if action == "" && len(modes) == 1 || slices.Contains(setup.ActionsFor(m), action) {
			allows := "it allows " + action + " and every other call " + modeCalls[m]
			if action == "" {
				allows = "it allows every call " + modeCalls[m]
			}
			return "attach to " + who + " the policy `warden setup policy --for " + string(m) + "` prints: " + allows
		}
	}
	if action == "" {
		return "attach a policy allowing the refused AWS action to " + who + ", or run warden with credentials that have it"
	}
	return "attach a policy allowing " + action + " to " + who + ", or run warden with credentials that have it"
}

// modeCalls says which calls a mode's policy allows.
var modeCalls = map[setup.Mode]string{
	setup.ModeRead:      "a sync makes",
	setup.ModeProvision: "plan and apply make",
}

// Denied reports whether err is AWS refusing a call for a missing
// permission (AccessDenied, AccessDeniedException, UnauthorizedOperation,
// AuthorizationError) and names, as far as the error tells, the IAM action
// refused ("iam:AddUserToGroup") and the identity refused (an ARN); either
// is "" when the error does not say.
func Denied(err error) (action, who string, ok bool) {
	switch apiCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
	default:
		return "", "", false
	}
	action = actionOf(err)
	if m := notAuthorized.FindStringSubmatch(apiMessage(err)); m != nil {
		who = m[1]
		if action == "" {
			action = m[2]
		}
	}
	return action, who, true
}

// explainAssumeRole explains a member role AWS would not let warden assume.
// AWS gives the same AccessDenied whether the role is missing, its trust
// policy does not name the caller, or the ExternalId differs, so the fix
// names all three.
func explainAssumeRole(err error, action string) (string, string, bool) {
	var ae *AssumeRoleError
	if !errors.As(err, &ae) {
		return "", "", false
	}
	code := apiCode(err)
	switch code {
	case "AccessDenied", "AccessDeniedException":
	case "RegionDisabledException":
		return "cannot assume " + ae.RoleARN + ": STS is not activated in this region for account " + ae.AccountID,
			"activate the region in the account's IAM settings, or set another region", true
	default:
		return "", "", false
	}
	who := "warden's identity"
	if m := notAuthorized.FindStringSubmatch(apiMessage(err)); m != nil {
		who = m[1]
	}
	return "cannot assume " + ae.RoleARN + " in account " + ae.AccountID + ": AWS denied sts:AssumeRole to " + who +
			" (the role does not exist, its trust policy does not trust the caller, or the ExternalId does not match)",
		"deploy warden's role in the account (`warden setup stackset` for every account), or correct member_role_name " +
			"and external_id in warden.yaml; the role's trust policy must allow sts:AssumeRole to " + who + " with that ExternalId", true
}

// explainOrganizationMode explains organization mode asked of an account
// that cannot read the organization: one outside any organization, or a
// member account (AWS answers those AccessDeniedException).
func explainOrganizationMode(err error, action string) (string, string, bool) {
	if !strings.HasPrefix(action, "organizations:") {
		return "", "", false
	}
	switch apiCode(err) {
	case "AWSOrganizationsNotInUseException":
		return "organization mode needs an AWS Organization, but the account of these credentials is not in one",
			"sync this account alone (organization.enabled: false, or leave out --organization), or use credentials of an organization's management account", true
	case "AccessDeniedException", "AccessDenied":
		return "AWS denied " + action + ": organization mode must run in the organization's management account or a delegated administrator account, with " + action + " allowed",
			"use credentials of the management account (or register this account as a delegated administrator), with the policy of `warden setup policy --for read`", true
	}
	return "", "", false
}

func explainThrottled(err error, action string) (string, string, bool) {
	var ex *RetriesExhaustedError
	if !errors.As(err, &ex) || !isThrottle(err) {
		return "", "", false
	}
	if action == "" {
		action = "AWS"
	}
	return fmt.Sprintf("AWS kept throttling %s through every retry (%d attempts in %s, %d throttled)",
			action, ex.Attempts, ex.Elapsed.Round(time.Millisecond), ex.Throttled),
		"run warden again later, or lower --iam-rate: other tools may be using the account's IAM request quota", true
}

// explainServerErrors explains a call AWS kept failing (5xx) on every
// attempt the retry policy allowed.
func explainServerErrors(err error, action string) (string, string, bool) {
	var ex *RetriesExhaustedError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ex) || !errors.As(err, &re) || re.HTTPStatusCode() < 500 {
		return "", "", false
	}
	if action == "" {
		action = "the AWS call"
	}
	what := fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	if code := apiCode(err); code != "" {
		what = code + " (" + what + ")"
	}
	return fmt.Sprintf("AWS answered %s with %s on each of %d attempts in %s; warden stopped retrying",
			action, what, ex.Attempts, ex.Elapsed.Round(time.Millisecond)),
		"AWS (or the endpoint) is failing: check the AWS Health Dashboard or the endpoint, then run warden again", true
}

func explainUnreachable(err error, action string) (string, string, bool) {
	var send *smithyhttp.RequestSendError
	var urlErr *url.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if !errors.As(err, &send) && !errors.As(err, &urlErr) && !errors.As(err, &opErr) && !errors.As(err, &dnsErr) {
		return "", "", false
	}
	what := "the AWS endpoint"
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Host != "" {
			what += " " + u.Host
		}
	}
	cause := err
	switch {
	case errors.As(err, &dnsErr):
		cause = dnsErr
	case errors.As(err, &opErr):
		cause = opErr
	}
	problem := "cannot reach " + what
	if action != "" {
		problem += " for " + action
	}
	return problem + ": " + oneLine(lastClause(cause.Error())),
		"check your network, --endpoint and AWS_ENDPOINT_URL (for `warden fake-aws`, that it is running)", true
}

// actionOf names the IAM action of the failed call ("iam:ListAccessKeys"),
// or "" when err did not come from an AWS operation.
func actionOf(err error) string {
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		return ""
	}
	return callKey(op.ServiceID, op.OperationName)
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return ""
}

// lastClause keeps the end of a chain of wrapped messages ("a, b: c" → "c"),
// which names the actual cause.
func lastClause(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return `"` + s + `"`
}
