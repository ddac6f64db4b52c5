package model

import "testing"

func TestReservedRolePermissionSet(t *testing.T) {
	for _, tc := range []struct {
		role, want string
		ok         bool
	}{
		{"AWSReservedSSO_AdministratorAccess_0123456789abcdef", "AdministratorAccess", true},
		{"AWSReservedSSO_Admin_Read_0123456789abcdef", "Admin_Read", true}, // a name may hold underscores
		{"AWSReservedSSO_Admin", "", false},
		{"AWSReservedSSO__abc", "", false},
		{"AWSReservedSSO_Admin_", "", false},
		{"OrganizationAccountAccessRole", "", false},
	} {
		if got, ok := ReservedRolePermissionSet(tc.role); got != tc.want || ok != tc.ok {
			t.Errorf("ReservedRolePermissionSet(%q) = %q, %v; want %q, %v", tc.role, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMFADeviceID(t *testing.T) {
	for serial, want := range map[string]string{
		"arn:aws:iam::111122223333:mfa/alice":         "arn:aws:iam::111122223333:mfa/alice",
		"arn:aws:iam::111122223333:u2f/user/bob/key1": "arn:aws:iam::111122223333:u2f/user/bob/key1",
		"GAHT12345678": "arn:aws:iam::111122223333:mfa-device/GAHT12345678",
	} {
		if got := MFADeviceID("111122223333", serial); got != want {
			t.Errorf("MFADeviceID(%q) = %q, want %q", serial, got, want)
		}
	}
}
