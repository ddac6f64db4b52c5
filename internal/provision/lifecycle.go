package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/model"
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

// planDeactivate removes console access, sets every active credential
// Inactive (access keys, SSH public keys, service-specific credentials,
// signing certificates; MFA devices stay, as they are no credential by
// themselves) and, when asked, attaches AWSDenyAll; what it removes is
// recorded when applied, added to any earlier record not yet reactivated,
// so reactivation restores it all.
func (p *Provisioner) planDeactivate(ctx context.Context, pl *Plan) error {
	a := pl.Action
	if why, seen, err := p.missingUser(ctx, pl); err != nil {
		return err
	} else if seen {
		pl.NoOp = why + "; nothing to deactivate"
		return nil
	}
	d := &Deactivation{}
	if prev, err := p.deactivation(ctx, a.User); err != nil {
		return err
	} else if prev != nil && !prev.Reactivated {
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
	creds, err := p.otherCredentials(ctx, a.User)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if c.active {
			if ids := d.disabled(c.kind); !slices.Contains(*ids, c.id) {
				*ids = append(*ids, c.id)
			}
			p.addCredentialStatus(pl, a.User, c, types.StatusTypeInactive)
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
		pl.NoOp = "user " + a.User + " has no console password and no active access key, SSH public key, service-specific credential or signing certificate"
		if a.DenyAll {
			pl.NoOp += ", and AWSDenyAll attached"
		}
	}
	pl.deactivated = d
	return nil
}

// planReactivate restores what the recorded deactivation removed: a new
// console password (AWS cannot restore the old one) that must be changed
// at first sign-in, the credentials it set Inactive that still exist, and
// the removal of the AWSDenyAll it attached.
func (p *Provisioner) planReactivate(ctx context.Context, pl *Plan) error {
	a := pl.Action
	if why, seen, err := p.missingUser(ctx, pl); err != nil {
		return err
	} else if seen {
		return fmt.Errorf("%s: a deleted user cannot be reactivated; create-user makes a new one", why)
	}
	d, err := p.deactivation(ctx, a.User)
	if err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("no deactivation of user %s is recorded for this connection: warden restores only what it removed; grant access with the other actions instead", a.User)
	}
	if d.Reactivated {
		pl.NoOp = "user " + a.User + " was reactivated already: no deactivation since is recorded"
		return nil
	}
	if d.LoginProfile {
		if err := p.ensureConsolePassword(ctx, pl, a.User); err != nil {
			return err
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
	creds, err := p.otherCredentials(ctx, a.User)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if !c.active && slices.Contains(*d.disabled(c.kind), c.id) {
			p.addCredentialStatus(pl, a.User, c, types.StatusTypeActive)
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
	done := *d
	done.Reactivated = true
	pl.deactivated = &done
	return nil
}

// missingUser reads whether the user of a plan exists. When it does not,
// a user this database saw deleted is reported (seen), and a name it never
// saw is an error.
func (p *Provisioner) missingUser(ctx context.Context, pl *Plan) (why string, seen bool, err error) {
	user := pl.Action.User
	exists, err := p.userExists(ctx, user)
	if err != nil || exists {
		return "", false, err
	}
	why, seen, err = p.gone(ctx, pl.Target, model.TypeIAMUser, user)
	if err == nil && !seen {
		err = errors.New(why)
	}
	return why, seen, err
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
		return nil, &RecordError{Problem: fmt.Sprintf("the recorded deactivation of %s is unreadable: %v", user, err), Err: err,
			Fix: "`warden audit` lists what deactivate-user changed for " + user + " (console password, keys and credentials set Inactive, AWSDenyAll): " +
				"restore by hand what the user should have, then delete the record with sqlite3 on the database (--db): " +
				"DELETE FROM deactivations WHERE account_id='" + p.AccountID + "' AND principal='user/" + user + "'"}
	}
	return &d, nil
}

// RecordError is a record in warden's database that planning needs but
// cannot read (a deactivation): the problem, and what the operator can do.
type RecordError struct {
	Problem string // what is wrong, with the cause
	Fix     string // what to do about it
	Err     error  // the cause
}

// Error returns the problem.
func (e *RecordError) Error() string { return e.Problem }

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

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
		why, _, err := p.gone(ctx, pl.Target, model.TypeIAMUser, user)
		pl.NoOp = why + "; nothing to do"
		return err
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
	created := p.pend.lookup("user", user) != nil && p.pend.lookup("user", user).created // by an earlier action: no device yet
	mfa := iam.NewListMFADevicesPaginator(p.IAM, &iam.ListMFADevicesInput{UserName: u})
	for !created && mfa.HasMorePages() {
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
	creds, err := p.otherCredentials(ctx, user)
	if err != nil {
		return err
	}
	u := aws.String(user)
	for _, c := range creds {
		id := aws.String(c.id)
		pl.add("iam:Delete"+c.kind.name, map[string]string{"UserName": user, c.kind.idParam: c.id}, func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			switch c.kind {
			case signingCertificate:
				return p.IAM.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: id})
			case sshPublicKey:
				return p.IAM.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: id})
			}
			return p.IAM.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: id})
		})
	}
	return nil
}

// credentialKind is a kind of user credential besides passwords and access
// keys: name is its IAM action infix (iam:Update<name>, iam:Delete<name>).
type credentialKind struct {
	name, idParam string
}

// The credential kinds, in the order plans treat them.
var (
	signingCertificate = &credentialKind{"SigningCertificate", "CertificateId"}
	sshPublicKey       = &credentialKind{"SSHPublicKey", "SSHPublicKeyId"}
	serviceCredential  = &credentialKind{"ServiceSpecificCredential", "ServiceSpecificCredentialId"}
)

// credential is one of a user's signing certificates, SSH public keys or
// service-specific credentials.
type credential struct {
	kind   *credentialKind
	id     string
	active bool
}

// otherCredentials lists a user's signing certificates, SSH public keys
// and service-specific credentials, every page, with their status as the
// calls planned so far will have left it.
func (p *Provisioner) otherCredentials(ctx context.Context, user string) ([]credential, error) {
	st := p.pend.lookup("user", user)
	if st != nil && st.created {
		return nil, nil
	}
	u := aws.String(user)
	var out []credential
	add := func(k *credentialKind, id *string, st types.StatusType) {
		out = append(out, credential{kind: k, id: aws.ToString(id), active: st == types.StatusTypeActive})
	}
	err := drain(ctx, iam.NewListSigningCertificatesPaginator(p.IAM, &iam.ListSigningCertificatesInput{UserName: u}), func(o *iam.ListSigningCertificatesOutput) {
		for _, c := range o.Certificates {
			add(signingCertificate, c.CertificateId, c.Status)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list the signing certificates of %s: %w", user, err)
	}
	err = drain(ctx, iam.NewListSSHPublicKeysPaginator(p.IAM, &iam.ListSSHPublicKeysInput{UserName: u}), func(o *iam.ListSSHPublicKeysOutput) {
		for _, k := range o.SSHPublicKeys {
			add(sshPublicKey, k.SSHPublicKeyId, k.Status)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list the SSH public keys of %s: %w", user, err)
	}
	// The SDK has no paginator for this listing: follow Marker.
	for in := (&iam.ListServiceSpecificCredentialsInput{UserName: u}); ; {
		o, err := p.IAM.ListServiceSpecificCredentials(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the service-specific credentials of %s: %w", user, err)
		}
		for _, c := range o.ServiceSpecificCredentials {
			add(serviceCredential, c.ServiceSpecificCredentialId, c.Status)
		}
		if !o.IsTruncated || aws.ToString(o.Marker) == "" {
			break
		}
		in.Marker = o.Marker
	}
	if st == nil {
		return out, nil
	}
	planned := out[:0]
	for _, c := range out {
		status, changed := st.keys[c.id]
		if changed && status == "" {
			continue
		}
		if changed {
			c.active = status == string(types.StatusTypeActive)
		}
		planned = append(planned, c)
	}
	return planned, nil
}

// credentialEffect records a planned status change or deletion of one of
// a user's signing certificates, SSH public keys or service-specific
// credentials (call without "iam:"); other calls change nothing here.
func (st *principalState) credentialEffect(call string, params map[string]string) {
	for _, k := range []*credentialKind{signingCertificate, sshPublicKey, serviceCredential} {
		switch call {
		case "Update" + k.name:
			st.keys[params[k.idParam]] = params["Status"]
		case "Delete" + k.name:
			st.keys[params[k.idParam]] = ""
		}
	}
}

// addCredentialStatus adds the call setting a credential's status.
func (p *Provisioner) addCredentialStatus(pl *Plan, user string, c credential, status types.StatusType) {
	u, id := aws.String(user), aws.String(c.id)
	pl.add("iam:Update"+c.kind.name, map[string]string{"UserName": user, c.kind.idParam: c.id, "Status": string(status)},
		func(ctx context.Context, p *Provisioner, _ *Result) (any, error) {
			switch c.kind {
			case signingCertificate:
				return p.IAM.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: u, CertificateId: id, Status: status})
			case sshPublicKey:
				return p.IAM.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: u, SSHPublicKeyId: id, Status: status})
			}
			return p.IAM.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: id, Status: status})
		})
}

// disabled is the record's list of credentials of a kind the deactivation
// set Inactive.
func (d *Deactivation) disabled(k *credentialKind) *[]string {
	switch k {
	case signingCertificate:
		return &d.SigningCertificates
	case sshPublicKey:
		return &d.SSHPublicKeys
	}
	return &d.ServiceSpecificCredentials
}

// History is what a database saw of principals: its audit log, read back,
// and its snapshots. When a Provisioner's Records also implement it (the
// store does), a principal that is gone is told apart from a name this
// database never saw.
type History interface {
	Audit(ctx context.Context, connectionID string, limit int) ([]store.AuditRecord, error)
	LatestSnapshot(ctx context.Context, connectionID string) (*model.Snapshot, error)
	FindPrincipal(ctx context.Context, snapshotID int64, query string) ([]model.Resource, error)
}

// lifecycleCalls are the calls that create and delete a principal, by type.
var lifecycleCalls = map[model.ResourceType][2]string{
	model.TypeIAMUser:  {"iam:CreateUser", "iam:DeleteUser"},
	model.TypeSSOUser:  {"identitystore:CreateUser", "identitystore:DeleteUser"},
	model.TypeSSOGroup: {"identitystore:CreateGroup", "identitystore:DeleteGroup"},
}

// gone says what this database knows of a principal that no longer
// exists: that an earlier action of the batch deletes it, that warden
// deleted it (the audit log's last completed creation
// or deletion of target is a deletion), that it was deleted outside warden
// (the latest snapshot, or for an IAM user a recorded deactivation, still
// has it), or, when none of these knows it, that there is no such
// principal (seen false). target names it as plans do ("user alice in
// account 111122223333", "Identity Center group auditors").
func (p *Provisioner) gone(ctx context.Context, target string, typ model.ResourceType, name string) (why string, seen bool, err error) {
	unknown := "no such " + target + " (check the name)"
	if typ == model.TypeIAMUser {
		unknown = "no such " + target + " (check the name: `warden show users`)"
	}
	if st := p.pend.lookup("user", name); typ == model.TypeIAMUser && st != nil && st.exists != nil && !*st.exists {
		return target + " is deleted by an earlier action of this batch", true, nil
	}
	h, ok := p.Records.(History)
	if !ok {
		return unknown, false, nil
	}
	recs, err := h.Audit(ctx, p.ConnectionID, 0)
	if err != nil {
		return "", false, err
	}
	calls := lifecycleCalls[typ]
	for _, r := range recs { // newest first
		if r.Target != target || r.Result != store.AuditOK {
			continue
		}
		if r.Call == calls[1] {
			return target + " was deleted by warden on " + r.At.UTC().Format(time.RFC3339) + " (see `warden audit`)", true, nil
		}
		if r.Call == calls[0] {
			break // created since its last deletion by warden
		}
	}
	snap, err := h.LatestSnapshot(ctx, p.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNoSnapshot):
	case err != nil:
		return "", false, err
	default:
		found, err := h.FindPrincipal(ctx, snap.ID, name)
		if err != nil {
			return "", false, err
		}
		for _, r := range found {
			if r.Type == typ && strings.EqualFold(r.Name, name) && (typ != model.TypeIAMUser || r.AccountID == p.AccountID) {
				return target + " no longer exists: snapshot " + strconv.FormatInt(snap.ID, 10) + " of " + snap.StartedAt.UTC().Format(time.RFC3339) +
					" has it, so it was deleted outside warden since", true, nil
			}
		}
	}
	if typ == model.TypeIAMUser {
		if d, err := p.deactivation(ctx, name); err != nil {
			return "", false, err
		} else if d != nil {
			return target + " no longer exists: this database recorded its deactivation, so it was deleted outside warden since", true, nil
		}
	}
	return unknown, false, nil
}
