package effective

import (
	"context"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// This file takes the assets' own resource policies (bucket, key, function
// and secret policies) and the organization's resource control policies
// into the requests `can` and `who-can` decide, with the rules AWS adds
// for them: a KMS key policy must allow (IAM policies count only where it
// delegates to the account), and a bucket's Block Public Access
// RestrictPublicBuckets confines a public bucket policy to the bucket
// owner's account and AWS services.

// assetID is the ID of the asset a resource ARN is or is inside, "" for
// none: the bucket of arn:aws:s3:::b and arn:aws:s3:::b/key, a Lambda
// function without its version or alias qualifier, a KMS key's or a
// secret's own ARN. A pattern ("arn:aws:s3:::*") names no asset.
func assetID(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return ""
	}
	switch p[2] {
	case "s3":
		bucket, _, _ := strings.Cut(p[5], "/")
		if p[3] != "" || p[4] != "" || bucket == "" || strings.ContainsAny(bucket, "*?") {
			return ""
		}
		return "arn:" + p[1] + ":s3:::" + bucket
	case "lambda":
		f := strings.SplitN(p[5], ":", 3)
		if len(f) < 2 || f[0] != "function" || strings.ContainsAny(f[1], "*?") {
			return ""
		}
		return strings.Join(p[:5], ":") + ":function:" + f[1]
	case "kms":
		if !strings.HasPrefix(p[5], "key/") || strings.ContainsAny(arn, "*?") {
			return ""
		}
		return arn
	case "secretsmanager":
		if !strings.HasPrefix(p[5], "secret:") || strings.ContainsAny(arn, "*?") {
			return ""
		}
		return arn
	}
	return ""
}

// assetOf is the asset (bucket, key, function, secret) a resource ARN is
// or is inside, nil when the snapshot holds none.
func (s *Snapshot) assetOf(ctx context.Context, resource string) (*model.Resource, error) {
	id := assetID(resource)
	if id == "" {
		return nil, nil
	}
	r, err := s.lookup(ctx, id)
	if err != nil || r == nil {
		return nil, err
	}
	if _, _, ok := model.ResourcePolicy(r); !ok {
		return nil, nil
	}
	return r, nil
}

// assetName names an asset in explanations: a bucket, function or secret
// by its name, a key by its ID.
func assetName(r *model.Resource) string {
	if r.Name != "" {
		return r.Name
	}
	return lastPart(r.ID)
}

// resourcePolicyOf is an asset's resource policy as the evaluator takes
// it ("bucket policy of logs"), nil when it has none: with a key's grants
// (grants.go) and a bucket's ACL grants (acl.go) as statements appended to
// it. A policy the sync could not read, or that does not parse, is noted.
// The answer is made once per asset and Snapshot.
func (s *Snapshot) resourcePolicyOf(ctx context.Context, asset *model.Resource, notes *[]string) (*policy.Named, error) {
	s.mu.Lock()
	c, ok := s.rpols[asset.ID]
	s.mu.Unlock()
	if !ok {
		var err error
		if c, err = s.makeResourcePolicy(ctx, asset); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.rpols[asset.ID] = c
		s.mu.Unlock()
	}
	*notes = append(*notes, c.notes...)
	return c.named, nil
}

// resourcePolicyFor is the resource policy that decides a request on
// resource inside asset: for a Lambda function's alias (function:NAME:ALIAS)
// the alias's own policy, which alone grants on the alias's ARN; for a
// version, none (versions' policies are not read), with a note; else the
// asset's (resourcePolicyOf).
func (s *Snapshot) resourcePolicyFor(ctx context.Context, asset *model.Resource, resource string, notes *[]string) (*policy.Named, error) {
	q := functionQualifier(resource)
	if asset.Function == nil || q == "" || q == "$LATEST" {
		return s.resourcePolicyOf(ctx, asset, notes)
	}
	a := asset.Function.Alias(q)
	switch {
	case a != nil:
		for _, u := range asset.Unread {
			if u == "alias_policy:"+q {
				*notes = append(*notes, "the policy of alias "+q+" of function "+asset.Name+" was not read by the sync: what it allows is unknown here")
			}
		}
		if a.Policy == "" {
			return nil, nil
		}
		p := s.doc(asset.ID+":"+q+"#policy", a.Policy)
		name := "function policy of " + asset.Name + ":" + q
		if p.err != nil {
			*notes = append(*notes, "the "+name+" could not be read: "+p.err.Error()+"; it allows nothing here")
		}
		return &policy.Named{Name: name, Via: "function policy", Doc: p.doc}, nil
	case slices.Contains(asset.Unread, "aliases"):
		*notes = append(*notes, "the aliases of function "+asset.Name+" were not read by the sync: the policy of "+q+" is unknown here")
	case strings.Trim(q, "0123456789") == "":
		*notes = append(*notes, "version "+q+" of function "+asset.Name+" has a policy of its own, which the sync does not read: only the identity side is decided here")
	default:
		*notes = append(*notes, "the snapshot holds no alias "+q+" of function "+asset.Name+": no resource policy grants on it")
	}
	return nil, nil
}

// functionQualifier is the qualifier of a Lambda function ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER, an alias or a
// version), "" for the unqualified function or another ARN.
func functionQualifier(arn string) string {
	p := strings.SplitN(arn, ":", 8)
	if len(p) == 8 && p[2] == "lambda" && p[5] == "function" {
		return p[7]
	}
	return ""
}

// resourcePolicy is an asset's resource policy made by makeResourcePolicy,
// and its notes.
type resourcePolicy struct {
	named *policy.Named
	notes []string
}

func (s *Snapshot) makeResourcePolicy(ctx context.Context, asset *model.Resource) (resourcePolicy, error) {
	var out resourcePolicy
	notes := &out.notes
	kind, text, _ := model.ResourcePolicy(asset)
	name := kind + " of " + assetName(asset)
	for _, u := range asset.Unread {
		switch {
		case u == "policy" && text == "":
			*notes = append(*notes, "the "+name+" was not read by the sync: what it allows is unknown here")
		case u == "grants":
			*notes = append(*notes, "the grants of "+assetName(asset)+" were not read by the sync: what they allow is unknown here")
		case u == "acl":
			*notes = append(*notes, "the ACL of "+assetName(asset)+" was not read by the sync: what it grants is unknown here")
		}
	}
	var extra []map[string]any
	what := "grants"
	switch {
	case asset.KMSKey != nil:
		extra = grantStatements(asset.KMSKey.Grants)
	case asset.Bucket != nil && asset.Bucket.ACL != nil:
		what = "ACL grants"
		owners, err := s.canonicalOwners(ctx, asset)
		if err != nil {
			return out, err
		}
		bpa, err := s.publicAccessBlockOf(ctx, asset)
		if err != nil {
			return out, err
		}
		extra = aclStatements(asset, owners, bpa.IgnorePublicAcls, notes)
	}
	if text == "" && len(extra) == 0 {
		if asset.KMSKey != nil {
			*notes = append(*notes, "the snapshot holds no "+name+": a KMS key is used only as its key policy (or a grant) allows")
		}
		return out, nil
	}
	if len(extra) == 0 {
		p := s.doc(asset.ID+"#policy", text)
		if p.err != nil {
			*notes = append(*notes, "the "+name+" could not be read: "+p.err.Error()+"; it allows nothing here")
		}
		out.named = &policy.Named{Name: name, Via: kind, Doc: p.doc}
		return out, nil
	}
	if text == "" && asset.KMSKey != nil {
		*notes = append(*notes, "the snapshot holds no "+name+": only its grants are taken here")
	}
	merged, err := withStatements(text, kind, extra)
	if err != nil {
		*notes = append(*notes, "the "+name+" could not be read: "+err.Error()+"; only its "+what+" are taken here")
		if merged, err = withStatements("", kind, extra); err != nil {
			return out, nil
		}
	}
	p := s.doc(asset.ID+"#policy+"+what, merged)
	if p.err != nil {
		*notes = append(*notes, "the "+name+" could not be read: "+p.err.Error()+"; it allows nothing here")
	}
	out.named = &policy.Named{Name: name, Via: kind, Doc: p.doc}
	return out, nil
}

// rcpServices are the service prefixes whose actions resource control
// policies apply to (AWS Organizations User Guide, "List of AWS services
// that support RCPs").
var rcpServices = map[string]bool{"s3": true, "sts": true, "kms": true, "sqs": true, "secretsmanager": true,
	"cognito-identity": true, "logs": true, "dynamodb": true, "ecr": true, "aoss": true}

// rcpsFor is the RCP chain a request for action on a resource of account
// applies: the chain of that account when it is a member account of the
// organization, the action's service supports RCPs, and the principal is
// not a service-linked role (RCPs do not restrict them); nil otherwise,
// with a note when the organization has RCPs and this is why they do not
// apply.
func (s *Snapshot) rcpsFor(ctx context.Context, action, account string, linked bool) ([]policy.Level, string, error) {
	if account == "" {
		return nil, "", nil
	}
	o, err := s.orgOf(ctx)
	if err != nil || !o.rcps {
		return nil, "", err
	}
	svc, _, _ := strings.Cut(strings.ToLower(action), ":")
	switch {
	case !rcpServices[svc]:
		return nil, "", nil
	case linked:
		return nil, "RCPs do not restrict service-linked roles", nil
	}
	l, err := s.rcpLevels(ctx, account)
	if err != nil {
		return nil, "", err
	}
	if l.levels == nil && strings.Contains(l.note, "management account") {
		return nil, l.note, nil
	}
	return l.levels, "", nil
}

// assetRules applies, after the evaluation, the rules AWS adds for an
// asset's resource policy: a KMS key is used only as its key policy or a
// grant allows (same-account IAM policies count only when the key policy
// delegates to the account, naming arn:aws:iam::ACCOUNT:root), and a
// bucket with a public policy under Block Public Access
// RestrictPublicBuckets admits only its owner's account and AWS services.
func assetRules(asset *model.Resource, bpa model.PublicAccessBlock, req *policy.Request, res policy.Result) policy.Result {
	if asset == nil || res.Decision == policy.ExplicitDeny || res.Decision == policy.ImplicitDeny {
		return res
	}
	kind, _, _ := model.ResourcePolicy(asset)
	name := kind + " of " + assetName(asset)
	switch {
	case asset.KMSKey != nil && !hasKind(res.Explanation, "resource"):
		return policy.Result{Decision: policy.ImplicitDeny, Explanation: []policy.Step{{Kind: "resource", Policy: name, Via: kind, Effect: "none",
			Note: "neither the " + name + " nor a grant of the key allows the principal, and the key policy does not let IAM policies allow it (no statement naming arn:aws:iam::" + asset.AccountID + ":root for the action): a KMS key is used only as its key policy or a grant allows"}}}
	case asset.Bucket != nil && bpa.RestrictPublicBuckets &&
		req.ResourcePolicy != nil && req.ResourcePolicy.Doc != nil && publicPolicy(req.ResourcePolicy.Doc):
		// RestrictPublicBuckets confines the policy; what the ACL grants
		// is IgnorePublicAcls's to judge (acl.go).
		if isService(req) || accountOfARN(req.Principal) == asset.AccountID || sessionAccount(req.Principal) == asset.AccountID || fromACL(res.Explanation) {
			return res
		}
		return policy.Result{Decision: policy.ImplicitDeny, Explanation: []policy.Step{{Kind: "resource", Policy: name, Via: "Block Public Access", Effect: "none",
			Note: "Block Public Access RestrictPublicBuckets (the bucket's or its account's) confines its public " + kind + " to the bucket owner's account " + asset.AccountID + " and AWS services: it grants nothing to other accounts"}}}
	}
	return res
}

// isService reports whether the request is made by an AWS service
// principal.
func isService(req *policy.Request) bool {
	v := req.Context["aws:principalisawsservice"]
	return len(v) == 1 && v[0] == "true"
}

// sessionAccount is the account of an assumed-role session ARN (whose
// account field accountOfARN reads too); "" for another principal.
func sessionAccount(arn string) string {
	if strings.Contains(arn, ":assumed-role/") {
		return accountOfARN(arn)
	}
	return ""
}

// narrowingKeys are the condition keys that, with fixed values, make a
// statement with Principal "*" not public (Amazon S3 User Guide, "The
// meaning of public").
var narrowingKeys = map[string]bool{"aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true, "aws:sourceaccount": true,
	"aws:sourceowner": true, "aws:principalaccount": true, "aws:principalarn": true, "aws:principalorgid": true, "aws:userid": true,
	"aws:sourceip": true, "s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true, "aws:principalorgpaths": true}

// publicPolicy reports whether a resource policy is public as S3 judges
// it: an Allow statement names anyone ("*") without a condition that fixes
// one of the narrowing keys to values with no wildcard. The statements
// that stand for ACL grants are not the policy's and do not count.
func publicPolicy(d *policy.Document) bool {
	for _, st := range d.Statement {
		if st.Effect != "Allow" || strings.HasPrefix(st.Sid, aclSidPrefix) {
			continue
		}
		anyone := false
		for k, vs := range st.Principal {
			for _, v := range vs {
				anyone = anyone || k == "*" || k == "AWS" && v == "*"
			}
		}
		if anyone && !narrowed(st.Condition) {
			return true
		}
	}
	return false
}

func narrowed(cond map[string]map[string][]string) bool {
	for op, keys := range cond {
		l := strings.ToLower(op)
		if strings.Contains(l, "not") || strings.HasSuffix(l, "ifexists") || strings.HasPrefix(l, "forallvalues") || l == "null" {
			continue
		}
		for k, vals := range keys {
			if !narrowingKeys[strings.ToLower(k)] || len(vals) == 0 {
				continue
			}
			fixed := true
			for _, v := range vals {
				fixed = fixed && !strings.ContainsAny(v, "*?") && v != "0.0.0.0/0" && v != "::/0"
			}
			if fixed {
				return true
			}
		}
	}
	return false
}

// publicAccessBlockOf is the Block Public Access that applies to a bucket:
// its own and its account's (the account_assets resource the sync wrote),
// each setting on when either is, as S3 applies them.
func (s *Snapshot) publicAccessBlockOf(ctx context.Context, asset *model.Resource) (model.PublicAccessBlock, error) {
	if asset == nil || asset.Bucket == nil {
		return model.PublicAccessBlock{}, nil
	}
	var account *model.PublicAccessBlock
	a, err := s.lookup(ctx, model.AccountAssetsID(asset.AccountID))
	if err != nil {
		return model.PublicAccessBlock{}, err
	}
	if a != nil && a.AccountAssets != nil {
		account = a.AccountAssets.PublicAccessBlock
	}
	return model.EffectivePublicAccessBlock(asset.Bucket.PublicAccessBlock, account), nil
}
