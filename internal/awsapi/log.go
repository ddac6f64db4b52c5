package awsapi

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger routes the SDK's own log messages into warden's slog logger, at
// debug level whatever the SDK's classification: its warnings (the instance
// metadata client's "falling back to IMDSv1", say) are about the SDK's
// internals, not something a warden user can act on, and the SDK would
// otherwise print them on stderr unasked.
type sdkLogger struct{ log *slog.Logger }

var _ logging.Logger = sdkLogger{}

// Logf implements logging.Logger.
func (l sdkLogger) Logf(classification logging.Classification, format string, v ...any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.Debug(fmt.Sprintf(format, v...), "source", "aws-sdk", "sdk_level", string(classification))
}

// staticCredentials reports whether the session's credentials are the
// caller's own (given in Options or in the AWS_ACCESS_KEY_ID environment
// the SDK's chain takes first), so the chain never reaches the instance
// metadata service.
func staticCredentials(o Options) bool {
	if o.Credentials != nil {
		return true
	}
	return o.Profile == "" && os.Getenv("AWS_PROFILE") == "" &&
		os.Getenv("AWS_ACCESS_KEY_ID") != "" && os.Getenv("AWS_SECRET_ACCESS_KEY") != ""
}
