package provision

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"
)

// TestExistence: a read that succeeds says the thing exists, one refused
// with a code that says it is not there says it does not, and any other
// failure (another code, or no AWS error at all) is the read's error,
// saying what was read and wrapping the cause.
func TestExistence(t *testing.T) {
	missing := &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "not there"}
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "slow down"}
	network := errors.New("connection reset")
	for _, tt := range []struct {
		err     error
		exists  bool
		wantErr error
	}{
		{nil, true, nil},
		{missing, false, nil},
		{throttled, false, throttled},
		{network, false, network},
	} {
		exists, err := existence(tt.err, "read group ops", "ValidationException", "NoSuchEntity")
		if exists != tt.exists || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("existence(%v) = %v, %v; want %v, %v", tt.err, exists, err, tt.exists, tt.wantErr)
		}
		if err != nil && err.Error() != "read group ops: "+tt.wantErr.Error() {
			t.Errorf("existence(%v) error %q does not say what was read", tt.err, err)
		}
	}
}
