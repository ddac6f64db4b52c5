package server

import (
	"encoding/json"
	"errors"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/provision"
)

// timeZero clears a deadline.
var timeZero time.Time

// typeOf is v's type.
func typeOf(v any) reflect.Type { return reflect.TypeOf(v) }

// oneOfSample stands for an answer that is a value of one of several types
// (the access answer: an IAM principal's, an Identity Center user's, or
// holders).
type oneOfSample struct {
	name    string
	samples []any
}

// schemaOf is the schema of a sample answer.
func schemaOf(reg huma.Registry, sample any, hint string) *huma.Schema {
	if o, ok := sample.(oneOfSample); ok {
		s := &huma.Schema{Title: o.name}
		for _, v := range o.samples {
			s.AnyOf = append(s.AnyOf, reg.Schema(typeOf(v), true, ""))
		}
		return s
	}
	return reg.Schema(typeOf(sample), true, hint)
}

// planDocument is the JSON of a provision.Plan (see its MarshalJSON), for
// the OpenAPI document.
type planDocument struct {
	Action  provision.Action `json:"action"`
	Target  string           `json:"target"`
	Steps   []provision.Step `json:"steps"`
	NoOp    *string          `json:"no_op"`
	Changes []string         `json:"changes"`
	Confirm *string          `json:"confirm"`
}

// jsonUnmarshal decodes JSON.
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// asRunError is errors.As for a *provision.RunError.
func asRunError(err error, re **provision.RunError) bool { return errors.As(err, re) }
