// Package scim is a SCIM 2.0 client for IAM Identity Center's SCIM
// endpoint (https://scim.<region>.amazonaws.com/<tenant>/scim/v2), written
// on net/http: bearer-token auth, Identity Center's cursor pagination, and
// retries of throttling (429) and server errors with backoff. The token is
// never put in an error, a log record or any output.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// PageSize is the most resources Identity Center's SCIM API returns a page.
const PageSize = 100

// Client talks to one SCIM endpoint.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
	// MaxAttempts bounds the tries of one request (throttling and 5xx are
	// retried); Backoff is the first wait, doubled each retry.
	MaxAttempts int
	Backoff     time.Duration
	calls       int
}

// New returns a client of the SCIM endpoint (ending in /scim/v2) with a
// bearer token. httpClient nil means http.DefaultClient.
func New(endpoint, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("SCIM endpoint %q is not a URL: use the endpoint Identity Center shows under Automatic provisioning, https://scim.<region>.amazonaws.com/<tenant>/scim/v2", endpoint)
	}
	if token == "" {
		return nil, errors.New("no SCIM bearer token: set the environment variable or file named by identity_center.scim.token_env or token_file")
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: u, token: token, http: httpClient, MaxAttempts: 6, Backoff: 500 * time.Millisecond}, nil
}

// Calls returns how many HTTP requests the client made, retries included.
func (c *Client) Calls() int { return c.calls }

// Name is a SCIM user's name.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

// Email is a SCIM e-mail address.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// User is a SCIM user, as far as warden reads it.
type User struct {
	ID          string  `json:"id,omitempty"`
	ExternalID  string  `json:"externalId,omitempty"`
	UserName    string  `json:"userName"`
	DisplayName string  `json:"displayName,omitempty"`
	Name        *Name   `json:"name,omitempty"`
	Emails      []Email `json:"emails,omitempty"`
	Active      *bool   `json:"active,omitempty"`
}

// listResponse is a SCIM ListResponse page.
type listResponse[T any] struct {
	TotalResults int    `json:"totalResults"`
	ItemsPerPage int    `json:"itemsPerPage"`
	NextCursor   string `json:"nextCursor"`
	Resources    []T    `json:"Resources"`
}

// Error is an error answer of the SCIM endpoint.
type Error struct {
	Status int
	Code   string // from x-amzn-ErrorType, e.g. UnauthorizedException
	Detail string
}

// Error implements error; it names what to do for the common cases.
func (e *Error) Error() string {
	msg := fmt.Sprintf("SCIM endpoint answered %d %s: %s", e.Status, e.Code, e.Detail)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (the bearer token is wrong or expired, or the endpoint's tenant id is not this token's: generate a new token under Automatic provisioning in the Identity Center console)"
	case http.StatusTooManyRequests:
		msg += " (Identity Center kept throttling through every retry: sync again later)"
	}
	return msg
}

// ListUsers calls f for every user, reading pages of PageSize with
// Identity Center's cursor pagination (the first page asked with an empty
// cursor). filter, when not empty, is a SCIM filter (Identity Center
// supports `attribute eq "value"` joined by `and`).
func (c *Client) ListUsers(ctx context.Context, filter string, f func(User)) error {
	cursor := ""
	for {
		q := url.Values{"cursor": {cursor}, "count": {strconv.Itoa(PageSize)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		var page listResponse[User]
		if err := c.do(ctx, http.MethodGet, "Users", q, nil, &page); err != nil {
			return fmt.Errorf("list SCIM users: %w", err)
		}
		for _, u := range page.Resources {
			f(u)
		}
		if page.NextCursor == "" || page.NextCursor == cursor {
			return nil
		}
		cursor = page.NextCursor
	}
}

// GetUser reads one user by id.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "Users/"+url.PathEscape(id), nil, nil, &u); err != nil {
		return nil, fmt.Errorf("read SCIM user %s: %w", id, err)
	}
	return &u, nil
}

// SetActive sets a user's "active" flag with a PATCH replace: how Identity
// Center's SCIM API enables and disables a user.
func (c *Client) SetActive(ctx context.Context, id string, active bool) error {
	body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": active}}})
	if err := c.do(ctx, http.MethodPatch, "Users/"+url.PathEscape(id), nil, body, nil); err != nil {
		return fmt.Errorf("set SCIM user %s active=%v: %w", id, active, err)
	}
	return nil
}

// do sends one request, retrying throttling and server errors, and decodes
// the answer into out.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := *c.base
	u.Path = u.Path + "/" + path
	u.RawQuery = q.Encode()
	wait := c.Backoff
	var last error
	for attempt := 1; attempt <= max(1, c.MaxAttempts); attempt++ {
		if attempt > 1 {
			t := time.NewTimer(wait/2 + rand.N(wait/2+1))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(string(body))
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/scim+json")
		if body != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		c.calls++
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = fmt.Errorf("%s %s: %w", method, u.Path, err)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if err != nil {
			last = fmt.Errorf("%s %s: read answer: %w", method, u.Path, err)
			continue
		}
		if resp.StatusCode >= 300 {
			var doc struct {
				Detail string `json:"detail"`
			}
			json.Unmarshal(data, &doc)
			e := &Error{Status: resp.StatusCode, Code: resp.Header.Get("X-Amzn-Errortype"), Detail: doc.Detail}
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
					wait = time.Duration(s) * time.Second
				}
				last = e
				continue
			}
			return e
		}
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not SCIM JSON: %w", method, u.Path, err)
		}
		return nil
	}
	return last
}
