package syncer

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/access"
)

// TestAccessShowsMFADevices syncs an account and checks that `access`
// lists each user's MFA devices, virtual and hardware, as the truth holds
// them.
func TestAccessShowsMFADevices(t *testing.T) {
	e := newEnv(t, smallEstate, envOptions{})
	snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kinds := map[bool]int{}
	for _, u := range e.truth.IAM.Users {
		p, err := e.st.Resource(ctx, snap.ID, u.ARN)
		if err != nil {
			t.Fatal(err)
		}
		held, err := e.st.GrantsOf(ctx, snap.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, m := range access.NewAccess(p, held, nil).MFADevices {
			got = append(got, m.Name)
		}
		for _, m := range u.MFADevices {
			want = append(want, m.SerialNumber)
			kinds[m.Virtual]++
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("access %s: mfa_devices %v, want %v", u.Name, got, want)
		}
	}
	if kinds[true] == 0 || kinds[false] == 0 {
		t.Errorf("the estate holds %d virtual and %d hardware devices: want both", kinds[true], kinds[false])
	}
}
