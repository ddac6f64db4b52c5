package collect

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// Access keys come from two places. The credential report has two slots per
// user, access_key_1 and access_key_2, each with its status, last rotation
// (for a key never rotated in place, its creation) and last use, but no key
// ID. ListAccessKeys gives the IDs, status and creation time. AWS does not
// document which key sits in which slot, so a listed key takes the slot
// whose last_rotated equals its CreateDate to the second (the report's
// precision); a slot without a rotation time goes to the oldest unmatched
// key. A key in no slot (created after the report) gets its last use from
// GetAccessKeyLastUsed.

// accessKey is one access key as the sync saw it.
type accessKey struct {
	User            string // user name
	ID              string // AKIA…; "" when only the report's slot is known
	Slot            int    // report slot 1 or 2; 0 when the key is in no slot
	Status          string // Active or Inactive
	CreatedAt       *time.Time
	LastRotated     *time.Time
	LastUsed        *time.Time
	LastUsedRegion  string
	LastUsedService string
	// lastUsedErr is why GetAccessKeyLastUsed failed for the key: its last
	// use is then unknown.
	lastUsedErr error
}

// getAccessKeys finds every user's access keys with the fewest calls:
//
//   - with the report and o.AccessKeys: ListAccessKeys for the users the
//     report shows with a key (active or not) and for users newer than the
//     report, last use from the report (GetAccessKeyLastUsed for a key the
//     report does not show);
//   - with the report only: the report's slots, without key IDs;
//   - without the report and with o.AccessKeys: ListAccessKeys for every
//     user and GetAccessKeyLastUsed for every key;
//   - with neither: nothing.
//
// Calls run o.Concurrency at a time. A user whose keys cannot be listed is
// recorded in the returned errors and in failed (user name → the part not
// read) and falls back to the report's slots; a key whose last use cannot
// be read is kept without it. The returned error is set only when ctx ends.
func getAccessKeys(ctx context.Context, client IAMAPI, accountID string, users []types.UserDetail, report *credentialReport, o IAMOptions) (keys []accessKey, errs []model.SourceError, failed map[string]string, err error) {
	var todo []string // users to call ListAccessKeys for
	for _, u := range users {
		name := aws.ToString(u.UserName)
		row := reportRowOf(report, name)
		switch {
		case o.KeepKeysOf != nil && o.KeepKeysOf(name):
			// The caller keeps this user's keys from an earlier read.
		case o.AccessKeys && (report == nil || row == nil || row.hasKeys()):
			todo = append(todo, name)
		case row != nil:
			keys = append(keys, slotKeys(name, row)...)
		}
	}
	if len(todo) == 0 {
		return keys, nil, nil, nil
	}
	results := make([][]accessKey, len(todo))
	failures := make([]error, len(todo))
	var done int
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Concurrency, len(todo)) {
		wg.Go(func() {
			for i := range work {
				results[i], failures[i] = userAccessKeys(ctx, client, todo[i], reportRowOf(report, todo[i]))
				mu.Lock()
				done++
				o.Progress(StepAccessKeys, done, len(todo))
				mu.Unlock()
			}
		})
	}
feed:
	for i := range todo {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("list the access keys of account %s: %w", accountID, err)
	}
	var failedNames []string
	var firstErr, lastUsedErr error
	var lastUsedFailed []string
	failed = map[string]string{}
	for i, name := range todo {
		if failures[i] != nil {
			failedNames = append(failedNames, name)
			if firstErr == nil {
				firstErr = failures[i]
			}
			failed[name] = "access_keys"
			if row := reportRowOf(report, name); row != nil {
				keys = append(keys, slotKeys(name, row)...)
				failed[name] = "access_key_ids"
			}
			continue
		}
		for _, k := range results[i] {
			if k.lastUsedErr != nil {
				lastUsedFailed = append(lastUsedFailed, k.ID)
				lastUsedErr = k.lastUsedErr
			}
		}
		keys = append(keys, results[i]...)
	}
	if len(failedNames) > 0 {
		problem, fix := awsapi.Explain(firstErr)
		if fix == "" {
			fix = "sync again"
		}
		errs = append(errs, model.SourceError{AccountID: accountID, Source: SourceAccessKeys,
			Message: fmt.Sprintf("could not list the access keys of %d user(s) (first: %s): %s; their keys are recorded from the credential report, without key IDs, where it has them",
				len(failedNames), failedNames[0], problem),
			Fix: fix})
	}
	if len(lastUsedFailed) > 0 {
		problem, fix := awsapi.Explain(lastUsedErr)
		if fix == "" {
			fix = "sync again"
		}
		errs = append(errs, model.SourceError{AccountID: accountID, Source: SourceAccessKeys,
			Message: fmt.Sprintf("could not read the last use of %d access key(s) (first: %s): %s; the keys are recorded, their last use is unknown",
				len(lastUsedFailed), lastUsedFailed[0], problem),
			Fix: fix})
	}
	return keys, errs, failed, nil
}

// userAccessKeys lists one user's keys and fills in their last use: from
// the report slot a key matches, else with GetAccessKeyLastUsed. A user
// deleted since the authorization details were read has no keys.
func userAccessKeys(ctx context.Context, client IAMAPI, user string, row *reportRow) ([]accessKey, error) {
	listed, err := listAccessKeys(ctx, client, user)
	if err != nil {
		if apiErrorCode(err) == "NoSuchEntity" {
			return nil, nil
		}
		return nil, err
	}
	keys := matchReportSlots(user, listed, row)
	for i := range keys {
		if keys[i].Slot == 0 {
			out, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keys[i].ID)})
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				// One key's last use costs only itself.
				keys[i].lastUsedErr = fmt.Errorf("get last use of access key %s of user %s: %w", keys[i].ID, user, err)
				continue
			}
			if lu := out.AccessKeyLastUsed; lu != nil {
				keys[i].LastUsed = timePtr(lu.LastUsedDate)
				keys[i].LastUsedRegion = notApplicable(aws.ToString(lu.Region))
				keys[i].LastUsedService = notApplicable(aws.ToString(lu.ServiceName))
			}
		}
	}
	return keys, nil
}

// listAccessKeys returns every key of user, following Marker.
func listAccessKeys(ctx context.Context, client IAMAPI, user string) ([]types.AccessKeyMetadata, error) {
	var keys []types.AccessKeyMetadata
	in := &iam.ListAccessKeysInput{UserName: aws.String(user), MaxItems: aws.Int32(maxItems)}
	for {
		out, err := client.ListAccessKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list access keys of user %s: %w", user, err)
		}
		keys = append(keys, out.AccessKeyMetadata...)
		next := aws.ToString(out.Marker)
		if !out.IsTruncated || next == "" || next == aws.ToString(in.Marker) {
			return keys, nil
		}
		in.Marker = aws.String(next)
	}
}

// matchReportSlots pairs listed keys with the report's slots (see the top
// of this file) and takes last use from the slot.
func matchReportSlots(user string, listed []types.AccessKeyMetadata, row *reportRow) []accessKey {
	keys := make([]accessKey, len(listed))
	for i, k := range listed {
		keys[i] = accessKey{User: user, ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreatedAt: timePtr(k.CreateDate)}
		keys[i].LastRotated = keys[i].CreatedAt
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i].CreatedAt, keys[j].CreatedAt
		if a == nil || b == nil {
			return a != nil
		}
		if !a.Equal(*b) {
			return a.Before(*b)
		}
		return keys[i].ID < keys[j].ID
	})
	if row == nil {
		return keys
	}
	var taken [2]bool
	for i := range keys {
		for s, slot := range row.Keys {
			if !taken[s] && slot.LastRotated != nil && keys[i].CreatedAt != nil &&
				slot.LastRotated.Equal(keys[i].CreatedAt.Truncate(time.Second)) {
				taken[s], keys[i].Slot = true, s+1
				break
			}
		}
	}
	for i := range keys {
		if keys[i].Slot != 0 {
			continue
		}
		for s, slot := range row.Keys {
			if !taken[s] && slot.exists() && slot.LastRotated == nil {
				taken[s], keys[i].Slot = true, s+1
				break
			}
		}
	}
	for i := range keys {
		if keys[i].Slot == 0 {
			continue
		}
		slot := row.Keys[keys[i].Slot-1]
		keys[i].LastUsed, keys[i].LastUsedRegion, keys[i].LastUsedService = slot.LastUsed, slot.LastUsedRegion, slot.LastUsedService
	}
	return keys
}

// slotKeys returns the keys a report row shows, without IDs.
func slotKeys(user string, row *reportRow) []accessKey {
	var keys []accessKey
	for s, slot := range row.Keys {
		if !slot.exists() {
			continue
		}
		status := string(types.StatusTypeInactive)
		if slot.Active {
			status = string(types.StatusTypeActive)
		}
		keys = append(keys, accessKey{User: user, Slot: s + 1, Status: status, LastRotated: slot.LastRotated,
			LastUsed: slot.LastUsed, LastUsedRegion: slot.LastUsedRegion, LastUsedService: slot.LastUsedService})
	}
	return keys
}

// slotName names a key known only from the report by its slot.
func slotName(slot int) string { return fmt.Sprintf("access_key_%d", slot) }

// transformAccessKeys adds the keys, owned by their users.
func transformAccessKeys(b *graphBuilder, keys []accessKey, users []types.UserDetail) {
	arnOf := make(map[string]string, len(users))
	for _, u := range users {
		arnOf[aws.ToString(u.UserName)] = aws.ToString(u.Arn)
	}
	for _, k := range keys {
		userARN, ok := arnOf[k.User]
		if !ok {
			continue
		}
		name := k.ID
		if name == "" {
			name = slotName(k.Slot)
		}
		keyID := name
		if k.ID == "" {
			keyID = k.User + "/" + name
		}
		id := model.AccessKeyID(b.account, keyID)
		r := model.Resource{ID: id, Type: model.TypeAccessKey, AccountID: b.account, Name: name, ParentID: userARN,
			AccessKey: &model.AccessKeyAttrs{Status: k.Status, LastRotated: k.LastRotated, LastUsed: k.LastUsed,
				LastUsedRegion: k.LastUsedRegion, LastUsedService: k.LastUsedService}}
		if k.CreatedAt != nil {
			r.CreatedAt = *k.CreatedAt
		}
		if k.lastUsedErr != nil {
			r.Unread = []string{"last_used"}
		}
		b.resource(r)
		b.grant(userARN, b.entitlement(id, model.EntOwner), model.ViaDirect, "")
	}
}

// notApplicable maps AWS's "N/A" to "".
func notApplicable(v string) string {
	if noValue[v] {
		return ""
	}
	return v
}
