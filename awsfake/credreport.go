package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"
)

// reportMaxAge is how long AWS keeps serving a credential report before
// GetCredentialReport answers ReportExpired and Generate makes a new one.
const reportMaxAge = 4 * time.Hour

// credentialReportColumns are the report's 22 columns, in AWS's order.
var credentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

type generateCredentialReportResult struct {
	State       string `xml:"State"`
	Description string `xml:"Description"`
}

type getCredentialReportResult struct {
	Content       string `xml:"Content"`
	ReportFormat  string `xml:"ReportFormat"`
	GeneratedTime string `xml:"GeneratedTime"`
}

// settleReport completes a report whose generation time has passed; the
// caller holds s.mu.
func (s *Server) settleReport(a *Account, now time.Time) {
	st := &a.IAM.CredentialReport
	if !st.RequestedAt.IsZero() && st.RequestedAt.After(st.GeneratedAt) && !now.Before(st.RequestedAt.Add(s.opts.CredentialReportDelay)) {
		st.Content = credentialReportCSV(a, now)
		st.GeneratedAt = now
	}
}

func (s *Server) generateCredentialReport(a *Account, _ *request) (any, *apiError) {
	now := s.now()
	st := &a.IAM.CredentialReport
	s.settleReport(a, now)
	switch {
	case !st.GeneratedAt.IsZero() && now.Sub(st.GeneratedAt) < reportMaxAge && !st.RequestedAt.After(st.GeneratedAt):
		return &generateCredentialReportResult{State: "COMPLETE"}, nil
	case st.RequestedAt.After(st.GeneratedAt):
		return &generateCredentialReportResult{State: "INPROGRESS"}, nil
	}
	st.RequestedAt = now
	s.settleReport(a, now)
	return &generateCredentialReportResult{State: "STARTED", Description: "No report exists. Starting a new report generation task"}, nil
}

func (s *Server) getCredentialReport(a *Account, _ *request) (any, *apiError) {
	now := s.now()
	st := &a.IAM.CredentialReport
	s.settleReport(a, now)
	switch {
	case st.RequestedAt.After(st.GeneratedAt):
		return nil, &apiError{status: http.StatusNotFound, code: "ReportInProgress", message: "Report generation in progress. Try again later."}
	case st.GeneratedAt.IsZero():
		return nil, &apiError{status: http.StatusGone, code: "ReportNotPresent", message: "Credential report not present. Call GenerateCredentialReport first."}
	case now.Sub(st.GeneratedAt) >= reportMaxAge:
		return nil, &apiError{status: http.StatusGone, code: "ReportExpired", message: "The credential report has expired. Call GenerateCredentialReport to generate a new one."}
	}
	return &getCredentialReportResult{Content: base64.StdEncoding.EncodeToString(st.Content), ReportFormat: "text/csv", GeneratedTime: awsTime(st.GeneratedAt)}, nil
}

func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func optTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return reportTime(*t)
}

// credentialReportCSV renders the report as AWS does: the root account row
// first, then every user by name.
func credentialReportCSV(a *Account, now time.Time) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(credentialReportColumns)
	root := a.IAM.Root
	rootKey := func(active bool) []string {
		return []string{strconv.FormatBool(active), "N/A", "N/A", "N/A", "N/A"}
	}
	row := []string{"<root_account>", "arn:aws:iam::" + a.ID + ":root", reportTime(root.CreatedAt), "not_supported",
		optTime(root.PasswordLastUsed, "no_information"), "not_supported", "not_supported", strconv.FormatBool(root.MFAActive)}
	row = append(row, rootKey(root.AccessKey1Active)...)
	row = append(row, rootKey(root.AccessKey2Active)...)
	row = append(row, "false", "N/A", "false", "N/A")
	w.Write(row)
	for _, name := range sortedKeys(a.IAM.Users) {
		u := a.IAM.Users[name]
		row := []string{u.Name, u.ARN, reportTime(u.CreatedAt)}
		if u.LoginProfile != nil {
			row = append(row, "true", optTime(u.PasswordLastUsed, "no_information"), reportTime(u.LoginProfile.PasswordLastChanged), "N/A")
		} else {
			row = append(row, "false", optTime(u.PasswordLastUsed, "N/A"), "N/A", "N/A")
		}
		row = append(row, strconv.FormatBool(len(u.MFADevices) > 0))
		keys := sortKeysByAge(u.AccessKeys)
		for i := 0; i < 2; i++ {
			if i >= len(keys) {
				row = append(row, "false", "N/A", "N/A", "N/A", "N/A")
				continue
			}
			k := keys[i]
			row = append(row, strconv.FormatBool(k.Status == "Active"), reportTime(k.CreatedAt))
			if k.LastUsed != nil {
				row = append(row, reportTime(*k.LastUsed), k.LastUsedRegion, k.LastUsedService)
			} else {
				row = append(row, "N/A", "N/A", "N/A")
			}
		}
		for i := 0; i < 2; i++ {
			if i < len(u.SigningCertificates) {
				row = append(row, strconv.FormatBool(u.credentialStatus(u.SigningCertificates[i]) == "Active"), reportTime(u.CreatedAt))
			} else {
				row = append(row, "false", "N/A")
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
