package awsfake

import "time"

// awsManagedCatalogue lists the AWS managed policies the emulator serves:
// name, path, id, default version and document, as AWS publishes them
// (documents shortened where AWS's run to pages).
var awsManagedCatalogue = []struct{ name, path, id, version, doc string }{
	{"AdministratorAccess", "/", "ANPAIWMBCKSKIEE64ZLYK", "v1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{"ReadOnlyAccess", "/", "ANPAILL3HVNFSB6DCOWYQ", "v120", `{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyActions","Effect":"Allow","Action":["ec2:Describe*","iam:Get*","iam:List*","s3:Get*","s3:List*"],"Resource":"*"}]}`},
	{"PowerUserAccess", "/", "ANPAJYRXTHIB4FOVS3ZXS", "v5", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions"],"Resource":"*"}]}`},
	{"IAMFullAccess", "/", "ANPAI7XKCFMBPM3QQRRVQ", "v2", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`},
	{"AmazonS3FullAccess", "/", "ANPAIFIR6V6BVTRAHWINE", "v2", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}`},
	{"AmazonS3ReadOnlyAccess", "/", "ANPAIZTJ4DXE7G6AGAE6M", "v3", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}`},
	{"AmazonEC2FullAccess", "/", "ANPAI3VAJF5ZCRZ7MCQE6", "v5", `{"Version":"2012-10-17","Statement":[{"Action":"ec2:*","Effect":"Allow","Resource":"*"},{"Effect":"Allow","Action":"elasticloadbalancing:*","Resource":"*"},{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"},{"Effect":"Allow","Action":"autoscaling:*","Resource":"*"}]}`},
	{"AmazonEC2ReadOnlyAccess", "/", "ANPAIGDT4SV4GSETWTBZK", "v3", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},{"Effect":"Allow","Action":"elasticloadbalancing:Describe*","Resource":"*"}]}`},
	{"SecurityAudit", "/", "ANPAIX2T3QCXHR2OGGCTO", "v40", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*","Action":["access-analyzer:GetAnalyzer","acm:Describe*","cloudtrail:DescribeTrails","iam:GenerateCredentialReport","iam:Get*","iam:List*"]}]}`},
	{"ViewOnlyAccess", "/job-function/", "ANPAID22R6XPJATWOFDK6", "v18", `{"Version":"2012-10-17","Statement":[{"Action":["acm:ListCertificates","ec2:DescribeInstances","iam:List*","s3:ListAllMyBuckets"],"Effect":"Allow","Resource":"*"}]}`},
	{"Billing", "/job-function/", "ANPAIFTHXT6FFMIRT7ZEA", "v9", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aws-portal:*Billing","aws-portal:*Usage","aws-portal:*PaymentMethods","budgets:ViewBudget","budgets:ModifyBudget","ce:*"],"Resource":"*"}]}`},
	{"AWSLambdaBasicExecutionRole", "/service-role/", "ANPAJNCQGXC42545SKXIK", "v1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`},
}

// AWSManagedPolicies returns the AWS managed policies every emulated account
// can attach (arn:aws:iam::aws:policy/…), fresh copies on each call.
func AWSManagedPolicies() []*ManagedPolicy {
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	updated := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	out := make([]*ManagedPolicy, 0, len(awsManagedCatalogue))
	for _, c := range awsManagedCatalogue {
		out = append(out, &ManagedPolicy{Name: c.name, ID: c.id, Path: c.path, ARN: "arn:aws:iam::aws:policy" + c.path + c.name,
			CreatedAt: created, UpdatedAt: updated, DefaultVersionID: c.version, IsAttachable: true,
			Versions: []*PolicyVersion{{ID: c.version, Document: c.doc, CreatedAt: updated}}})
	}
	return out
}
