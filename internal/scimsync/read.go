package scimsync

import (
	"io"
	"strings"
)

// ReadSource reads a source as LoadSource does, from r rather than a file:
// format "json" is the JSON form, anything else CSV; name says where it came
// from in problems (the HTTP API's request body).
func ReadSource(r io.Reader, name, format string) (*Source, error) {
	r = withoutBOM(r)
	if strings.EqualFold(format, "json") {
		return readJSON(r, name)
	}
	return readCSV(r, name)
}
