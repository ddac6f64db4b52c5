package collect

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// mfaDevice is one MFA device as the sync saw it.
type mfaDevice struct {
	User      string // user name
	Serial    string // a virtual device's or FIDO key's ARN, a hardware token's serial
	Virtual   bool
	EnabledAt *time.Time
}

// isVirtualSerial reports whether a serial number from ListMFADevices is a
// virtual device's: arn:aws:iam::ACCOUNT:mfa/NAME (a FIDO key's is
// arn:…:u2f/…, a hardware token's no ARN).
func isVirtualSerial(serial string) bool {
	return strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/")
}

// getMFADevices finds the users' MFA devices with the fewest calls:
// ListVirtualMFADevices with AssignmentStatus=Assigned pages over every
// assigned virtual device of the account with its user, 1000 a page; then
// ListMFADevices only for the users the credential report shows with MFA
// active who hold no virtual device (their hardware token or FIDO key).
// Without the report every user without a virtual device is asked; when
// the virtual listing fails, every user the report shows with MFA (every
// user without it).
//
// A failed listing is recorded in the returned errors; a user whose
// devices could not be read is in unread. The returned error is set only
// when ctx ends.
func getMFADevices(ctx context.Context, client IAMAPI, accountID string, users []types.UserDetail, report *credentialReport, o IAMOptions) (devices []mfaDevice, errs []model.SourceError, unread map[string]bool, err error) {
	o.Progress(StepMFADevices, 0, 0)
	hasVirtual := map[string]bool{}
	virtualErr := error(nil)
	in := &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned, MaxItems: aws.Int32(maxItems)}
	for {
		out, err := client.ListVirtualMFADevices(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, fmt.Errorf("list the MFA devices of account %s: %w", accountID, ctx.Err())
			}
			virtualErr, devices, hasVirtual = err, nil, map[string]bool{}
			break
		}
		for _, d := range out.VirtualMFADevices {
			if d.User == nil {
				continue // AssignmentStatus=Assigned: not expected
			}
			user := aws.ToString(d.User.UserName)
			hasVirtual[user] = true
			devices = append(devices, mfaDevice{User: user, Serial: aws.ToString(d.SerialNumber), Virtual: true, EnabledAt: timePtr(d.EnableDate)})
		}
		next := aws.ToString(out.Marker)
		if !out.IsTruncated || next == "" || next == aws.ToString(in.Marker) {
			break
		}
		in.Marker = aws.String(next)
	}
	if virtualErr != nil {
		problem, fix := awsapi.Explain(virtualErr)
		if fix == "" {
			fix = "sync again"
		}
		errs = append(errs, model.SourceError{AccountID: accountID, Source: SourceMFADevices,
			Message: "could not list the virtual MFA devices: " + problem + "; the devices of the users with MFA were listed per user instead", Fix: fix})
	}
	var todo []string
	for _, u := range users {
		name := aws.ToString(u.UserName)
		row := reportRowOf(report, name)
		if !hasVirtual[name] && (row == nil || row.MFAActive) {
			todo = append(todo, name)
		}
	}
	found := make([][]mfaDevice, len(todo))
	failed := make([]error, len(todo))
	var done int
	var mu sync.Mutex
	berr := bounded(ctx, make(chan struct{}, o.Concurrency), len(todo), func(ctx context.Context, i int) error {
		found[i], failed[i] = userMFADevices(ctx, client, todo[i])
		mu.Lock()
		done++
		o.Progress(StepMFADevices, done, len(todo))
		mu.Unlock()
		return nil
	})
	if berr != nil {
		return nil, nil, nil, fmt.Errorf("list the MFA devices of account %s: %w", accountID, berr)
	}
	unread = map[string]bool{}
	var names []string
	var first error
	for i, name := range todo {
		if failed[i] != nil {
			unread[name] = true
			names = append(names, name)
			if first == nil {
				first = failed[i]
			}
			continue
		}
		devices = append(devices, found[i]...)
	}
	if len(names) > 0 {
		problem, fix := awsapi.Explain(first)
		if fix == "" {
			fix = "sync again"
		}
		errs = append(errs, model.SourceError{AccountID: accountID, Source: SourceMFADevices,
			Message: fmt.Sprintf("could not list the MFA devices of %d user(s) (first: %s): %s; their devices are unknown in this snapshot", len(names), names[0], problem),
			Fix:     fix})
	}
	return devices, errs, unread, nil
}

// userMFADevices lists one user's MFA devices. A user deleted since the
// authorization details were read has none.
func userMFADevices(ctx context.Context, client IAMAPI, user string) ([]mfaDevice, error) {
	var out []mfaDevice
	in := &iam.ListMFADevicesInput{UserName: aws.String(user), MaxItems: aws.Int32(maxItems)}
	for {
		page, err := client.ListMFADevices(ctx, in)
		if err != nil {
			if apiErrorCode(err) == "NoSuchEntity" {
				return nil, nil
			}
			return nil, fmt.Errorf("list MFA devices of user %s: %w", user, err)
		}
		for _, d := range page.MFADevices {
			serial := aws.ToString(d.SerialNumber)
			out = append(out, mfaDevice{User: user, Serial: serial, Virtual: isVirtualSerial(serial), EnabledAt: timePtr(d.EnableDate)})
		}
		next := aws.ToString(page.Marker)
		if !page.IsTruncated || next == "" || next == aws.ToString(in.Marker) {
			return out, nil
		}
		in.Marker = aws.String(next)
	}
}

// transformMFADevices adds the devices, owned by their users.
func transformMFADevices(b *graphBuilder, devices []mfaDevice, users []types.UserDetail) {
	arnOf := make(map[string]string, len(users))
	for _, u := range users {
		arnOf[aws.ToString(u.UserName)] = aws.ToString(u.Arn)
	}
	for _, d := range devices {
		userARN, ok := arnOf[d.User]
		if !ok {
			continue // a user created after the authorization details
		}
		id := model.MFADeviceID(b.account, d.Serial)
		b.resource(model.Resource{ID: id, Type: model.TypeMFADevice, AccountID: b.account, Name: d.Serial, ParentID: userARN,
			MFADevice: &model.MFADeviceAttrs{Virtual: d.Virtual, EnabledAt: d.EnabledAt, SerialName: d.Serial}})
		b.grant(userARN, b.entitlement(id, model.EntOwner), model.ViaDirect, "")
	}
}
