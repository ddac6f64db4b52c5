package awsfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// This file parses and runs the subset of AWS Config's advanced query
// language the emulator serves:
//
//	SELECT property [, property …] [WHERE predicate [AND predicate …]]
//
// where a property is a top-level field of a configuration item
// (resourceId, resourceName, resourceType, accountId, awsRegion, arn,
// availabilityZone, resourceCreationTime, configuration,
// supplementaryConfiguration, tags, …) or a dotted path into one
// (configuration.keyId), and a predicate is `property = 'value'` or
// `property IN ('a', 'b', …)`. The rest of the language AWS accepts (OR,
// NOT, BETWEEN, GROUP BY, ORDER BY, aggregate functions, wildcards) and
// anything malformed is InvalidExpressionException, the former naming what
// the emulator does not serve.

// configItemFields are the top-level properties of a configuration item.
var configItemFields = []string{"accountId", "arn", "availabilityZone", "awsRegion", "configuration", "configurationItemCaptureTime",
	"configurationItemStatus", "configurationStateId", "relationships", "resourceCreationTime", "resourceId", "resourceName",
	"resourceType", "supplementaryConfiguration", "tags", "version"}

// configQuery is a parsed advanced query.
type configQuery struct {
	fields []string
	where  []configPredicate
}

// configPredicate is `field = value` (one value) or `field IN (values)`.
type configPredicate struct {
	field  string
	values []string
}

func invalidExpression(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidExpressionException", message: msg}
}

// configTokens splits a query into words, quoted strings (kept with their
// quotes), commas, parentheses and operators.
func configTokens(q string) ([]string, *apiError) {
	var out []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			j := strings.IndexByte(q[i+1:], '\'')
			if j < 0 {
				return nil, invalidExpression("Unterminated string literal at position " + strconv.Itoa(i))
			}
			out = append(out, q[i:i+j+2])
			i += j + 2
		case strings.IndexByte(",()=*<>!", c) >= 0:
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(q) && strings.IndexByte(" \t\n\r,()=*<>!'", q[j]) < 0 {
				j++
			}
			out = append(out, q[i:j])
			i = j
		}
	}
	return out, nil
}

// unemulated are keywords of the language AWS accepts that the emulator
// does not serve.
var unemulated = []string{"OR", "NOT", "BETWEEN", "GROUP", "ORDER", "COUNT", "SUM", "AVG", "MIN", "MAX", "LIKE", "AS"}

// checkProperty refuses a property that is not a configuration item's.
func checkProperty(p string) *apiError {
	top, _, _ := strings.Cut(p, ".")
	if !slices.Contains(configItemFields, top) || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return invalidExpression("Invalid property: " + p)
	}
	return nil
}

// parseConfigQuery parses an advanced query.
func parseConfigQuery(expr string) (*configQuery, *apiError) {
	toks, e := configTokens(expr)
	if e != nil {
		return nil, e
	}
	for _, t := range toks {
		if slices.Contains(unemulated, strings.ToUpper(t)) || t == "*" || t == "<" || t == ">" || t == "!" {
			return nil, invalidExpression("awsfake does not emulate this part of the advanced query language: " + t)
		}
	}
	if len(toks) == 0 || !strings.EqualFold(toks[0], "SELECT") {
		return nil, invalidExpression("Expression must start with SELECT")
	}
	q := &configQuery{}
	i := 1
	for {
		if i >= len(toks) || toks[i] == "," || strings.EqualFold(toks[i], "WHERE") {
			return nil, invalidExpression("Expected a property after SELECT or ','")
		}
		if e := checkProperty(toks[i]); e != nil {
			return nil, e
		}
		q.fields = append(q.fields, toks[i])
		i++
		if i < len(toks) && toks[i] == "," {
			i++
			continue
		}
		break
	}
	if i == len(toks) {
		return q, nil
	}
	if !strings.EqualFold(toks[i], "WHERE") {
		return nil, invalidExpression("Unexpected token: " + toks[i])
	}
	i++
	for {
		if i+2 >= len(toks) {
			return nil, invalidExpression("Incomplete WHERE condition")
		}
		p := configPredicate{field: toks[i]}
		if e := checkProperty(p.field); e != nil {
			return nil, e
		}
		switch {
		case toks[i+1] == "=":
			v, ok := unquote(toks[i+2])
			if !ok {
				return nil, invalidExpression("Expected a quoted value after '=', found " + toks[i+2])
			}
			p.values = []string{v}
			i += 3
		case strings.EqualFold(toks[i+1], "IN"):
			if toks[i+2] != "(" {
				return nil, invalidExpression("Expected '(' after IN")
			}
			i += 3
			for {
				if i >= len(toks) {
					return nil, invalidExpression("Unterminated IN list")
				}
				v, ok := unquote(toks[i])
				if !ok {
					return nil, invalidExpression("Expected a quoted value in the IN list, found " + toks[i])
				}
				p.values = append(p.values, v)
				i++
				if i < len(toks) && toks[i] == "," {
					i++
					continue
				}
				if i < len(toks) && toks[i] == ")" {
					i++
					break
				}
				return nil, invalidExpression("Expected ',' or ')' in the IN list")
			}
		default:
			return nil, invalidExpression("Unexpected token: " + toks[i+1])
		}
		q.where = append(q.where, p)
		if i == len(toks) {
			return q, nil
		}
		if !strings.EqualFold(toks[i], "AND") {
			return nil, invalidExpression("Unexpected token: " + toks[i])
		}
		i++
	}
}

func unquote(t string) (string, bool) {
	if len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'' {
		return t[1 : len(t)-1], true
	}
	return "", false
}

// lookup returns the values at a dotted path of an item; through an array
// it returns every element's value, as Config matches a predicate on an
// array property against any element.
func lookup(v any, path []string) []any {
	if len(path) == 0 {
		if arr, ok := v.([]any); ok {
			return arr
		}
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		c, ok := x[path[0]]
		if !ok {
			return nil
		}
		return lookup(c, path[1:])
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, lookup(e, path)...)
		}
		return out
	}
	return nil
}

// matches reports whether every predicate holds for the item.
func (q *configQuery) matches(item map[string]any) bool {
	for _, p := range q.where {
		ok := false
		for _, v := range lookup(item, strings.Split(p.field, ".")) {
			s := ""
			switch x := v.(type) {
			case string:
				s = x
			case bool, float64, int:
				b, _ := json.Marshal(x)
				s = string(b)
			default:
				continue
			}
			if slices.Contains(p.values, s) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// project returns the selected properties of an item as the JSON string
// Config answers: each property under its own path.
func (q *configQuery) project(item map[string]any) string {
	out := map[string]any{}
	for _, f := range q.fields {
		path := strings.Split(f, ".")
		v, ok := at(item, path)
		if !ok {
			continue
		}
		m := out
		for _, k := range path[:len(path)-1] {
			next, _ := m[k].(map[string]any)
			if next == nil {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[path[len(path)-1]] = v
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// at returns the value at a path of maps.
func at(v any, path []string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
