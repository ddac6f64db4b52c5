package awsfake

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
)

// This file holds IAM's MFA device actions: virtual devices are created
// unassigned, enabled for one user with two consecutive codes, deactivated
// back to unassigned, and deleted only while unassigned.

// maxMFADevicesPerUser is IAM's quota of MFA devices per user.
const maxMFADevicesPerUser = 8

// iamMFAHandlers serve the MFA device actions.
var iamMFAHandlers = map[string]iamHandler{
	"CreateVirtualMFADevice": (*Server).createVirtualMFADevice,
	"EnableMFADevice":        (*Server).enableMFADevice,
	"DeactivateMFADevice":    (*Server).deactivateMFADevice,
	"DeleteVirtualMFADevice": (*Server).deleteVirtualMFADevice,
	"ListVirtualMFADevices": func(_ *Server, a *Account, r *request) (any, *apiError) {
		return listVirtualMFADevices(a, r)
	},
}

var (
	serialNumberRE = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	authCodeRE     = regexp.MustCompile(`^\d{6}$`)
)

// mfaAssigned reports whether a device is enabled for any user.
func mfaAssigned(a *Account, serial string) bool {
	for _, u := range a.IAM.Users {
		if slices.ContainsFunc(u.MFADevices, func(m *MFADevice) bool { return m.SerialNumber == serial }) {
			return true
		}
	}
	return false
}

func (s *Server) createVirtualMFADevice(a *Account, r *request) (any, *apiError) {
	name, path, e := newNameAndPath(r, "VirtualMFADeviceName", 226)
	if e != nil {
		return nil, e
	}
	if _, e := r.tags(); e != nil {
		return nil, e
	}
	serial := "arn:aws:iam::" + a.ID + ":mfa" + path + name
	if slices.Contains(a.IAM.UnassignedVirtualMFA, serial) || mfaAssigned(a, serial) {
		return nil, errEntityExists("MFADevice entity at the same path and name already exists.")
	}
	a.IAM.UnassignedVirtualMFA = append(a.IAM.UnassignedVirtualMFA, serial)
	s.nextID++
	// The seed and QR code are the emulator's own: they enrol nothing.
	seed := []byte(fmt.Sprintf("FAKESEED%032d", s.nextID))
	return fields{field("VirtualMFADevice", struct {
		SerialNumber     string `xml:"SerialNumber"`
		Base32StringSeed string `xml:"Base32StringSeed"` // base64, as the query protocol writes blobs
		QRCodePNG        string `xml:"QRCodePNG"`
	}{serial, base64.StdEncoding.EncodeToString(seed), base64.StdEncoding.EncodeToString([]byte("fake-qr-code-png"))})}, nil
}

// enableMFADevice enables an unassigned virtual device, or a hardware
// device by its serial number, for a user. Two codes that are not six
// digits each, or are the same code twice, are refused as AWS refuses
// codes that are not two consecutive ones.
func (s *Server) enableMFADevice(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	serial := r.get("SerialNumber")
	if !serialNumberRE.MatchString(serial) {
		return nil, errValidation("1 validation error detected: Value '" + serial + "' at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=/:,.@-]+")
	}
	for _, p := range []string{"AuthenticationCode1", "AuthenticationCode2"} {
		if !authCodeRE.MatchString(r.get(p)) {
			return nil, errValidation("1 validation error detected: Value at '" + lowerFirst(p) + "' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]+")
		}
	}
	if mfaAssigned(a, serial) {
		return nil, errEntityExists("MFA Device is already in use.")
	}
	virtual := slices.Contains(a.IAM.UnassignedVirtualMFA, serial)
	if !virtual && isARN(serial) {
		return nil, errNoSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.")
	}
	if r.get("AuthenticationCode1") == r.get("AuthenticationCode2") {
		return nil, &apiError{status: http.StatusForbidden, code: "InvalidAuthenticationCode", message: "Authentication code for device is not valid."}
	}
	if len(u.MFADevices) >= maxMFADevicesPerUser {
		return nil, errLimit(fmt.Sprintf("Cannot exceed quota for MFADevicesPerUser: %d", maxMFADevicesPerUser))
	}
	a.IAM.UnassignedVirtualMFA = slices.DeleteFunc(a.IAM.UnassignedVirtualMFA, func(x string) bool { return x == serial })
	u.MFADevices = append(u.MFADevices, &MFADevice{SerialNumber: serial, Virtual: virtual, EnabledAt: s.now()})
	return fields{}, nil
}

func (s *Server) deactivateMFADevice(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	serial := r.get("SerialNumber")
	i := slices.IndexFunc(u.MFADevices, func(m *MFADevice) bool { return m.SerialNumber == serial })
	if i < 0 {
		return nil, errNoSuchEntity("MFA Device with serial number " + serial + " does not exist.")
	}
	if u.MFADevices[i].Virtual {
		a.IAM.UnassignedVirtualMFA = append(a.IAM.UnassignedVirtualMFA, serial)
	}
	u.MFADevices = slices.Delete(u.MFADevices, i, i+1)
	s.touched(a, u.Name)
	return fields{}, nil
}

func (s *Server) deleteVirtualMFADevice(a *Account, r *request) (any, *apiError) {
	serial := r.get("SerialNumber")
	if mfaAssigned(a, serial) {
		return nil, errDeleteConflict("MFA Device is still in use")
	}
	if !slices.Contains(a.IAM.UnassignedVirtualMFA, serial) {
		return nil, errNoSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.")
	}
	a.IAM.UnassignedVirtualMFA = slices.DeleteFunc(a.IAM.UnassignedVirtualMFA, func(x string) bool { return x == serial })
	return fields{}, nil
}
