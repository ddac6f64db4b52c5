package awsfake

import "time"

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// cloneMap copies a map; a nil map becomes an empty one, so the emulator
// can always write to inline policy maps.
func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// Clone returns a deep copy of a managed policy.
func (p *ManagedPolicy) Clone() *ManagedPolicy {
	c := *p
	c.Tags = cloneSlice(p.Tags)
	c.Versions = make([]*PolicyVersion, len(p.Versions))
	for i, v := range p.Versions {
		vc := *v
		c.Versions[i] = &vc
	}
	return &c
}

// Clone returns a deep copy of the account: changing the copy never changes
// the original.
func (a *Account) Clone() *Account {
	c := *a
	if a.IAM == nil {
		return &c
	}
	in := a.IAM
	out := &IAM{Users: map[string]*User{}, Groups: map[string]*Group{}, Roles: map[string]*Role{}, Policies: map[string]*ManagedPolicy{}, Root: in.Root}
	out.Root.PasswordLastUsed = cloneTime(in.Root.PasswordLastUsed)
	out.CredentialReport = in.CredentialReport
	out.CredentialReport.Content = cloneSlice(in.CredentialReport.Content)
	out.UnassignedVirtualMFA = cloneSlice(in.UnassignedVirtualMFA)
	for k, u := range in.Users {
		uc := *u
		uc.PasswordLastUsed = cloneTime(u.PasswordLastUsed)
		uc.Tags = cloneSlice(u.Tags)
		uc.Groups = cloneSlice(u.Groups)
		uc.AttachedPolicies = cloneSlice(u.AttachedPolicies)
		uc.InlinePolicies = cloneMap(u.InlinePolicies)
		uc.SigningCertificates = cloneSlice(u.SigningCertificates)
		uc.SSHPublicKeys = cloneSlice(u.SSHPublicKeys)
		uc.ServiceCredentials = cloneSlice(u.ServiceCredentials)
		uc.CredentialStatus = cloneMap(u.CredentialStatus)
		uc.AccessKeys = make([]*AccessKey, len(u.AccessKeys))
		for i, k := range u.AccessKeys {
			kc := *k
			kc.LastUsed = cloneTime(k.LastUsed)
			uc.AccessKeys[i] = &kc
		}
		if u.LoginProfile != nil {
			lp := *u.LoginProfile
			uc.LoginProfile = &lp
		}
		uc.MFADevices = make([]*MFADevice, len(u.MFADevices))
		for i, m := range u.MFADevices {
			mc := *m
			uc.MFADevices[i] = &mc
		}
		out.Users[k] = &uc
	}
	for k, g := range in.Groups {
		gc := *g
		gc.Members = cloneSlice(g.Members)
		gc.AttachedPolicies = cloneSlice(g.AttachedPolicies)
		gc.InlinePolicies = cloneMap(g.InlinePolicies)
		out.Groups[k] = &gc
	}
	for k, r := range in.Roles {
		rc := *r
		rc.Tags = cloneSlice(r.Tags)
		rc.AttachedPolicies = cloneSlice(r.AttachedPolicies)
		rc.InlinePolicies = cloneMap(r.InlinePolicies)
		rc.LastUsed = cloneTime(r.LastUsed)
		out.Roles[k] = &rc
	}
	for k, p := range in.Policies {
		out.Policies[k] = p.Clone()
	}
	if in.InstanceProfiles != nil {
		out.InstanceProfiles = map[string]*InstanceProfile{}
	}
	for k, ip := range in.InstanceProfiles {
		c := *ip
		c.Roles = cloneSlice(ip.Roles)
		c.Tags = cloneSlice(ip.Tags)
		out.InstanceProfiles[k] = &c
	}
	c.IAM = out
	return &c
}
