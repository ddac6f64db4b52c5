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
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
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
	calls       atomic.Int64
	limiter     *rate.Limiter
	serverTime  atomic.Int64 // Unix seconds of the last answer's Date header
}

// ServerTime returns the time the endpoint's last answer was sent (its
// Date header), zero when none was read: a clock check.
func (c *Client) ServerTime() time.Time {
	if s := c.serverTime.Load(); s != 0 {
		return time.Unix(s, 0)
	}
	return time.Time{}
}

// DefaultRate is the default limit on requests a second. AWS publishes no
// rate for Identity Center's SCIM endpoint; 429s slow the client further.
const DefaultRate = 20

// New returns a client of the SCIM endpoint (ending in /scim/v2) with a
// bearer token. httpClient nil means a default one. The endpoint must pass
// EndpointProblem: https, or http only to a loopback host.
func New(endpoint, token string, httpClient *http.Client) (*Client, error) {
	if msg := EndpointProblem(endpoint); msg != "" {
		return nil, errors.New("SCIM endpoint " + msg)
	}
	u, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("SCIM endpoint: %w", err)
	}
	if token == "" {
		return nil, errors.New("no SCIM bearer token: set the environment variable or file named by identity_center.scim.token_env or token_file")
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	// A redirect must not carry the token anywhere the endpoint itself
	// could not be: refuse one to plain http off this machine.
	hc := *httpClient
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if msg := CleartextProblem(req.URL.String()); msg != "" {
			return errors.New("refused a redirect: " + msg)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	httpClient = &hc
	return &Client{base: u, token: token, http: httpClient, MaxAttempts: 6, Backoff: 500 * time.Millisecond,
		limiter: rate.NewLimiter(DefaultRate, 5)}, nil
}

// SetRate sets the most requests a second (safe for concurrent use).
func (c *Client) SetRate(perSecond float64) { c.limiter.SetLimit(rate.Limit(perSecond)) }

// Calls returns how many HTTP requests the client made, retries included.
func (c *Client) Calls() int { return int(c.calls.Load()) }

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

// EnterpriseURN is the schema of the enterprise user extension.
const EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// Enterprise holds the enterprise extension attributes warden writes.
type Enterprise struct {
	Department string `json:"department,omitempty"`
}

// User is a SCIM user.
type User struct {
	Schemas     []string    `json:"schemas,omitempty"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName,omitempty"`
	Name        *Name       `json:"name,omitempty"`
	Emails      []Email     `json:"emails,omitempty"`
	Title       string      `json:"title,omitempty"`
	Active      *bool       `json:"active,omitempty"`
	Enterprise  *Enterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
}

// Group is a SCIM group. Identity Center returns groups without members;
// other SCIM servers list them.
type Group struct {
	Schemas     []string `json:"schemas,omitempty"`
	ID          string   `json:"id,omitempty"`
	DisplayName string   `json:"displayName"`
	ExternalID  string   `json:"externalId,omitempty"`
	Members     []Member `json:"members,omitempty"`
}

// Member is a group member reference.
type Member struct {
	Value string `json:"value"`
}

// Operation is one operation of a SCIM PATCH.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// MaxMemberChanges is how many member changes Identity Center accepts in
// one group PATCH.
const MaxMemberChanges = 100

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

// ListGroups calls f for every group, in cursor pages of PageSize.
func (c *Client) ListGroups(ctx context.Context, filter string, f func(Group)) error {
	cursor := ""
	for {
		q := url.Values{"cursor": {cursor}, "count": {strconv.Itoa(PageSize)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		var page listResponse[Group]
		if err := c.do(ctx, http.MethodGet, "Groups", q, nil, &page); err != nil {
			return fmt.Errorf("list SCIM groups: %w", err)
		}
		for _, g := range page.Resources {
			f(g)
		}
		if page.NextCursor == "" || page.NextCursor == cursor {
			return nil
		}
		cursor = page.NextCursor
	}
}

// CreateUser creates a user and returns it with its id.
func (c *Client) CreateUser(ctx context.Context, u User) (*User, error) {
	u.Schemas = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
	if u.Enterprise != nil {
		u.Schemas = append(u.Schemas, EnterpriseURN)
	}
	body, _ := json.Marshal(u)
	var out User
	if err := c.do(ctx, http.MethodPost, "Users", nil, body, &out); err != nil {
		return nil, fmt.Errorf("create SCIM user %s: %w", u.UserName, err)
	}
	return &out, nil
}

// ReplaceUser replaces a user's attributes (PUT).
func (c *Client) ReplaceUser(ctx context.Context, id string, u User) (*User, error) {
	u.Schemas = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
	u.ID = id
	body, _ := json.Marshal(u)
	var out User
	if err := c.do(ctx, http.MethodPut, "Users/"+url.PathEscape(id), nil, body, &out); err != nil {
		return nil, fmt.Errorf("replace SCIM user %s: %w", id, err)
	}
	return &out, nil
}

// RenameGroup changes a group's display name.
func (c *Client) RenameGroup(ctx context.Context, id, name string) error {
	return c.patch(ctx, "Groups/"+url.PathEscape(id), []Operation{{Op: "replace", Path: "displayName", Value: name}})
}

// PatchUser applies operations (replace of changed attributes) to a user.
func (c *Client) PatchUser(ctx context.Context, id string, ops []Operation) error {
	return c.patch(ctx, "Users/"+url.PathEscape(id), ops)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "Users/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete SCIM user %s: %w", id, err)
	}
	return nil
}

// CreateGroup creates an empty group and returns it with its id.
func (c *Client) CreateGroup(ctx context.Context, g Group) (*Group, error) {
	g.Schemas = []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}
	body, _ := json.Marshal(g)
	var out Group
	if err := c.do(ctx, http.MethodPost, "Groups", nil, body, &out); err != nil {
		return nil, fmt.Errorf("create SCIM group %s: %w", g.DisplayName, err)
	}
	return &out, nil
}

// ChangeMembers adds and removes group members in PATCHes of at most
// MaxMemberChanges changes each (Identity Center refuses more, and refuses
// replacing all members at once).
func (c *Client) ChangeMembers(ctx context.Context, groupID string, add, remove []string) error {
	type change struct {
		op string
		id string
	}
	var all []change
	for _, id := range add {
		all = append(all, change{"add", id})
	}
	for _, id := range remove {
		all = append(all, change{"remove", id})
	}
	for start := 0; start < len(all); start += MaxMemberChanges {
		var ops []Operation
		var addVals, removeVals []map[string]string
		for _, ch := range all[start:min(start+MaxMemberChanges, len(all))] {
			if ch.op == "add" {
				addVals = append(addVals, map[string]string{"value": ch.id})
			} else {
				removeVals = append(removeVals, map[string]string{"value": ch.id})
			}
		}
		if len(addVals) > 0 {
			ops = append(ops, Operation{Op: "add", Path: "members", Value: addVals})
		}
		if len(removeVals) > 0 {
			ops = append(ops, Operation{Op: "remove", Path: "members", Value: removeVals})
		}
		if err := c.patch(ctx, "Groups/"+url.PathEscape(groupID), ops); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "Groups/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete SCIM group %s: %w", id, err)
	}
	return nil
}

// patch sends a PatchOp.
func (c *Client) patch(ctx context.Context, path string, ops []Operation) error {
	body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops})
	if err := c.do(ctx, http.MethodPatch, path, nil, body, nil); err != nil {
		return fmt.Errorf("patch SCIM %s: %w", path, err)
	}
	return nil
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
	return c.PatchUser(ctx, id, []Operation{{Op: "replace", Path: "active", Value: active}})
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
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
		c.calls.Add(1)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = fmt.Errorf("%s %s: %w", method, u.Path, err)
			continue
		}
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			c.serverTime.Store(t.Unix())
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
