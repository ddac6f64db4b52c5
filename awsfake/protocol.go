package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is an AWS error answer.
type apiError struct {
	status  int
	code    string
	message string
	// fields are further members of a JSON-protocol error body, such as
	// Organizations' Reason; the query protocol has no place for them.
	fields map[string]string
}

func errValidation(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", message: msg}
}

func errNoSuchEntity(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchEntity", message: msg}
}

var namespaces = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

// writeQueryResult writes a query-protocol answer:
// <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…
func writeQueryResult(w http.ResponseWriter, service, action, requestID string, result any) {
	body, err := xml.Marshal(result)
	if err != nil {
		writeQueryError(w, requestID, http.StatusInternalServerError, "InternalFailure", err.Error(), service)
		return
	}
	out := fmt.Sprintf(`<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, namespaces[service], action, innerXML(body), action, requestID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Header().Set("X-Amzn-Requestid", requestID)
	io.WriteString(w, out)
}

// innerXML strips the outer element xml.Marshal wrote for a result struct.
func innerXML(b []byte) string {
	s := string(b)
	start := strings.IndexByte(s, '>')
	end := strings.LastIndexByte(s, '<')
	if start < 0 || end <= start || strings.HasSuffix(s[:start], "/") {
		return ""
	}
	return s[start+1 : end]
}

// writeQueryError writes AWS's query-protocol error XML.
func writeQueryError(w http.ResponseWriter, requestID string, status int, code, message, service string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(message))
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		namespaces[service], typ, code, esc.String(), requestID)
}

// awsTime formats a time as the query protocol does.
func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// encodeDocument URL-encodes a policy document as IAM returns it (RFC 3986).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// memberList reads a query-protocol list parameter (Name.member.N).
func (r *request) memberList(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := r.form[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func (r *request) get(name string) string {
	if v := r.form[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// page reads MaxItems (1..1000, default 100) and Marker, returning the start
// offset and page size.
func (r *request) page() (int, int, *apiError) {
	size := 100
	if v := r.get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v))
		}
		size = n
	}
	if r.pageLimit > 0 {
		size = min(size, r.pageLimit)
	}
	start := 0
	if m := r.get("Marker"); m != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "fake-marker-"))
		if err != nil || n < 0 || !strings.HasPrefix(m, "fake-marker-") {
			return 0, 0, errValidation("Invalid Marker.")
		}
		start = n
	}
	return start, size, nil
}

// pageEnd returns the end of a page and the marker for the next one.
func pageEnd(start, size, total int) (end int, truncated bool, marker string) {
	end = min(start+size, total)
	if end < total {
		return end, true, "fake-marker-" + strconv.Itoa(end)
	}
	return end, false, ""
}
