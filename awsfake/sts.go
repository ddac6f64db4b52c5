package awsfake

import "net/http"

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// stsAction serves one STS query-protocol action.
func (s *Server) stsAction(r *request) (any, *apiError) {
	switch r.action {
	case "GetCallerIdentity":
		return &getCallerIdentityResult{Arn: r.caller.arn, UserID: r.caller.userID, Account: r.caller.account}, nil
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: "Could not find operation " + r.action + " for version 2011-06-15"}
}
