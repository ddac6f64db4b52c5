package policy

import "testing"

// typicalRequest is a user with two identity policies (five statements),
// a boundary, a three-level SCP chain and a condition on the source IP.
const typicalRequest = `{"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
 "resource": "arn:aws:s3:::bucket/home/alice/report.csv", "resource_account": "111111111111",
 "context": {"aws:SourceIp": "10.1.2.3", "aws:username": "alice", "aws:MultiFactorAuthPresent": "true"},
 "identity_policies": [
  {"name": "ReadHome", "document": {"Version": "2012-10-17", "Statement": [
   {"Sid": "Home", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
   {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bucket"}]}},
  {"name": "EC2", "document": {"Version": "2012-10-17", "Statement": [
   {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
   {"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"},
   {"Effect": "Deny", "NotAction": ["iam:*", "s3:*", "ec2:*"], "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}}],
 "permissions_boundary": [{"name": "b", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}]}}],
 "scps": [{"target": "r-root", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]},
          {"target": "ou-x", "policies": [{"name": "Guard", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}]}}]},
          {"target": "111111111111", "policies": [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]}`

func BenchmarkEvaluateTypical(b *testing.B) {
	reqs, _, err := ParseRequests([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	r := &reqs[0]
	if d := Evaluate(r).Decision; d != Allowed {
		b.Fatalf("decision %s, want allowed", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(r)
	}
}

// BenchmarkEvaluateUnknown is the typical request asked with its MFA and
// source IP unknown (Request.Unknown), as `warden can` asks: the answer is
// Conditional on the source IP.
func BenchmarkEvaluateUnknown(b *testing.B) {
	reqs, _, err := ParseRequests([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	r := &reqs[0]
	r.Unknown = true
	delete(r.Context, "aws:sourceip")
	delete(r.Context, "aws:multifactorauthpresent")
	if d := Evaluate(r).Decision; d != Conditional {
		b.Fatalf("decision %s, want allowed_if", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(r)
	}
}
