package provision

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/smithy-go/middleware"

	"github.com/warden-iam/warden/internal/store"
)

// AuditLog keeps the record of every call: written before the call
// (StartAudit, result started) and completed after it (FinishAudit), so a
// call in flight when the process died is visible as such.
type AuditLog interface {
	AppendAudit(ctx context.Context, r store.AuditRecord) error
	StartAudit(ctx context.Context, r store.AuditRecord) (int64, error)
	FinishAudit(ctx context.Context, id int64, result, requestID, detail string, outcome map[string]string) error
}

// DeactivationRecords keeps what deactivations removed.
type DeactivationRecords interface {
	SaveDeactivation(ctx context.Context, connectionID, accountID, principal, state string) error
	Deactivation(ctx context.Context, connectionID, accountID, principal string) (string, error)
}

// Provisioner plans and applies actions in one account.
type Provisioner struct {
	IAM          *iam.Client
	AccountID    string
	ConnectionID string
	Actor        string // the ARN of the credentials, for the audit log
	Audit        AuditLog
	Records      DeactivationRecords
	// IC is the Identity Center instance of Identity Center actions; nil
	// refuses them.
	IC *IdentityCenter
	// SCIM is Identity Center's SCIM endpoint, through which Identity
	// Center users are deactivated and reactivated; nil refuses those.
	SCIM SCIMUsers
	// DeleteAttempts and DeleteBackoff bound the retries of DeleteUser
	// while AWS still answers DeleteConflict or ConcurrentModification right
	// after the user's last dependency went; defaults 6 and 1s (doubling).
	DeleteAttempts int
	DeleteBackoff  time.Duration
	// Now is the clock of audit records; nil means time.Now.
	Now func() time.Time
	// Org, when set, checks that an assignment's account is in the
	// organization before anything is written.
	Org OrgAccounts

	// pend is the state of the planning run under way (see PlanAll).
	pend *pending
}

// Secret is a value warden generated (a console password), returned once
// to be handed to its owner; it is stored and logged nowhere.
type Secret struct {
	What  string `json:"what"`
	Value string `json:"value"`
}

// StepResult is one executed call.
type StepResult struct {
	Step      Step   `json:"step"`
	RequestID string `json:"request_id"`
}

// Result is what applying a plan did: the calls made, every secret a
// finished call produced (kept even when a later call fails, so the
// operator always sees it), and the call that failed, if one did.
type Result struct {
	Plan    *Plan        `json:"plan"`
	Done    []StepResult `json:"done"`
	Secrets []Secret     `json:"secrets"`
	Failed  *Failure     `json:"failed"`
}

// Failure is the call a plan stopped at, and why.
type Failure struct {
	Step  Step   `json:"step"`
	Error string `json:"error"`
}

// ApplyError is a plan that stopped at a failed step: what failed, what was
// already done, and how to continue.
type ApplyError struct {
	Plan   *Plan
	Failed Step
	Done   []StepResult
	Err    error
}

// Error implements error.
func (e *ApplyError) Error() string {
	done := "nothing was changed"
	if n := len(e.Done); n > 0 {
		calls := make([]string, n)
		for i, d := range e.Done {
			calls[i] = d.Step.Call
		}
		done = fmt.Sprintf("%d call(s) were made before it: %s", n, strings.Join(calls, ", "))
	}
	return fmt.Sprintf("%s of %s: %s failed: %v; %s. Run the same action again to continue: the plan is recomputed from AWS and makes only the calls still needed",
		e.Plan.Action.Kind, e.Plan.Target, e.Failed.String(), e.Err, done)
}

// Unwrap returns the AWS error.
func (e *ApplyError) Unwrap() error { return e.Err }

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// audit writes one complete record (a no-op); a failing audit log stops
// the apply, as a change warden cannot record must not be made.
func (p *Provisioner) audit(ctx context.Context, pl *Plan, call, result, requestID, detail string) error {
	if p.Audit == nil {
		return nil
	}
	return p.Audit.AppendAudit(ctx, p.auditRecord(pl, call, result, requestID, detail))
}

func (p *Provisioner) auditRecord(pl *Plan, call, result, requestID, detail string) store.AuditRecord {
	return store.AuditRecord{At: p.now(), ConnectionID: p.ConnectionID, Actor: p.Actor,
		Action: string(pl.Action.Kind), Target: pl.Target, Call: call, Result: result, RequestID: requestID, Detail: detail}
}

// startAudit writes the intent record of a call about to be made; 0 when
// there is no audit log.
func (p *Provisioner) startAudit(ctx context.Context, pl *Plan, st Step) (int64, error) {
	if p.Audit == nil {
		return 0, nil
	}
	r := p.auditRecord(pl, st.Call, store.AuditStarted, "", "")
	r.Params = st.Params
	return p.Audit.StartAudit(ctx, r)
}

// finishAudit completes an intent record. It uses a context of its own: a
// call cut short by cancellation is still recorded as failed.
func (p *Provisioner) finishAudit(ctx context.Context, id int64, result, requestID, detail string, out any) error {
	if p.Audit == nil {
		return nil
	}
	return p.Audit.FinishAudit(context.WithoutCancel(ctx), id, result, requestID, detail, outcome(out))
}

// outcomer is a step's output that says what the call did beyond its
// request id (an assignment operation's id and final status).
type outcomer interface {
	outcome() map[string]string
}

// outcome reads what an SDK output says the call made: the id of a user,
// group or membership created, or an assignment operation's status.
func outcome(out any) map[string]string {
	switch o := out.(type) {
	case outcomer:
		return o.outcome()
	case *iam.CreateUserOutput:
		if o.User != nil {
			return map[string]string{"UserId": aws.ToString(o.User.UserId), "Arn": aws.ToString(o.User.Arn)}
		}
	case *identitystore.CreateUserOutput:
		return map[string]string{"UserId": aws.ToString(o.UserId)}
	case *identitystore.CreateGroupOutput:
		return map[string]string{"GroupId": aws.ToString(o.GroupId)}
	case *identitystore.CreateGroupMembershipOutput:
		return map[string]string{"MembershipId": aws.ToString(o.MembershipId)}
	}
	return nil
}

// Apply carries out a plan, step by step in order, auditing each call. It
// stops at the first failure with an *ApplyError; nothing is retried that
// could repeat a side effect (only DeleteUser, which cannot).
func (p *Provisioner) Apply(ctx context.Context, pl *Plan) (*Result, error) {
	res := &Result{Plan: pl, Done: []StepResult{}, Secrets: []Secret{}}
	if len(pl.Steps) == 0 {
		return res, p.audit(ctx, pl, "-", store.AuditNoOp, "", pl.NoOp)
	}
	for _, st := range pl.Steps {
		id, err := p.startAudit(ctx, pl, st)
		if err != nil {
			return res, err // the call is not made
		}
		out, err := st.run(ctx, p, res)
		if err != nil {
			res.Failed = &Failure{Step: st, Error: oneLine(err)}
			if aerr := p.finishAudit(ctx, id, store.AuditFailed, firstNonEmpty(errorRequestID(err), requestID(out)), oneLine(err), out); aerr != nil {
				return res, errors.Join(err, aerr)
			}
			return res, &ApplyError{Plan: pl, Failed: st, Done: res.Done, Err: err}
		}
		sr := StepResult{Step: st, RequestID: requestID(out)}
		res.Done = append(res.Done, sr)
		if err := p.finishAudit(ctx, id, store.AuditOK, sr.RequestID, "", out); err != nil {
			return res, err
		}
	}
	if err := p.record(ctx, pl); err != nil {
		return res, err
	}
	return res, nil
}

// ApplyAll applies plans in order and stops at the first that fails. It
// returns a result for every plan it began, the failing one's included, so
// a secret produced by a finished call (a generated console password) is
// returned whatever fails after it; the error names the action that failed.
func (p *Provisioner) ApplyAll(ctx context.Context, plans []*Plan) ([]*Result, error) {
	results := make([]*Result, 0, len(plans))
	for i, pl := range plans {
		res, err := p.Apply(ctx, pl)
		results = append(results, res)
		if err != nil {
			return results, &BatchError{Index: i, Total: len(plans), Err: err}
		}
	}
	return results, nil
}

// BatchError is the failure of one action of a batch.
type BatchError struct {
	Index, Total int // the failing action, from 0, of Total
	Err          error
}

// Error implements error.
func (e *BatchError) Error() string {
	return fmt.Sprintf("action %d of %d: %v", e.Index+1, e.Total, e.Err)
}

// Unwrap returns the action's error.
func (e *BatchError) Unwrap() error { return e.Err }

// record keeps the deactivation state of a plan once applied.
func (p *Provisioner) record(ctx context.Context, pl *Plan) error {
	if p.Records == nil || pl.deactivated == nil {
		return nil
	}
	b, _ := json.Marshal(pl.deactivated)
	return p.Records.SaveDeactivation(ctx, p.ConnectionID, p.AccountID, "user/"+pl.Action.User, string(b))
}

// deleteUserRetrying calls DeleteUser, retrying while AWS still reports
// the dependencies just removed (DeleteConflict) or concurrent changes.
// Deleting a user twice cannot duplicate anything: a NoSuchEntity after a
// retry means an earlier attempt succeeded.
func (p *Provisioner) deleteUserRetrying(ctx context.Context, user string) (any, error) {
	attempts, wait := p.DeleteAttempts, p.DeleteBackoff
	if attempts <= 0 {
		attempts = 6
	}
	if wait <= 0 {
		wait = time.Second
	}
	var err error
	for i := 1; i <= attempts; i++ {
		var out *iam.DeleteUserOutput
		out, err = p.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: &user})
		if err == nil {
			return out, nil
		}
		if i > 1 && notFound(err) {
			return &iam.DeleteUserOutput{}, nil
		}
		if code := errorCode(err); (code != "DeleteConflict" && code != "ConcurrentModification") || i == attempts {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
	return nil, err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// wrapped is a step's output that carries the SDK output of its call.
type wrapped interface {
	sdkOutput() any
}

// requestID reads the AWS request id of an SDK output.
func requestID(out any) string {
	if w, ok := out.(wrapped); ok {
		out = w.sdkOutput()
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return ""
	}
	f := v.Elem().FieldByName("ResultMetadata")
	if !f.IsValid() {
		return ""
	}
	md, ok := f.Interface().(middleware.Metadata)
	if !ok {
		return ""
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// errorRequestID reads the AWS request id of a failed call.
func errorRequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// passwordAlphabets are the character classes of a generated password;
// it takes from each, so any IAM password policy requiring them is met.
var passwordAlphabets = []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#$%^&*()-_=+"}

// NewPassword returns a random 20-character console password with upper-
// and lowercase letters, digits and symbols, from crypto/rand.
func NewPassword() (string, error) {
	const length = 20
	all := strings.Join(passwordAlphabets, "")
	out := make([]byte, 0, length)
	pick := func(set string) error {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return fmt.Errorf("generate a password: %w", err)
		}
		out = append(out, set[n.Int64()])
		return nil
	}
	for _, set := range passwordAlphabets {
		if err := pick(set); err != nil {
			return "", err
		}
	}
	for len(out) < length {
		if err := pick(all); err != nil {
			return "", err
		}
	}
	// Shuffle so the classes are not in a fixed order.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generate a password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}
