package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/store"
)

// loginProfile reads whether a user has a console password, and whether
// it must be reset.
func (p *Provisioner) loginProfile(ctx context.Context, user string) (has, reset bool, err error) {
	if st := p.pend.lookup("user", user); st != nil && st.loginProfile != nil {
		return *st.loginProfile, *st.loginProfile, nil // warden's passwords must be reset
	}
	if st := p.pend.lookup("user", user); st != nil && st.created {
		return false, false, nil
	}
	out, err := p.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	switch {
	case notFound(err):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("read the login profile of %s: %w", user, err)
	}
	return true, out.LoginProfile.PasswordResetRequired, nil
}

// accessKeys lists a user's access keys.
func (p *Provisioner) accessKeys(ctx context.Context, user string) ([]types.AccessKeyMetadata, error) {
	st := p.pend.lookup("user", user)
	if st != nil && st.created {
		return nil, nil
	}
	var out []types.AccessKeyMetadata
	err := drain(ctx, iam.NewListAccessKeysPaginator(p.IAM, &iam.ListAccessKeysInput{UserName: aws.String(user)}),
		func(o *iam.ListAccessKeysOutput) { out = append(out, o.AccessKeyMetadata...) })
	if err != nil {
		return nil, fmt.Errorf("list the access keys of %s: %w", user, err)
	}
	return st.keysAfter(out), nil
}

func setKeyStatus(user, id string, status types.StatusType) func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
	return func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		return p.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id), Status: status})
	}
}

// planDeactivate removes console access, sets every active key Inactive
// and, when asked, attaches AWSDenyAll; what it removes is recorded when
// applied, added to any earlier record, so reactivation restores it all.
func (p *Provisioner) planDeactivate(ctx context.Context, pl *Plan) error {
	a := pl.Action
	if err := p.requireUser(ctx, a.User); err != nil {
		return err
	}
	d := &Deactivation{}
	if prev, err := p.deactivation(ctx, a.User); err != nil {
		return err
	} else if prev != nil {
		d = prev
	}
	has, reset, err := p.loginProfile(ctx, a.User)
	if err != nil {
		return err
	}
	if has {
		d.LoginProfile, d.PasswordResetRequired = true, reset
		pl.add("iam:DeleteLoginProfile", map[string]string{"UserName": a.User}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(a.User)})
		})
	}
	keys, err := p.accessKeys(ctx, a.User)
	if err != nil {
		return err
	}
	for _, k := range keys {
		id := aws.ToString(k.AccessKeyId)
		if k.Status == types.StatusTypeActive {
			if !slices.Contains(d.AccessKeys, id) {
				d.AccessKeys = append(d.AccessKeys, id)
			}
			pl.add("iam:UpdateAccessKey", map[string]string{"UserName": a.User, "AccessKeyId": id, "Status": "Inactive"}, setKeyStatus(a.User, id, types.StatusTypeInactive))
		}
	}
	if a.DenyAll {
		attached, err := p.attachedOf(ctx, "user", a.User)
		if err != nil {
			return err
		}
		if !slices.Contains(attached, DenyAllPolicyARN) {
			d.DenyAll = true
			pl.add("iam:AttachUserPolicy", map[string]string{"UserName": a.User, "PolicyArn": DenyAllPolicyARN}, attach("user", a.User, DenyAllPolicyARN))
		}
	}
	if len(pl.Steps) == 0 {
		pl.NoOp = "user " + a.User + " has no console password, no active access key" + map[bool]string{true: " and AWSDenyAll attached", false: ""}[a.DenyAll]
	}
	pl.deactivated = d
	return nil
}

// planReactivate restores what the recorded deactivation removed: a new
// console password (AWS cannot restore the old one) that must be changed
// at first sign-in when the old one had to be, the keys it set Inactive
// that still exist, and the removal of the AWSDenyAll it attached.
func (p *Provisioner) planReactivate(ctx context.Context, pl *Plan) error {
	a := pl.Action
	if err := p.requireUser(ctx, a.User); err != nil {
		return err
	}
	d, err := p.deactivation(ctx, a.User)
	if err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("no deactivation of user %s is recorded for this connection: warden restores only what it removed; grant access with the other actions instead", a.User)
	}
	if d.LoginProfile {
		has, _, err := p.loginProfile(ctx, a.User)
		if err != nil {
			return err
		}
		if !has {
			pl.add("iam:CreateLoginProfile", map[string]string{"UserName": a.User, "Password": "(generated, shown once)", "PasswordResetRequired": "true"},
				createLoginProfile(a.User, true))
		}
	}
	keys, err := p.accessKeys(ctx, a.User)
	if err != nil {
		return err
	}
	for _, k := range keys {
		id := aws.ToString(k.AccessKeyId)
		if slices.Contains(d.AccessKeys, id) && k.Status == types.StatusTypeInactive {
			pl.add("iam:UpdateAccessKey", map[string]string{"UserName": a.User, "AccessKeyId": id, "Status": "Active"}, setKeyStatus(a.User, id, types.StatusTypeActive))
		}
	}
	if d.DenyAll {
		attached, err := p.attachedOf(ctx, "user", a.User)
		if err != nil {
			return err
		}
		if slices.Contains(attached, DenyAllPolicyARN) {
			pl.add("iam:DetachUserPolicy", map[string]string{"UserName": a.User, "PolicyArn": DenyAllPolicyARN}, detach("user", a.User, DenyAllPolicyARN))
		}
	}
	if len(pl.Steps) == 0 {
		pl.NoOp = "user " + a.User + " already has what its deactivation removed"
	}
	pl.reactivated = true
	return nil
}

// deactivation reads the recorded deactivation of a user, nil when none.
func (p *Provisioner) deactivation(ctx context.Context, user string) (*Deactivation, error) {
	if p.Records == nil {
		return nil, nil
	}
	state, err := p.Records.Deactivation(ctx, p.ConnectionID, p.AccountID, "user/"+user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var d Deactivation
	if err := json.Unmarshal([]byte(state), &d); err != nil {
		return nil, fmt.Errorf("the recorded deactivation of %s is unreadable: %w", user, err)
	}
	return &d, nil
}

// planDeleteUser removes every dependency AWS requires gone before
// DeleteUser, in a safe order: sign-in first (console password, access
// keys), then other credentials, MFA devices (deactivated, and deleted when
// virtual), group memberships, managed and inline policies, and the user.
func (p *Provisioner) planDeleteUser(ctx context.Context, pl *Plan) error {
	user := pl.Action.User
	exists, err := p.userExists(ctx, user)
	if err != nil {
		return err
	}
	if !exists {
		pl.NoOp = "user " + user + " does not exist (already deleted)"
		return nil
	}
	u := aws.String(user)
	param := map[string]string{"UserName": user}
	if has, _, err := p.loginProfile(ctx, user); err != nil {
		return err
	} else if has {
		pl.add("iam:DeleteLoginProfile", param, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u})
		})
	}
	keys, err := p.accessKeys(ctx, user)
	if err != nil {
		return err
	}
	for _, k := range keys {
		id := k.AccessKeyId
		pl.add("iam:DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": aws.ToString(id)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: id})
		})
	}
	if err := p.planOtherCredentials(ctx, pl, user); err != nil {
		return err
	}
	mfa := iam.NewListMFADevicesPaginator(p.IAM, &iam.ListMFADevicesInput{UserName: u})
	for mfa.HasMorePages() {
		page, err := mfa.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the MFA devices of %s: %w", user, err)
		}
		for _, d := range page.MFADevices {
			serial := d.SerialNumber
			pl.add("iam:DeactivateMFADevice", map[string]string{"UserName": user, "SerialNumber": aws.ToString(serial)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
				return p.IAM.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: serial})
			})
			// A virtual device's serial is its ARN; hardware serials are not.
			if strings.HasPrefix(aws.ToString(serial), "arn:") {
				pl.add("iam:DeleteVirtualMFADevice", map[string]string{"SerialNumber": aws.ToString(serial)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
					return p.IAM.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial})
				})
			}
		}
	}
	// A virtual device deactivated by an interrupted run is no longer the
	// user's; the console names a user's device mfa/<user name>, so such an
	// unassigned device is deleted too.
	orphans := iam.NewListVirtualMFADevicesPaginator(p.IAM, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned})
	for orphans.HasMorePages() {
		page, err := orphans.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list unassigned virtual MFA devices: %w", err)
		}
		for _, d := range page.VirtualMFADevices {
			serial := d.SerialNumber
			if strings.HasSuffix(aws.ToString(serial), ":mfa/"+user) {
				pl.add("iam:DeleteVirtualMFADevice", map[string]string{"SerialNumber": aws.ToString(serial)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
					return p.IAM.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial})
				})
			}
		}
	}
	groups, err := p.groupsOf(ctx, user)
	if err != nil {
		return err
	}
	for _, g := range groups {
		group := aws.String(g)
		pl.add("iam:RemoveUserFromGroup", map[string]string{"UserName": user, "GroupName": g}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: group})
		})
	}
	attached, err := p.attachedOf(ctx, "user", user)
	if err != nil {
		return err
	}
	for _, arn := range attached {
		pl.add("iam:DetachUserPolicy", map[string]string{"UserName": user, "PolicyArn": arn}, detach("user", user, arn))
	}
	inline, err := p.inlineOf(ctx, "user", user)
	if err != nil {
		return err
	}
	for _, name := range inline {
		pl.add("iam:DeleteUserPolicy", map[string]string{"UserName": user, "PolicyName": name}, deleteInline("user", user, name))
	}
	pl.add("iam:DeleteUser", param, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
		return p.deleteUserRetrying(ctx, user)
	})
	return nil
}

// planOtherCredentials adds the deletion of signing certificates, SSH
// public keys and service-specific credentials.
func (p *Provisioner) planOtherCredentials(ctx context.Context, pl *Plan, user string) error {
	u := aws.String(user)
	certs, err := p.IAM.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: u})
	if err != nil {
		return fmt.Errorf("list the signing certificates of %s: %w", user, err)
	}
	for _, c := range certs.Certificates {
		id := c.CertificateId
		pl.add("iam:DeleteSigningCertificate", map[string]string{"UserName": user, "CertificateId": aws.ToString(id)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: id})
		})
	}
	ssh, err := p.IAM.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: u})
	if err != nil {
		return fmt.Errorf("list the SSH public keys of %s: %w", user, err)
	}
	for _, k := range ssh.SSHPublicKeys {
		id := k.SSHPublicKeyId
		pl.add("iam:DeleteSSHPublicKey", map[string]string{"UserName": user, "SSHPublicKeyId": aws.ToString(id)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: id})
		})
	}
	svc, err := p.IAM.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: u})
	if err != nil {
		return fmt.Errorf("list the service-specific credentials of %s: %w", user, err)
	}
	for _, c := range svc.ServiceSpecificCredentials {
		id := c.ServiceSpecificCredentialId
		pl.add("iam:DeleteServiceSpecificCredential", map[string]string{"UserName": user, "ServiceSpecificCredentialId": aws.ToString(id)}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			return p.IAM.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: id})
		})
	}
	return nil
}
