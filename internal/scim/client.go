// Package scim is a SCIM 2.0 client for IAM Identity Center's SCIM
// endpoint (https://scim.<region>.amazonaws.com/<tenant>/scim/v2), written
// on net/http: bearer-token auth (https, or http only to loopback),
// pagination by cursor where the server offers it and by startIndex
// otherwise (RFC 7644), never a partial listing, and retries of throttling
// (429, Retry-After honoured by every request of the client) and server
// errors with backoff. The token is
// never put in an error, a log record or any output.
package scim

import (
	"bytes"
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
	"sync"
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
	rateMu      sync.Mutex   // guards rate and the limiter's changes
	rate        float64      // the requests a second set (SetRate); 429s slow the limiter below it for a while
	pauseUntil  atomic.Int64 // Unix nanoseconds before which no request is sent (a 429's pause)
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
		limiter: rate.NewLimiter(DefaultRate, 5), rate: DefaultRate}, nil
}

// SetRate sets the most requests a second (safe for concurrent use).
func (c *Client) SetRate(perSecond float64) {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	c.rate = perSecond
	c.limiter.SetLimit(rate.Limit(perSecond))
}

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

// listResponse is a SCIM ListResponse page: Identity Center's cursor page
// (itemsPerPage, nextCursor) or RFC 7644's index page (totalResults,
// startIndex, itemsPerPage).
type listResponse[T any] struct {
	TotalResults *int   `json:"totalResults"`
	StartIndex   int    `json:"startIndex"`
	ItemsPerPage int    `json:"itemsPerPage"`
	NextCursor   string `json:"nextCursor"`
	Resources    []T    `json:"Resources"`
}

// Error is an error answer of the SCIM endpoint.
type Error struct {
	Status   int
	Code     string // from x-amzn-ErrorType, e.g. UnauthorizedException
	ScimType string // RFC 7644's scimType, e.g. noTarget or uniqueness
	Detail   string
}

// Error implements error; it names what to do for the common cases.
func (e *Error) Error() string {
	msg := fmt.Sprintf("SCIM endpoint answered %d %s: %s", e.Status, e.Code, e.Detail)
	if e.ScimType != "" {
		msg += " (scimType " + e.ScimType + ")"
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (the bearer token is wrong or expired, or the endpoint's tenant id is not this token's: generate a new token under Automatic provisioning in the Identity Center console)"
	case http.StatusTooManyRequests:
		msg += " (the endpoint kept throttling through every retry: push again later, or lower --rate)"
	}
	return msg
}

// IsAuth reports whether err is the endpoint refusing the token or the
// request (401 or 403): nothing more will succeed, so a run stops.
func IsAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsConflict reports whether err is a 409: the resource already exists.
func IsConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

// IncompleteError is a listing that cannot be read whole: acting on part of
// it (treating the unseen users as missing) would be wrong, so no caller
// gets a partial listing.
type IncompleteError struct {
	Resource string
	Seen     int
	Total    int // totalResults as the server reported it, or -1
	Reason   string
}

// Error implements error.
func (e *IncompleteError) Error() string {
	total := "an unknown number"
	if e.Total >= 0 {
		total = strconv.Itoa(e.Total)
	}
	return fmt.Sprintf("the SCIM endpoint's %s listing is incomplete (%d read of %s): %s; nothing was acted on", e.Resource, e.Seen, total, e.Reason)
}

// ListUsers calls f for every user. filter, when not empty, is a SCIM
// filter (Identity Center supports `attribute eq "value"` joined by
// `and`). Pages follow the server: cursors where it offers them
// (Identity Center; RFC 9865), else startIndex and count until
// totalResults (RFC 7644 §3.4.2.4); a listing that cannot be read whole is
// an *IncompleteError, never a short listing.
func (c *Client) ListUsers(ctx context.Context, filter string, f func(User)) error {
	if err := list(ctx, c, "Users", filter, f); err != nil {
		return fmt.Errorf("list SCIM users: %w", err)
	}
	return nil
}

// ListGroups calls f for every group, paged as ListUsers.
func (c *Client) ListGroups(ctx context.Context, filter string, f func(Group)) error {
	if err := list(ctx, c, "Groups", filter, f); err != nil {
		return fmt.Errorf("list SCIM groups: %w", err)
	}
	return nil
}

// list reads a listing whole. The first page is asked with an empty cursor
// (Identity Center then pages by cursor; a server without cursors ignores
// the parameter and answers an index page with totalResults). A next
// cursor is followed; otherwise pages are asked by startIndex until
// totalResults are read. A repeated cursor, an empty page short of
// totalResults, or a page that is not the one asked for is an
// *IncompleteError.
func list[T any](ctx context.Context, c *Client, resource, filter string, f func(T)) error {
	q := url.Values{"cursor": {""}, "count": {strconv.Itoa(PageSize)}}
	if filter != "" {
		q.Set("filter", filter)
	}
	seen, byCursor, start := 0, false, 1
	incomplete := func(total *int, reason string) error {
		t := -1
		if total != nil {
			t = *total
		}
		return &IncompleteError{Resource: resource, Seen: seen, Total: t, Reason: reason}
	}
	for {
		var page listResponse[T]
		if err := c.do(ctx, http.MethodGet, resource, q, nil, &page); err != nil {
			return err
		}
		if !byCursor && start > 1 && page.StartIndex != 0 && page.StartIndex != start {
			return incomplete(page.TotalResults, fmt.Sprintf("asked for the page at startIndex %d, the server answered the one at %d (it does not page by startIndex)", start, page.StartIndex))
		}
		for _, r := range page.Resources {
			f(r)
		}
		seen += len(page.Resources)
		switch {
		case page.NextCursor != "":
			if page.NextCursor == q.Get("cursor") {
				return incomplete(page.TotalResults, "the server answered the cursor it was asked with")
			}
			byCursor = true
			q.Set("cursor", page.NextCursor)
		case byCursor || page.TotalResults == nil:
			// The last cursor page (Identity Center's carry no total).
			if page.TotalResults != nil && seen < *page.TotalResults {
				return incomplete(page.TotalResults, "the last page came before totalResults")
			}
			return nil
		case seen >= *page.TotalResults:
			return nil
		case len(page.Resources) == 0:
			return incomplete(page.TotalResults, "an empty page came before totalResults")
		default:
			q.Del("cursor")
			start = seen + 1
			q.Set("startIndex", strconv.Itoa(start))
		}
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

// do sends one request, retrying throttling, server errors and network
// failures with backoff, and decodes the answer into out. A 429 pauses
// every request of the client, not only this one: until its Retry-After
// has passed (a floor: the jitter is added above it, never below) or,
// without one, for the backoff; and the client's rate is halved, then
// regained as requests succeed. 401 and 403 are never retried.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := *c.base
	u.Path = u.Path + "/" + path
	u.RawQuery = q.Encode()
	wait := c.Backoff
	for attempt := 1; ; attempt++ {
		if err := c.paused(ctx); err != nil {
			return err
		}
		o, err := c.once(ctx, method, &u, body, out)
		if !o.retry || attempt >= max(1, c.MaxAttempts) {
			return err
		}
		delay := wait/2 + rand.N(wait/2+1)
		wait *= 2
		if o.floor > 0 {
			delay = o.floor + rand.N(o.floor/10+time.Millisecond)
		}
		if o.throttled {
			c.slowDown()
			c.pauseFor(delay) // this request waits at the top of the loop, with every other
			continue
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// outcome says what a failed attempt means for the next: retry whether
// another may succeed, throttled whether the endpoint answered 429, floor
// its Retry-After (0 when it sent none).
type outcome struct {
	retry, throttled bool
	floor            time.Duration
}

// once sends one request.
func (c *Client) once(ctx context.Context, method string, u *url.URL, body []byte, out any) (outcome, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return outcome{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return outcome{}, err
	}
	c.calls.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		return outcome{retry: true}, fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.serverTime.Store(t.Unix())
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	resp.Body.Close()
	if err != nil {
		return outcome{retry: true}, fmt.Errorf("%s %s: read answer: %w", method, u.Path, err)
	}
	if resp.StatusCode >= 300 {
		var doc struct {
			Detail   string `json:"detail"`
			ScimType string `json:"scimType"`
		}
		json.Unmarshal(data, &doc)
		e := &Error{Status: resp.StatusCode, Code: resp.Header.Get("X-Amzn-Errortype"), ScimType: doc.ScimType, Detail: doc.Detail}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			floor := retryAfter(resp.Header.Get("Retry-After"), time.Now())
			return outcome{retry: true, throttled: resp.StatusCode == http.StatusTooManyRequests, floor: floor}, e
		}
		return outcome{}, e
	}
	c.speedUp()
	if out == nil || len(data) == 0 {
		return outcome{}, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return outcome{}, fmt.Errorf("%s %s: the answer is not SCIM JSON: %w", method, u.Path, err)
	}
	return outcome{}, nil
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3: seconds, or an
// HTTP date); 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// paused waits while the client is paused by a 429.
func (c *Client) paused(ctx context.Context) error {
	for {
		d := time.Until(time.Unix(0, c.pauseUntil.Load()))
		if d <= 0 {
			return ctx.Err()
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// pauseFor holds every request of the client for d from now (or longer,
// when an earlier pause ends later).
func (c *Client) pauseFor(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.pauseUntil.Load()
		if cur >= until || c.pauseUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// slowDown halves the request rate after a 429 (to no less than a
// thirty-second of the rate set).
func (c *Client) slowDown() {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	c.limiter.SetLimit(max(c.limiter.Limit()/2, rate.Limit(c.rate/32)))
}

// speedUp regains a fiftieth of the rate set with each success, up to it.
func (c *Client) speedUp() {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	if l := c.limiter.Limit(); l < rate.Limit(c.rate) {
		c.limiter.SetLimit(min(rate.Limit(c.rate), l+rate.Limit(c.rate/50)))
	}
}
