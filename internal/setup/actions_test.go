package setup

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// sdkClients maps each IAM action prefix to the SDK client whose methods are
// that service's API operations. (Identity Center's admin API, ssoadmin,
// uses the IAM prefix "sso".)
var sdkClients = map[string]reflect.Type{
	"cloudtrail":     reflect.TypeOf(&cloudtrail.Client{}),
	"config":         reflect.TypeOf(&configservice.Client{}),
	"s3control":      reflect.TypeOf(&s3control.Client{}),
	"ec2":            reflect.TypeOf(&ec2.Client{}),
	"kms":            reflect.TypeOf(&kms.Client{}),
	"lambda":         reflect.TypeOf(&lambda.Client{}),
	"s3":             reflect.TypeOf(&s3.Client{}),
	"secretsmanager": reflect.TypeOf(&secretsmanager.Client{}),
	"iam":            reflect.TypeOf(&iam.Client{}),
	"identitystore":  reflect.TypeOf(&identitystore.Client{}),
	"organizations":  reflect.TypeOf(&organizations.Client{}),
	"sso":            reflect.TypeOf(&ssoadmin.Client{}),
	"sts":            reflect.TypeOf(&sts.Client{}),
}

var actionPattern = regexp.MustCompile(`^([a-z0-9]+):([A-Z][A-Za-z0-9]+)$`)

func TestTableIsWellFormed(t *testing.T) {
	if len(Actions) != len(features) {
		t.Errorf("Actions has %d features, features has %d: every feature needs both a row of actions and a mode and scope", len(Actions), len(features))
	}
	for f := range features {
		if _, ok := Actions[f]; !ok {
			t.Errorf("feature %q has a mode and scope but no actions", f)
		}
	}
	for f, actions := range Actions {
		if _, ok := features[f]; !ok {
			t.Errorf("feature %q has actions but no mode and scope in features", f)
		}
		if len(actions) == 0 {
			t.Errorf("feature %q lists no actions", f)
		}
		seen := map[string]bool{}
		for _, a := range actions {
			if seen[a] {
				t.Errorf("feature %q lists %s twice", f, a)
			}
			seen[a] = true
			m := actionPattern.FindStringSubmatch(a)
			if m == nil {
				t.Errorf("feature %q: %q is not service:Action", f, a)
				continue
			}
			if serviceNames[m[1]] == "" {
				t.Errorf("feature %q: %q has a prefix with no entry in serviceNames", f, a)
			}
		}
	}
}

// TestActionsAreRealOperations checks every action of the table against the
// AWS SDK: each must be an operation of its service's client, so a
// misspelt action cannot reach a customer's policy.
func TestActionsAreRealOperations(t *testing.T) {
	for _, f := range Features() {
		for _, a := range Actions[f] {
			prefix, op, _ := strings.Cut(a, ":")
			client, ok := sdkClients[prefix]
			if !ok {
				t.Errorf("%s (feature %s): no SDK client known for prefix %q; add it to sdkClients", a, f, prefix)
				continue
			}
			if o, ok := Operations[a]; ok {
				op = o
				if p, o, ok := strings.Cut(o, ":"); ok {
					client, op = sdkClients[p], o
				}
			}
			if _, ok := client.MethodByName(op); !ok {
				t.Errorf("%s (feature %s): %s has no operation %s", a, f, client, op)
			}
		}
	}
}

// TestOptInFeatures: the asset features are built but in no default
// policy; named, their actions are in it, and nothing else.
func TestOptInFeatures(t *testing.T) {
	for _, f := range []Feature{FeatureAssetsRegions, FeatureAssetsEC2, FeatureAssetsS3, FeatureAssetsKMS, FeatureAssetsLambda, FeatureAssetsSecretsManager, FeatureAssetsConfig} {
		if !Built(f) || !OptIn(f) {
			t.Errorf("%s: built %v, opt-in %v", f, Built(f), OptIn(f))
		}
		for _, m := range []Mode{ModeRead, ModeProvision} {
			if slices.Contains(FeaturesFor(m), f) {
				t.Errorf("%s is in the default %s policy", f, m)
			}
		}
	}
	doc, err := policyFor(ModeRead, []Feature{FeatureAssetsS3})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Sid != "WardenS3Read" || !slices.Equal(doc.Statement[0].Action, []string{"s3:GetAccountPublicAccessBlock", "s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:ListAllMyBuckets"}) {
		t.Errorf("policy of assets-s3 = %+v, want the S3 statement with %v", doc.Statement, Actions[FeatureAssetsS3])
	}
}

func TestFeaturesFor(t *testing.T) {
	read, prov := FeaturesFor(ModeRead), FeaturesFor(ModeProvision)
	var wantRead, wantProv []Feature
	for _, f := range []Feature{FeatureAccessKeys, FeatureAssumeMemberRole, FeatureCloudTrailRead, FeatureCredentialReport,
		FeatureIAMLastAccessed, FeatureIAMRead, FeatureIdentity, FeatureIdentityCenterRead, FeatureOrganizationsRead} {
		if Built(f) {
			wantRead = append(wantRead, f)
		}
	}
	if !reflect.DeepEqual(read, wantRead) {
		t.Errorf("FeaturesFor(read) = %v, want %v", read, wantRead)
	}
	wantProv = slices.Clone(wantRead)
	for _, f := range []Feature{FeatureIAMProvision, FeatureIdentityCenterProvision} {
		if Built(f) {
			wantProv = append(wantProv, f)
		}
	}
	sortFeatures(wantProv)
	if !reflect.DeepEqual(prov, wantProv) {
		t.Errorf("FeaturesFor(provision) = %v, want %v", prov, wantProv)
	}
	if got := FeaturesFor("write"); len(got) != 0 {
		t.Errorf("FeaturesFor(unknown) = %v, want none", got)
	}
	wantAccount := map[Mode][]Feature{
		ModeRead:      {FeatureAccessKeys, FeatureCloudTrailRead, FeatureCredentialReport, FeatureIAMLastAccessed, FeatureIAMRead, FeatureIdentity},
		ModeProvision: {FeatureAccessKeys, FeatureCloudTrailRead, FeatureCredentialReport, FeatureIAMLastAccessed, FeatureIAMProvision, FeatureIAMRead, FeatureIdentity},
	}
	for m, want := range wantAccount {
		want = slices.DeleteFunc(want, func(f Feature) bool { return !Built(f) })
		if got := AccountFeaturesFor(m); !reflect.DeepEqual(got, want) {
			t.Errorf("AccountFeaturesFor(%s) = %v, want %v", m, got, want)
		}
	}
}

func TestActionsFor(t *testing.T) {
	for _, m := range []Mode{ModeRead, ModeProvision} {
		got := ActionsFor(m)
		if !sort.StringsAreSorted(got) {
			t.Errorf("ActionsFor(%s) is not sorted", m)
		}
		want := map[string]bool{}
		for _, f := range FeaturesFor(m) {
			for _, a := range Actions[f] {
				want[a] = true
			}
		}
		if len(got) != len(want) {
			t.Errorf("ActionsFor(%s) has %d actions, the table %d (duplicates?)", m, len(got), len(want))
		}
		for _, a := range got {
			if !want[a] {
				t.Errorf("ActionsFor(%s) has %s, which no feature of the mode lists", m, a)
			}
		}
	}
	read := ActionsFor(ModeRead)
	for _, a := range []string{"iam:CreateUser", "sso:CreateAccountAssignment", "identitystore:DeleteUser"} {
		if slices.Contains(read, a) {
			t.Errorf("ActionsFor(read) includes the write action %s", a)
		}
	}
	prov := ActionsFor(ModeProvision)
	for _, a := range read {
		if !slices.Contains(prov, a) {
			t.Errorf("ActionsFor(provision) lacks the read action %s", a)
		}
	}
}

func TestParseAndLookups(t *testing.T) {
	if m, err := ParseMode("provision"); err != nil || m != ModeProvision {
		t.Errorf("ParseMode(provision) = %q, %v", m, err)
	}
	if _, err := ParseMode("admin"); err == nil || !strings.Contains(err.Error(), "use read or provision") {
		t.Errorf("ParseMode(admin) error = %v", err)
	}
	if f, err := ParseFeature("iam-read"); err != nil || f != FeatureIAMRead {
		t.Errorf("ParseFeature(iam-read) = %q, %v", f, err)
	}
	if _, err := ParseFeature("iam-write"); err == nil || !strings.Contains(err.Error(), "access-keys, assets-config, assets-ec2, assets-kms") {
		t.Errorf("ParseFeature(iam-write) error = %v, want the list of features", err)
	}
	if got := FeaturesCalling("sso:ListTagsForResource"); !reflect.DeepEqual(got, []Feature{FeatureIdentityCenterRead}) {
		t.Errorf("FeaturesCalling(sso:ListTagsForResource) = %v", got)
	}
	if got := FeaturesCalling("iam:PassRole"); got != nil {
		t.Errorf("FeaturesCalling(iam:PassRole) = %v, want none", got)
	}
	if ScopeOf(FeatureOrganizationsRead) != ScopeOrganization || ModeOf(FeatureIAMProvision) != ModeProvision || ScopeOf("nope") != "" {
		t.Error("ScopeOf/ModeOf disagree with the table")
	}
	if DefaultRoleName(ModeRead) != "WardenReadRole" || DefaultRoleName(ModeProvision) != "WardenProvisionRole" {
		t.Error("DefaultRoleName")
	}
}
