package awsfake

import (
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// Estate describes a generated account. Zero fields take the defaults
// documented on each field. Build is deterministic: the same Estate always
// yields the same Account.
type Estate struct {
	AccountID string // default "123456789012"
	Alias     string
	Users     int
	Groups    int
	Roles     int
	Policies  int // customer managed policies
	Seed      int64
	Now       time.Time // reference clock for every date; default 2026-11-01T00:00:00Z
}

// defaultEstateNow is an Estate's reference clock when it sets none.
var defaultEstateNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "wendy", "zoe"}
	lastNames  = []string{"smith", "jones", "garcia", "miller", "davis", "lopez", "wilson", "moore", "taylor", "thomas", "white", "harris", "martin", "clark", "lewis"}
	teams      = []string{"platform", "data", "payments", "security", "mobile", "web", "finance", "support"}
	regions    = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}
	services   = []string{"s3", "ec2", "iam", "sts", "lambda", "dynamodb", "cloudformation"}
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randID(rng *rand.Rand, prefix string, n int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < n; i++ {
		b.WriteByte(idAlphabet[rng.Intn(len(idAlphabet))])
	}
	return b.String()
}

func ago(now time.Time, rng *rand.Rand, maxDays int) time.Time {
	return now.Add(-time.Duration(rng.Intn(maxDays*24*3600)+60) * time.Second).Truncate(time.Second)
}

// Build generates the account.
func (e Estate) Build() *Account {
	if e.AccountID == "" {
		e.AccountID = "123456789012"
	}
	if e.Now.IsZero() {
		e.Now = defaultEstateNow
	}
	rng := rand.New(rand.NewSource(e.Seed))
	now := e.Now
	acct := e.AccountID
	a := &Account{ID: acct, Alias: e.Alias, CreatedAt: now.AddDate(-5, 0, 0), IAM: &IAM{
		Users: map[string]*User{}, Groups: map[string]*Group{}, Roles: map[string]*Role{}, Policies: map[string]*ManagedPolicy{},
		InstanceProfiles: map[string]*InstanceProfile{},
		Root:             RootUser{MFAActive: rng.Intn(4) != 0, CreatedAt: now.AddDate(-5, 0, 0), AccessKey1Active: rng.Intn(10) == 0},
	}}
	if rng.Intn(2) == 0 {
		t := ago(now, rng, 200)
		a.IAM.Root.PasswordLastUsed = &t
	}
	arn := func(kind, path, name string) string { return "arn:aws:iam::" + acct + ":" + kind + path + name }
	seen := map[string]bool{}
	unique := func(id string) string {
		for seen[id] {
			id += "X"
		}
		seen[id] = true
		return id
	}

	// Customer managed policies, 1–4 versions each.
	var customer []string
	for i := 0; i < e.Policies; i++ {
		name := fmt.Sprintf("%s-%s-policy-%d", teams[i%len(teams)], []string{"s3", "ec2", "dynamodb", "logs"}[rng.Intn(4)], i)
		path := []string{"/", "/teams/", "/boundaries/"}[rng.Intn(3)]
		created := ago(now, rng, 1500)
		p := &ManagedPolicy{Name: name, ID: unique(randID(rng, "ANPA", 17)), Path: path, ARN: arn("policy", path, name),
			Description: "Access for " + teams[i%len(teams)] + " workloads", CreatedAt: created, IsAttachable: true}
		versions := 1 + rng.Intn(4)
		for v := 1; v <= versions; v++ {
			doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Rev%dAccess","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::%s-bucket-%d/*","Condition":{"StringEquals":{"aws:RequestTag/team":"%s team Ä"}}}]}`, v, teams[i%len(teams)], v, teams[i%len(teams)])
			p.Versions = append(p.Versions, &PolicyVersion{ID: fmt.Sprintf("v%d", v), Document: doc, CreatedAt: created.Add(time.Duration(v) * time.Hour)})
		}
		p.DefaultVersionID = p.Versions[rng.Intn(versions)].ID
		p.UpdatedAt = p.Versions[versions-1].CreatedAt
		a.IAM.Policies[p.ARN] = p
		customer = append(customer, p.ARN)
	}
	var awsManaged []string
	for _, p := range AWSManagedPolicies() {
		awsManaged = append(awsManaged, p.ARN)
	}
	// pickPolicies chooses up to n distinct managed policies (AWS allows 10).
	pickPolicies := func(n int) []string {
		var out []string
		picked := map[string]bool{}
		for len(out) < n {
			pool := awsManaged
			if len(customer) > 0 && rng.Intn(3) != 0 {
				pool = customer
			}
			p := pool[rng.Intn(len(pool))]
			if picked[p] {
				if len(picked) >= len(customer)+len(awsManaged) {
					break
				}
				continue
			}
			picked[p] = true
			out = append(out, p)
		}
		return out
	}
	inline := func(kind string, i int) map[string]string {
		m := map[string]string{}
		if rng.Intn(4) == 0 {
			m[fmt.Sprintf("%s-inline-%d", kind, i)] = fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Sid":"Inline%s%d","Effect":"Allow","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:*:%s:table/orders & \"returns\""}}`, kind, i, acct)
		}
		return m
	}
	var boundaries []string
	for _, p := range customer {
		if strings.Contains(p, "/boundaries/") {
			boundaries = append(boundaries, p)
		}
	}

	var groupNames []string
	for i := 0; i < e.Groups; i++ {
		name := fmt.Sprintf("%s-%s-%d", teams[i%len(teams)], []string{"admins", "developers", "readers", "oncall"}[rng.Intn(4)], i)
		path := []string{"/", "/teams/"}[rng.Intn(2)]
		g := &Group{Name: name, ID: unique(randID(rng, "AGPA", 17)), Path: path, ARN: arn("group", path, name), CreatedAt: ago(now, rng, 1500),
			AttachedPolicies: pickPolicies(rng.Intn(4)), InlinePolicies: inline("group", i)}
		a.IAM.Groups[name] = g
		groupNames = append(groupNames, name)
	}

	var userARNs []string
	for i := 0; i < e.Users; i++ {
		first, last := firstNames[rng.Intn(len(firstNames))], lastNames[rng.Intn(len(lastNames))]
		name := fmt.Sprintf("%s.%s%d", first, last, i)
		path := []string{"/", "/engineering/", "/contractors/"}[rng.Intn(3)]
		team := teams[rng.Intn(len(teams))]
		u := &User{Name: name, ID: unique(randID(rng, "AIDA", 17)), Path: path, ARN: arn("user", path, name), CreatedAt: ago(now, rng, 1500),
			InlinePolicies: inline("user", i)}
		if rng.Intn(10) != 0 {
			u.Tags = append(u.Tags, Tag{Key: "email", Value: fmt.Sprintf("%s.%s%d@example.com", first, last, i)})
		}
		u.Tags = append(u.Tags, Tag{Key: "team", Value: team})
		if len(boundaries) > 0 && rng.Intn(8) == 0 {
			u.PermissionsBoundary = boundaries[rng.Intn(len(boundaries))]
		}
		if len(groupNames) > 0 {
			for _, gi := range rng.Perm(len(groupNames))[:min(rng.Intn(4), len(groupNames))] {
				g := a.IAM.Groups[groupNames[gi]]
				u.Groups = append(u.Groups, g.Name)
				g.Members = append(g.Members, u.Name)
			}
		}
		if rng.Intn(3) == 0 {
			u.AttachedPolicies = pickPolicies(1 + rng.Intn(3))
		}
		if rng.Intn(2) == 0 {
			changed := ago(now, rng, 400)
			u.LoginProfile = &LoginProfile{CreatedAt: changed, PasswordLastChanged: changed, Password: randID(rng, "pw-", 20)}
			if rng.Intn(3) != 0 {
				t := ago(now, rng, 120)
				u.PasswordLastUsed = &t
			}
			if rng.Intn(3) != 0 {
				// Most users hold a virtual device; every fifth a hardware
				// TOTP token, which only ListMFADevices shows.
				m := &MFADevice{SerialNumber: arn("mfa", "/", name), Virtual: true, EnabledAt: ago(now, rng, 300)}
				if i%5 == 3 {
					m.SerialNumber, m.Virtual = fmt.Sprintf("GAHT%08d", 10000000+i), false
				}
				u.MFADevices = append(u.MFADevices, m)
			}
		}
		for k := 0; k < []int{0, 0, 1, 1, 1, 2}[rng.Intn(6)]; k++ {
			key := &AccessKey{ID: unique(randID(rng, "AKIA", 16)), Secret: randID(rng, "", 40), Status: "Active", CreatedAt: ago(now, rng, 700),
				LastUsedService: "N/A", LastUsedRegion: "N/A"}
			if rng.Intn(5) == 0 {
				key.Status = "Inactive"
			}
			if rng.Intn(4) != 0 {
				t := ago(now, rng, 60)
				if t.Before(key.CreatedAt) {
					t = key.CreatedAt.Add(time.Hour)
				}
				key.LastUsed, key.LastUsedService, key.LastUsedRegion = &t, services[rng.Intn(len(services))], regions[rng.Intn(len(regions))]
			}
			u.AccessKeys = append(u.AccessKeys, key)
		}
		if rng.Intn(20) == 0 {
			u.SigningCertificates = append(u.SigningCertificates, randID(rng, "", 32))
			u.SSHPublicKeys = append(u.SSHPublicKeys, randID(rng, "APKA", 16))
			u.ServiceCredentials = append(u.ServiceCredentials, randID(rng, "ACCA", 17))
		}
		a.IAM.Users[name] = u
		userARNs = append(userARNs, u.ARN)
	}

	partner := fmt.Sprintf("%012d", 100000000000+rng.Int63n(899999999999))
	for i := 0; i < e.Roles; i++ {
		name := fmt.Sprintf("%s-%s-role-%d", teams[i%len(teams)], []string{"deploy", "lambda", "ec2", "audit", "sso", "ci"}[i%6], i)
		path := []string{"/", "/service-role/", "/teams/"}[rng.Intn(3)]
		var trust string
		switch i % 7 {
		case 0:
			trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, acct)
		case 1:
			if len(userARNs) > 0 {
				trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["%s"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, userARNs[rng.Intn(len(userARNs))])
				break
			}
			fallthrough
		case 2:
			trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-%d"}}}]}`, partner, i)
		case 3:
			trust = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`
		case 4:
			trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","edgelambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
		case 5:
			trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, acct)
		default:
			trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-exampleorg1"}}}]}`
		}
		r := &Role{Name: name, ID: unique(randID(rng, "AROA", 17)), Path: path, ARN: arn("role", path, name), CreatedAt: ago(now, rng, 1500),
			Description: "Role for " + teams[i%len(teams)], MaxSessionDuration: 3600, AssumeRolePolicy: trust,
			AttachedPolicies: pickPolicies(rng.Intn(5)), InlinePolicies: inline("role", i)}
		r.Tags = []Tag{{Key: "team", Value: teams[i%len(teams)]}}
		if len(boundaries) > 0 && rng.Intn(10) == 0 {
			r.PermissionsBoundary = boundaries[rng.Intn(len(boundaries))]
		}
		if rng.Intn(2) == 0 {
			t := ago(now, rng, 90)
			r.LastUsed, r.LastUsedRegion = &t, regions[rng.Intn(len(regions))]
		}
		a.IAM.Roles[name] = r
	}
	return a
}
