package config

import "testing"

func TestSelects(t *testing.T) {
	web := Account{ID: "111111111111", OUPath: []string{"Root", "Prod", "Web"},
		OUIDs: []string{"r-ab12", "ou-ab12-prod0001", "ou-ab12-web00001"}, Tags: map[string]string{"env": "prod", "team": "web"}}
	prod := Account{ID: "222222222222", OUPath: []string{"Root", "Prod"},
		OUIDs: []string{"r-ab12", "ou-ab12-prod0001"}, Tags: map[string]string{"env": "prod"}}
	sandbox := Account{ID: "333333333333", OUPath: []string{"Root", "Sandbox"},
		OUIDs: []string{"r-ab12", "ou-ab12-sand0001"}}
	mgmt := Account{ID: "444444444444", OUPath: []string{"Root"}, OUIDs: []string{"r-ab12"}}
	all := []Account{web, prod, sandbox, mgmt}

	tests := []struct {
		name string
		org  Organization
		want []string // ids selected, in the order of all
	}{
		{"no filters selects everything", Organization{}, []string{web.ID, prod.ID, sandbox.ID, mgmt.ID}},
		{"path selects accounts directly in the OU", Organization{Include: AccountFilter{OUs: []string{"Root/Prod"}}}, []string{prod.ID}},
		{"final * selects the OU and below", Organization{Include: AccountFilter{OUs: []string{"Root/Prod/*"}}}, []string{web.ID, prod.ID}},
		{"Root/* selects everything", Organization{Include: AccountFilter{OUs: []string{"Root/*"}}}, []string{web.ID, prod.ID, sandbox.ID, mgmt.ID}},
		{"Root selects accounts in the root only", Organization{Include: AccountFilter{OUs: []string{"Root"}}}, []string{mgmt.ID}},
		{"middle * is one name", Organization{Include: AccountFilter{OUs: []string{"Root/*/Web"}}}, []string{web.ID}},
		{"names match exactly", Organization{Include: AccountFilter{OUs: []string{"Root/prod/*"}}}, nil},
		{"OU id selects the OU and below", Organization{Include: AccountFilter{OUs: []string{"ou-ab12-prod0001"}}}, []string{web.ID, prod.ID}},
		{"root id selects everything", Organization{Include: AccountFilter{OUs: []string{"r-ab12"}}}, []string{web.ID, prod.ID, sandbox.ID, mgmt.ID}},
		{"account ids", Organization{Include: AccountFilter{Accounts: []string{sandbox.ID, "999999999999"}}}, []string{sandbox.ID}},
		{"tags must all match", Organization{Include: AccountFilter{Tags: map[string]string{"env": "prod", "team": "*"}}}, []string{web.ID}},
		{"criteria of one filter are alternatives", Organization{Include: AccountFilter{Accounts: []string{mgmt.ID}, Tags: map[string]string{"team": "web"}}}, []string{web.ID, mgmt.ID}},
		{"exclude removes", Organization{Exclude: AccountFilter{OUs: []string{"Root/Prod/*"}}}, []string{sandbox.ID, mgmt.ID}},
		{"exclude wins over include", Organization{Include: AccountFilter{OUs: []string{"Root/Prod/*"}}, Exclude: AccountFilter{Accounts: []string{web.ID}}}, []string{prod.ID}},
		{"exclude by tag value", Organization{Exclude: AccountFilter{Tags: map[string]string{"env": "prod"}}}, []string{sandbox.ID, mgmt.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range all {
				if tt.org.Selects(a) {
					got = append(got, a.ID)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("selected %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("selected %v, want %v", got, tt.want)
				}
			}
		})
	}
}
