package policy

import "testing"

// TestSessionOfARoleWithAPath: a resource policy naming a role by its ARN,
// path included, grants the role's sessions (same account, on its own);
// a session ARN does not carry the path, so the request says the role
// (Request.PrincipalRole). Without it, only a role without a path matches.
func TestSessionOfARoleWithAPath(t *testing.T) {
	d, err := Parse(`{"Version":"2012-10-17","Statement":[{"Sid":"App","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/apps/team/app"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Principal: "arn:aws:sts::111111111111:assumed-role/app/session", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k",
		ResourceAccount: "111111111111", ResourcePolicy: &Named{Name: "bucket policy", Doc: d}}
	if r := Evaluate(&req); r.Decision != ImplicitDeny {
		t.Fatalf("without PrincipalRole: %s, want implicit_deny (the session ARN names role/app, not role/apps/team/app)", r.Decision)
	}
	req.PrincipalRole = "arn:aws:iam::111111111111:role/apps/team/app"
	r := Evaluate(&req)
	if r.Decision != Allowed || len(r.Explanation) != 1 || r.Explanation[0].Statement != "App" {
		t.Fatalf("with PrincipalRole: %+v, want allowed by App", r)
	}
	req.PrincipalRole = "arn:aws:iam::111111111111:role/other/app"
	if r := Evaluate(&req); r.Decision != ImplicitDeny {
		t.Fatalf("a role of the same name on another path: %s, want implicit_deny", r.Decision)
	}
}
