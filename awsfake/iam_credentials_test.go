package awsfake

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestUpdateOtherCredentials sets each kind of credential Inactive and back
// through the SDK: listings and the account's state follow, and AWS's
// errors answer an unknown id, a bad status and an id IAM would refuse.
func TestUpdateOtherCredentials(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := Estate{Users: 1, Seed: 3}.Build()
	u := &User{Name: "cred", ID: "AIDACRED000000000001", Path: "/", ARN: "arn:aws:iam::" + truth.ID + ":user/cred", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		SigningCertificates: []string{"CERTCRED0000000000000000001", "CERTCRED0000000000000000002"},
		SSHPublicKeys:       []string{"APKACRED000000000001"}, ServiceCredentials: []string{"ACCACRED000000000001"}}
	truth.IAM.Users[u.Name] = u
	client := iamClient(srv, srv.AddAccount(truth))
	ctx := context.Background()
	name := aws.String("cred")
	set := func(status types.StatusType) {
		t.Helper()
		if _, err := client.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: name, CertificateId: aws.String(u.SigningCertificates[1]), Status: status}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: name, SSHPublicKeyId: aws.String(u.SSHPublicKeys[0]), Status: status}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: name, ServiceSpecificCredentialId: aws.String(u.ServiceCredentials[0]), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	statuses := func() []types.StatusType {
		t.Helper()
		certs, err := client.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: name})
		if err != nil {
			t.Fatal(err)
		}
		ssh, err := client.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: name})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := client.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: name})
		if err != nil {
			t.Fatal(err)
		}
		return []types.StatusType{certs.Certificates[0].Status, certs.Certificates[1].Status, ssh.SSHPublicKeys[0].Status, svc.ServiceSpecificCredentials[0].Status}
	}
	want := func(w ...types.StatusType) {
		t.Helper()
		got := statuses()
		for i := range w {
			if got[i] != w[i] {
				t.Fatalf("statuses = %v, want %v", got, w)
			}
		}
	}
	act, off := types.StatusTypeActive, types.StatusTypeInactive
	want(act, act, act, act)
	set(off)
	want(act, off, off, off)
	state := srv.Account(truth.ID).IAM.Users["cred"]
	if len(state.CredentialStatus) != 3 || state.credentialStatus(u.SigningCertificates[0]) != "Active" {
		t.Errorf("state = %v, want the three set Inactive", state.CredentialStatus)
	}
	// The credential report sees the disabled certificate.
	client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	report, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(report.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row[0] == "cred" && (rows[0][18] != "cert_1_active" || row[18] != "true" || rows[0][20] != "cert_2_active" || row[20] != "false") {
			t.Errorf("credential report row %v, want cert_1_active true and cert_2_active false", row)
		}
	}
	set(act)
	want(act, act, act, act)

	for _, c := range []struct {
		call func() error
		code string
	}{
		{func() error {
			_, err := client.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: name, SSHPublicKeyId: aws.String("APKANOSUCHKEY0000001"), Status: off})
			return err
		}, "NoSuchEntity"},
		{func() error {
			_, err := client.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("nobody"), CertificateId: aws.String(u.SigningCertificates[0]), Status: off})
			return err
		}, "NoSuchEntity"},
		{func() error {
			_, err := client.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: name, ServiceSpecificCredentialId: aws.String(u.ServiceCredentials[0]), Status: "Perhaps"})
			return err
		}, "ValidationError"},
		{func() error {
			_, err := client.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: name, CertificateId: aws.String("SHORT"), Status: off})
			return err
		}, "ValidationError"},
	} {
		if err := c.call(); apiCode(err) != c.code {
			t.Errorf("err = %v, want %s", err, c.code)
		}
	}
	want(act, act, act, act)
}
