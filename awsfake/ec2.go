package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file serves EC2's read APIs a collector needs over EC2's query
// protocol (Action=…&Version=2016-11-15, POSTed form), answering EC2's own
// XML (no Result wrapper, lowerCamel names, lists of <item>) and its error
// XML (<Response><Errors><Error>…</Errors><RequestID>):
//
//   - DescribeRegions: the account's enabled regions, with AllRegions the
//     opt-in regions it has not enabled too (optInStatus not-opted-in);
//     RegionName.N narrows the list.
//   - DescribeInstances: one reservation per instance; InstanceId.N (an
//     unknown one is InvalidInstanceID.NotFound), or MaxResults 5..1000
//     with NextToken (not both: InvalidParameterCombination).
//   - DescribeSecurityGroups: GroupId.N (InvalidGroup.NotFound), or
//     MaxResults 5..1000 with NextToken.
//
// Filters are not emulated: a call with Filter.N answers
// InvalidParameterValue rather than an unfiltered list.

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// ec2Request is one decoded EC2 call.
type ec2Request struct {
	auth authenticated
	form url.Values
}

// list reads an EC2 list parameter (Name.1, Name.2, …).
func (r *ec2Request) list(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v := r.form.Get(name + "." + strconv.Itoa(i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// ec2Handlers are EC2's actions by name.
func (s *Server) ec2Handlers() map[string]func(*ec2Request) (any, *apiError) {
	return map[string]func(*ec2Request) (any, *apiError){
		"DescribeRegions":        s.ec2DescribeRegions,
		"DescribeInstances":      s.ec2DescribeInstances,
		"DescribeSecurityGroups": s.ec2DescribeSecurityGroups,
		// Writes: asset_write.go.
		"AuthorizeSecurityGroupIngress": s.ec2AuthorizeIngress,
		"RevokeSecurityGroupIngress":    s.ec2RevokeIngress,
		"StopInstances":                 s.ec2StopInstances,
		"CreateSecurityGroup":           s.ec2CreateSecurityGroup,
		"DeleteSecurityGroup":           s.ec2DeleteSecurityGroup,
	}
}

// serveEC2 serves one EC2 request.
func (s *Server) serveEC2(w http.ResponseWriter, r *http.Request, auth authenticated, authErr *apiError) {
	if authErr != nil {
		e := authErr
		if e.code == "InvalidClientTokenId" || e.code == "SignatureDoesNotMatch" {
			e = &apiError{status: http.StatusUnauthorized, code: "AuthFailure", message: "AWS was not able to validate the provided access credentials"}
		}
		writeEC2Error(w, auth.id, e)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeEC2Error(w, auth.id, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: err.Error()})
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	h, ok := s.ec2Handlers()[action]
	if !ok {
		writeEC2Error(w, auth.id, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: "The action " + action + " is not valid for this web service."})
		return
	}
	if fault := s.chargeCall(r, auth.caller.account, "ec2", action, nil); fault != nil {
		writeEC2Error(w, auth.id, ec2Fault(fault))
		return
	}
	if e := s.regionGate(auth.caller, "ec2", action, auth.region); e != nil {
		writeEC2Error(w, auth.id, e)
		return
	}
	req := &ec2Request{auth: auth, form: form}
	if len(req.list("Filter.1.Value")) > 0 || form.Get("Filter.1.Name") != "" {
		writeEC2Error(w, auth.id, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: "awsfake does not emulate EC2 filters"})
		return
	}
	out, e := h(req)
	if e != nil {
		writeEC2Error(w, auth.id, e)
		return
	}
	b, err := xml.Marshal(out)
	if err != nil {
		writeEC2Error(w, auth.id, &apiError{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()})
		return
	}
	doc := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>`,
		action, ec2Namespace, auth.id, innerXML(b), action)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	io.WriteString(w, doc)
}

// ec2Fault renames an injected fault as EC2 answers it.
func ec2Fault(e *apiError) *apiError {
	switch e.code {
	case "ThrottlingException":
		return &apiError{status: http.StatusServiceUnavailable, code: "RequestLimitExceeded", message: "Request limit exceeded."}
	case "InternalServerException":
		return &apiError{status: http.StatusInternalServerError, code: "InternalError", message: "An internal error has occurred"}
	}
	return e
}

// writeEC2Error writes EC2's error XML.
func writeEC2Error(w http.ResponseWriter, requestID string, e *apiError) {
	var code, msg strings.Builder
	xml.EscapeText(&code, []byte(e.code))
	xml.EscapeText(&msg, []byte(e.message))
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
		code.String(), msg.String(), requestID)
}

func ec2Invalid(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: msg}
}

// ec2Page reads MaxResults (5..1000; 0 when absent: everything) and
// NextToken.
func (r *ec2Request) page() (start, size int, e *apiError) {
	if v := r.form.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return 0, 0, ec2Invalid("Value ( " + v + " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.")
		}
		size = n
	}
	if t := r.form.Get("NextToken"); t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "fake-token-"))
		if err != nil || n < 0 || !strings.HasPrefix(t, "fake-token-") {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "InvalidPaginationToken", message: "The pagination token is invalid"}
		}
		start = n
	}
	return start, size, nil
}

// ec2PageEnd returns a page's end and the next token ("" on the last).
func ec2PageEnd(start, size, total int) (int, string) {
	start = min(start, total)
	if size == 0 || start+size >= total {
		return total, ""
	}
	return start + size, "fake-token-" + strconv.Itoa(start+size)
}

type ec2Region struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

type ec2RegionsResult struct {
	XMLName xml.Name    `xml:"r"`
	Regions []ec2Region `xml:"regionInfo>item"`
}

// ec2DescribeRegions lists the account's regions.
func (s *Server) ec2DescribeRegions(req *ec2Request) (any, *apiError) {
	all := strings.EqualFold(req.form.Get("AllRegions"), "true")
	names := req.list("RegionName")
	st := &s.as
	st.mu.Lock()
	opted := slices.Clone(st.a.OptedIn[req.auth.caller.account])
	st.mu.Unlock()
	var out ec2RegionsResult
	for _, name := range append(slices.Clone(StandardRegions), OptInRegions...) {
		status := "opt-in-not-required"
		if slices.Contains(OptInRegions, name) {
			status = "not-opted-in"
			if slices.Contains(opted, name) {
				status = "opted-in"
			}
		}
		if status == "not-opted-in" && !all || len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		out.Regions = append(out.Regions, ec2Region{RegionName: name, RegionEndpoint: "ec2." + name + ".amazonaws.com", OptInStatus: status})
	}
	for _, n := range names {
		if !slices.Contains(StandardRegions, n) && !slices.Contains(OptInRegions, n) {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: "Invalid region name: " + n}
		}
	}
	return out, nil
}

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2GroupID struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type ec2State struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2Profile struct {
	ARN string `xml:"arn"`
	ID  string `xml:"id"`
}

type ec2Placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
}

type ec2Instance struct {
	InstanceID       string       `xml:"instanceId"`
	ImageID          string       `xml:"imageId"`
	State            ec2State     `xml:"instanceState"`
	PrivateDNSName   string       `xml:"privateDnsName"`
	InstanceType     string       `xml:"instanceType"`
	LaunchTime       string       `xml:"launchTime"`
	Placement        ec2Placement `xml:"placement"`
	SubnetID         string       `xml:"subnetId,omitempty"`
	VpcID            string       `xml:"vpcId,omitempty"`
	PrivateIP        string       `xml:"privateIpAddress,omitempty"`
	PublicIP         string       `xml:"ipAddress,omitempty"`
	Groups           []ec2GroupID `xml:"groupSet>item"`
	IamProfile       *ec2Profile  `xml:"iamInstanceProfile,omitempty"`
	Tags             []ec2Tag     `xml:"tagSet>item,omitempty"`
	RootDeviceType   string       `xml:"rootDeviceType"`
	Architecture     string       `xml:"architecture"`
	VirtualizationTy string       `xml:"virtualizationType"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

type ec2InstancesResult struct {
	XMLName      xml.Name         `xml:"r"`
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

// ec2StateCodes are the instance state codes EC2 gives each state.
var ec2StateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

// ec2DescribeInstances lists the account's instances in the region.
func (s *Server) ec2DescribeInstances(req *ec2Request) (any, *apiError) {
	ids := req.list("InstanceId")
	start, size, e := req.page()
	if e != nil {
		return nil, e
	}
	if len(ids) > 0 && size > 0 {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterCombination", message: "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	ra := st.region(req.auth.caller.account, req.auth.region)
	groupName := map[string]string{}
	for _, g := range ra.groups {
		groupName[g.ID] = g.Name
	}
	insts := ra.instances
	if len(ids) > 0 {
		insts = nil
		for _, id := range ids {
			i := slices.IndexFunc(ra.instances, func(x *Instance) bool { return x.ID == id })
			if i < 0 {
				return nil, &apiError{status: http.StatusBadRequest, code: "InvalidInstanceID.NotFound", message: "The instance ID '" + id + "' does not exist"}
			}
			insts = append(insts, ra.instances[i])
		}
	}
	end, next := ec2PageEnd(start, size, len(insts))
	out := ec2InstancesResult{NextToken: next}
	for _, i := range insts[min(start, len(insts)):end] {
		x := ec2Instance{InstanceID: i.ID, ImageID: i.ImageID, State: ec2State{Code: ec2StateCodes[i.State], Name: i.State},
			PrivateDNSName: "ip-" + strings.ReplaceAll(i.PrivateIP, ".", "-") + "." + i.Region + ".compute.internal",
			InstanceType:   i.Type, LaunchTime: i.LaunchedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
			Placement: ec2Placement{AvailabilityZone: i.Region + "a"}, SubnetID: i.Subnet, VpcID: i.VPC, PrivateIP: i.PrivateIP, PublicIP: i.PublicIP,
			RootDeviceType: "ebs", Architecture: "x86_64", VirtualizationTy: "hvm"}
		for _, g := range i.SecurityGroups {
			x.Groups = append(x.Groups, ec2GroupID{GroupID: g, GroupName: groupName[g]})
		}
		if i.InstanceProfileARN != "" {
			x.IamProfile = &ec2Profile{ARN: i.InstanceProfileARN, ID: i.InstanceProfileID}
		}
		for _, t := range i.Tags {
			x.Tags = append(x.Tags, ec2Tag{Key: t.Key, Value: t.Value})
		}
		out.Reservations = append(out.Reservations, ec2Reservation{ReservationID: "r-" + strings.TrimPrefix(i.ID, "i-"), OwnerID: i.Account, Instances: []ec2Instance{x}})
	}
	return out, nil
}

type ec2IPRange struct {
	CIDR string `xml:"cidrIp"`
}

type ec2IPv6Range struct {
	CIDR string `xml:"cidrIpv6"`
}

type ec2GroupPair struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type ec2Permission struct {
	Protocol string         `xml:"ipProtocol"`
	FromPort *int           `xml:"fromPort,omitempty"`
	ToPort   *int           `xml:"toPort,omitempty"`
	Groups   []ec2GroupPair `xml:"groups>item"`
	Ranges   []ec2IPRange   `xml:"ipRanges>item"`
	V6Ranges []ec2IPv6Range `xml:"ipv6Ranges>item"`
}

type ec2SecurityGroup struct {
	OwnerID     string          `xml:"ownerId"`
	GroupID     string          `xml:"groupId"`
	GroupName   string          `xml:"groupName"`
	Description string          `xml:"groupDescription"`
	VpcID       string          `xml:"vpcId,omitempty"`
	Ingress     []ec2Permission `xml:"ipPermissions>item"`
	Egress      []ec2Permission `xml:"ipPermissionsEgress>item"`
	Tags        []ec2Tag        `xml:"tagSet>item,omitempty"`
}

type ec2GroupsResult struct {
	XMLName   xml.Name           `xml:"r"`
	Groups    []ec2SecurityGroup `xml:"securityGroupInfo>item"`
	NextToken string             `xml:"nextToken,omitempty"`
}

func ec2Perms(account string, ps []IPPermission) []ec2Permission {
	out := []ec2Permission{}
	for _, p := range ps {
		x := ec2Permission{Protocol: p.Protocol}
		if p.Protocol != "-1" {
			from, to := p.FromPort, p.ToPort
			x.FromPort, x.ToPort = &from, &to
		}
		for _, c := range p.CIDRs {
			x.Ranges = append(x.Ranges, ec2IPRange{CIDR: c})
		}
		for _, c := range p.IPv6CIDRs {
			x.V6Ranges = append(x.V6Ranges, ec2IPv6Range{CIDR: c})
		}
		for _, g := range p.Groups {
			x.Groups = append(x.Groups, ec2GroupPair{GroupID: g, UserID: account})
		}
		out = append(out, x)
	}
	return out
}

// ec2DescribeSecurityGroups lists the account's security groups in the
// region.
func (s *Server) ec2DescribeSecurityGroups(req *ec2Request) (any, *apiError) {
	ids := req.list("GroupId")
	start, size, e := req.page()
	if e != nil {
		return nil, e
	}
	if len(ids) > 0 && size > 0 {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterCombination", message: "The parameter groupIds cannot be used with the parameter maxResults"}
	}
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	ra := st.region(req.auth.caller.account, req.auth.region)
	groups := ra.groups
	if len(ids) > 0 {
		groups = nil
		for _, id := range ids {
			i := slices.IndexFunc(ra.groups, func(x *SecurityGroup) bool { return x.ID == id })
			if i < 0 {
				return nil, &apiError{status: http.StatusBadRequest, code: "InvalidGroup.NotFound", message: "The security group '" + id + "' does not exist"}
			}
			groups = append(groups, ra.groups[i])
		}
	}
	end, next := ec2PageEnd(start, size, len(groups))
	out := ec2GroupsResult{NextToken: next}
	for _, g := range groups[min(start, len(groups)):end] {
		x := ec2SecurityGroup{OwnerID: g.Account, GroupID: g.ID, GroupName: g.Name, Description: g.Description, VpcID: g.VPC,
			Ingress: ec2Perms(g.Account, g.Ingress), Egress: ec2Perms(g.Account, g.Egress)}
		for _, t := range g.Tags {
			x.Tags = append(x.Tags, ec2Tag{Key: t.Key, Value: t.Value})
		}
		out.Groups = append(out.Groups, x)
	}
	return out, nil
}
