package awsapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// bufferedBodyClient sends every request with its body read into memory
// first, as a plain reader nobody else closes.
//
// Why: the SDK wraps a request body in a closer it closes as soon as the
// response arrives, while net/http's write loop may still be reading that
// body (after the declared length it reads once more to check for extra
// bytes). When the two race, the transport sees a failed body read and closes
// the connection under the response being decoded, and the call fails with
// "failed to decode response body … use of closed network connection" (the
// SDK issues aws/aws-sdk-go-v2#1825 and #2737). The server answering as soon
// as it has read the declared length, as AWS and awsfake do, makes the race
// frequent with large responses such as GetAccountAuthorizationDetails pages.
// AWS query and JSON requests are small forms and documents, so reading them
// first costs nothing.
type bufferedBodyClient struct {
	next aws.HTTPClient
}

// BufferedBodyClient wraps an SDK HTTP client so it sends request bodies
// buffered (see bufferedBodyClient): what any SDK configuration talking to
// awsfake or AWS under load should use. Sessions of this package use it
// already.
func BufferedBodyClient(next aws.HTTPClient) aws.HTTPClient { return bufferedBodyClient{next: next} }

// Do implements aws.HTTPClient.
func (c bufferedBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return c.next.Do(r)
}
