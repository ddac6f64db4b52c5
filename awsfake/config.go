package awsfake

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file serves the AWS Config aggregator APIs a collector needs over
// JSON 1.1 (X-Amz-Target StarlingDoveService.<Action>), on the aggregators
// of the caller's account in the region the call was signed for:
//
//   - DescribeConfigurationAggregators: ConfigurationAggregatorNames (at
//     most 10; an unknown name is NoSuchConfigurationAggregatorException),
//     Limit 0..100 (0: the default, the most), NextToken.
//   - DescribeConfigurationAggregatorSourcesStatus: one status per account
//     and region the aggregator covers (SourceType ACCOUNT), SUCCEEDED, or
//     FAILED for ConfigAggregator.Failed (the emulator's error code:
//     NoAvailableConfigurationRecorder); UpdateStatus filters, Limit
//     0..100, NextToken.
//   - SelectAggregateResourceConfig: an advanced query (config_query.go)
//     over the configuration items the aggregator holds, Limit or
//     MaxResults 0..100 (0: the default, 100), NextToken; an aggregator
//     not in the caller's account and region is
//     NoSuchConfigurationAggregatorException.
//
// An aggregator holds the current configuration items of the accounts and
// regions its source covers (ConfigAggregator.covers), generated from the
// asset state at query time (config_items.go), shaped as AWS Config
// records them: Config does not record a KMS key's policy or grants, a
// Lambda function's resource policy or a secret's resource policy, so
// their items lack them; a bucket's item carries its policy and Block
// Public Access settings in supplementaryConfiguration.

// ConfigAggregator is an AWS Config configuration aggregator.
type ConfigAggregator struct {
	Name string
	// Account and Region are where the aggregator lives: the
	// organization's management account or a delegated administrator.
	Account string
	Region  string
	// Organization means an OrganizationAggregationSource (every account
	// of the organization: every account of the emulator); otherwise an
	// AccountAggregationSource of Accounts.
	Organization bool
	Accounts     []string
	// AllRegions aggregates every region; otherwise Regions.
	AllRegions bool
	Regions    []string
	// MoreSources are further account sources (AWS allows several), each
	// its accounts in its regions; ignored for an organization source.
	MoreSources []ConfigAccountSource
	// RoleARN is the organization source's role.
	RoleARN   string
	CreatedAt time.Time
	// Failed lists, by account, the covered regions whose data the
	// aggregator failed to collect (no configuration recorder there): its
	// source status is FAILED and it holds none of their items.
	Failed map[string][]string
}

// ConfigAccountSource is one more account source of an aggregator: its
// accounts in every region (AllRegions) or in Regions.
type ConfigAccountSource struct {
	Accounts   []string
	AllRegions bool
	Regions    []string
}

// ARN is the aggregator's ARN.
func (a *ConfigAggregator) ARN() string {
	return "arn:aws:config:" + a.Region + ":" + a.Account + ":config-aggregator/config-aggregator-" + strings.ToLower(uuidFrom(a.Account + "/" + a.Region + "/" + a.Name))[:8]
}

// sources reports whether the aggregator's source covers an account's
// region.
func (a *ConfigAggregator) sources(account, region string) bool {
	if !a.Organization {
		for _, m := range a.MoreSources {
			if slices.Contains(m.Accounts, account) && (m.AllRegions || slices.Contains(m.Regions, region)) {
				return true
			}
		}
		if !slices.Contains(a.Accounts, account) {
			return false
		}
	}
	return a.AllRegions || slices.Contains(a.Regions, region)
}

// covers reports whether the aggregator holds an account's items in a
// region: its source covers them and collecting them did not fail.
func (a *ConfigAggregator) covers(account, region string) bool {
	return a.sources(account, region) && !slices.Contains(a.Failed[account], region)
}

func (a *ConfigAggregator) clone() *ConfigAggregator {
	c := *a
	c.Accounts, c.Regions = slices.Clone(a.Accounts), slices.Clone(a.Regions)
	c.MoreSources = nil
	for _, m := range a.MoreSources {
		c.MoreSources = append(c.MoreSources, ConfigAccountSource{Accounts: slices.Clone(m.Accounts), AllRegions: m.AllRegions, Regions: slices.Clone(m.Regions)})
	}
	c.Failed = map[string][]string{}
	for k, v := range a.Failed {
		c.Failed[k] = slices.Clone(v)
	}
	return &c
}

// configHandlers are AWS Config's actions by name.
func (s *Server) configHandlers() map[string]jsonHandler {
	return map[string]jsonHandler{
		"DescribeConfigurationAggregators":             s.configDescribeAggregators,
		"DescribeConfigurationAggregatorSourcesStatus": s.configSourcesStatus,
		"SelectAggregateResourceConfig":                s.configSelectAggregate,
	}
}

// configAction serves one AWS Config call.
func (s *Server) configAction(req *jsonRequest) (any, *apiError) {
	h, ok := s.configHandlers()[req.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate AWS Config " + req.action}
	}
	if e := s.regionGate(req.caller, "config", req.action, req.region); e != nil {
		return nil, e
	}
	return h(req)
}

func configValidation(field string, v, max int) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationException",
		message: "1 validation error detected: Value '" + strconv.Itoa(v) + "' at '" + field + "' failed to satisfy constraint: Member must have value less than or equal to " + strconv.Itoa(max)}
}

func noSuchAggregator() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "NoSuchConfigurationAggregatorException",
		message: "The configuration aggregator does not exist. Check the configuration aggregator name and try again."}
}

// configPage reads a Limit (0..max, 0 meaning max) and a NextToken.
func configPage(limit *int, field string, max int, token string) (start, size int, e *apiError) {
	size = max
	if limit != nil {
		if *limit < 0 || *limit > max {
			return 0, 0, configValidation(field, *limit, max)
		}
		if *limit > 0 {
			size = *limit
		}
	}
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "fake-token-"))
		if err != nil || n < 0 || !strings.HasPrefix(token, "fake-token-") {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "InvalidNextTokenException", message: "The nextToken provided is invalid"}
		}
		start = n
	}
	return start, size, nil
}

// aggregators returns copies of the aggregators of an account in a region,
// by name.
func (s *Server) aggregators(account, region string) []*ConfigAggregator {
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []*ConfigAggregator
	for _, a := range st.a.Aggregators {
		if a.Account == account && a.Region == region {
			out = append(out, a.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type configDescribeIn struct {
	ConfigurationAggregatorNames []string
	NextToken                    string
	Limit                        *int
}

// configDescribeAggregators lists the aggregators of the caller's account
// in the region.
func (s *Server) configDescribeAggregators(req *jsonRequest) (any, *apiError) {
	var in configDescribeIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if len(in.ConfigurationAggregatorNames) > 10 {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException",
			message: "1 validation error detected: Value at 'configurationAggregatorNames' failed to satisfy constraint: Member must have length less than or equal to 10"}
	}
	start, size, e := configPage(in.Limit, "limit", 100, in.NextToken)
	if e != nil {
		return nil, e
	}
	all := s.aggregators(req.caller.account, req.region)
	var list []*ConfigAggregator
	if len(in.ConfigurationAggregatorNames) == 0 {
		list = all
	} else {
		for _, n := range in.ConfigurationAggregatorNames {
			i := slices.IndexFunc(all, func(a *ConfigAggregator) bool { return a.Name == n })
			if i < 0 {
				return nil, noSuchAggregator()
			}
			list = append(list, all[i])
		}
	}
	start = min(start, len(list))
	end, next := jsonPageEnd(start, size, len(list))
	items := []map[string]any{}
	for _, a := range list[start:end] {
		item := map[string]any{"ConfigurationAggregatorName": a.Name, "ConfigurationAggregatorArn": a.ARN(),
			"CreationTime": epoch(a.CreatedAt), "LastUpdatedTime": epoch(a.CreatedAt)}
		regions := slices.Clone(a.Regions)
		if a.AllRegions {
			regions = nil
		}
		if a.Organization {
			src := map[string]any{"RoleArn": a.RoleARN, "AllAwsRegions": a.AllRegions}
			if regions != nil {
				src["AwsRegions"] = regions
			}
			item["OrganizationAggregationSource"] = src
		} else {
			src := map[string]any{"AccountIds": slices.Clone(a.Accounts), "AllAwsRegions": a.AllRegions}
			if regions != nil {
				src["AwsRegions"] = regions
			}
			srcs := []any{src}
			for _, m := range a.MoreSources {
				more := map[string]any{"AccountIds": slices.Clone(m.Accounts), "AllAwsRegions": m.AllRegions}
				if !m.AllRegions {
					more["AwsRegions"] = slices.Clone(m.Regions)
				}
				srcs = append(srcs, more)
			}
			item["AccountAggregationSources"] = srcs
		}
		items = append(items, item)
	}
	out := map[string]any{"ConfigurationAggregators": items}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

type configStatusIn struct {
	ConfigurationAggregatorName string
	UpdateStatus                []string
	NextToken                   string
	Limit                       *int
}

// configSourcesStatus answers the status of each account and region an
// aggregator's source covers.
func (s *Server) configSourcesStatus(req *jsonRequest) (any, *apiError) {
	var in configStatusIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	start, size, e := configPage(in.Limit, "limit", 100, in.NextToken)
	if e != nil {
		return nil, e
	}
	for _, u := range in.UpdateStatus {
		if !slices.Contains([]string{"FAILED", "SUCCEEDED", "OUTDATED"}, u) {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException",
				message: "1 validation error detected: Value '" + u + "' at 'updateStatus' failed to satisfy constraint: Member must satisfy enum value set: [FAILED, SUCCEEDED, OUTDATED]"}
		}
	}
	var agg *ConfigAggregator
	for _, a := range s.aggregators(req.caller.account, req.region) {
		if a.Name == in.ConfigurationAggregatorName {
			agg = a
		}
	}
	if agg == nil {
		return nil, noSuchAggregator()
	}
	s.mu.Lock()
	accounts := sortedKeys(s.accounts)
	s.mu.Unlock()
	regions := append(slices.Clone(StandardRegions), OptInRegions...)
	sort.Strings(regions)
	list := []map[string]any{}
	for _, account := range accounts {
		for _, region := range regions {
			if !agg.sources(account, region) {
				continue
			}
			st := map[string]any{"SourceId": account, "SourceType": "ACCOUNT", "AwsRegion": region, "LastUpdateStatus": "SUCCEEDED", "LastUpdateTime": epoch(agg.CreatedAt)}
			if !agg.covers(account, region) {
				st["LastUpdateStatus"], st["LastErrorCode"] = "FAILED", "NoAvailableConfigurationRecorder"
				st["LastErrorMessage"] = "No configuration recorder is available in the source account and region."
			}
			if len(in.UpdateStatus) == 0 || slices.Contains(in.UpdateStatus, st["LastUpdateStatus"].(string)) {
				list = append(list, st)
			}
		}
	}
	start = min(start, len(list))
	end, next := jsonPageEnd(start, size, len(list))
	out := map[string]any{"AggregatedSourceStatusList": list[start:end]}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

type configSelectIn struct {
	Expression                  string
	ConfigurationAggregatorName string
	Limit                       *int
	MaxResults                  *int
	NextToken                   string
}

// configSelectAggregate runs an advanced query over an aggregator's items.
func (s *Server) configSelectAggregate(req *jsonRequest) (any, *apiError) {
	var in configSelectIn
	if e := req.decode(&in); e != nil {
		return nil, e
	}
	if in.Expression == "" || in.ConfigurationAggregatorName == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException",
			message: "1 validation error detected: Value null at 'expression' or 'configurationAggregatorName' failed to satisfy constraint: Member must not be null"}
	}
	if len(in.Expression) > 4096 {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException",
			message: "1 validation error detected: Value at 'expression' failed to satisfy constraint: Member must have length less than or equal to 4096"}
	}
	limit := in.Limit
	field := "limit"
	if limit == nil || *limit == 0 {
		limit, field = in.MaxResults, "maxResults"
	}
	start, size, e := configPage(limit, field, 100, in.NextToken)
	if e != nil {
		return nil, e
	}
	var agg *ConfigAggregator
	for _, a := range s.aggregators(req.caller.account, req.region) {
		if a.Name == in.ConfigurationAggregatorName {
			agg = a
		}
	}
	if agg == nil {
		return nil, noSuchAggregator()
	}
	q, e := parseConfigQuery(in.Expression)
	if e != nil {
		return nil, e
	}
	var rows []string
	for _, item := range s.configItems(agg) {
		if q.matches(item) {
			rows = append(rows, q.project(item))
		}
	}
	start = min(start, len(rows))
	end, next := jsonPageEnd(start, size, len(rows))
	fields := []map[string]string{}
	for _, f := range q.fields {
		fields = append(fields, map[string]string{"Name": f})
	}
	out := map[string]any{"Results": append([]string{}, rows[start:end]...), "QueryInfo": map[string]any{"SelectFields": fields}}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}
