package server

import (
	"encoding/json"
	"errors"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/provision"
)

// schemaName names a type's schema after its package and its name
// (AccessHolder, FindingsHolder), since several packages have a Holder.
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if p := t.PkgPath(); p != "" && !strings.HasSuffix(p, "/internal/server") {
		pkg := path.Base(p)
		return strings.ToUpper(pkg[:1]) + pkg[1:] + name
	}
	return name
}

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
			nullRefs(reg, typeOf(v), map[reflect.Type]bool{})
		}
		return s
	}
	s := reg.Schema(typeOf(sample), true, hint)
	nullRefs(reg, typeOf(sample), map[reflect.Type]bool{})
	return s
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

// nullRefs marks in the schemas of t, and of every struct it reaches, the
// properties that are pointers to structs as "the object or null": huma
// refuses nullable objects (a pointer to a struct is written as null when
// nil, as schedule.Status's running). The null branch is written
// {"type": ["boolean", "null"], "not": {"type": "boolean"}}, which only null
// matches, because huma's validator has no "null" type.
func nullRefs(reg huma.Registry, t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t == reflect.TypeOf(time.Time{}) {
		return
	}
	seen[t] = true
	if alias, ok := aliases[t]; ok {
		nullRefs(reg, alias, seen)
		return
	}
	s := reg.Map()[schemaName(t, "")]
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if s != nil && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				if p := s.Properties[name]; p != nil && p.Ref != "" {
					s.Properties[name] = &huma.Schema{AnyOf: []*huma.Schema{{Ref: p.Ref}, onlyNull()}}
				}
			}
			nullRefs(reg, f.Type, seen)
		}
	}
	walk(t)
}

// onlyNull is a schema only null matches (see nullRefs).
func onlyNull() *huma.Schema {
	return &huma.Schema{Type: huma.TypeBoolean, Nullable: true, Not: &huma.Schema{Type: huma.TypeBoolean}}
}

// aliases are the types whose schema is another's (RegisterTypeAlias).
var aliases = map[reflect.Type]reflect.Type{
	reflect.TypeOf(provision.Plan{}): reflect.TypeOf(planDocument{}),
}
