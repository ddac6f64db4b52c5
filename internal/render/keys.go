package render

import (
	"sort"
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// KeyRow is one access key as `warden show keys` prints it.
type KeyRow struct {
	ID              string     `json:"id"`
	KeyID           string     `json:"key_id"`
	User            string     `json:"user"`
	UserID          string     `json:"user_id"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	CreatedAt       *time.Time `json:"created_at"`
	AgeDays         *int       `json:"age_days"`
	LastUsed        *time.Time `json:"last_used"`
	LastUsedService string     `json:"last_used_service"`
}

// Keys returns the access keys of g in account (every account when ""), by
// KeysPart are the resource types Keys reads: a graph of just these gives
// the same rows as the whole graph.
var KeysPart = []model.ResourceType{model.TypeAccessKey, model.TypeIAMUser}

// account, user and key, with their age at now.
func Keys(g *model.Graph, account string, now time.Time) []KeyRow {
	v := newGraphView(g)
	keys := v.resources(model.TypeAccessKey, account)
	rows := make([]KeyRow, 0, len(keys))
	for _, k := range keys {
		row := KeyRow{ID: k.ID, KeyID: k.Name, User: v.name(k.ParentID), UserID: k.ParentID, AccountID: k.AccountID}
		if created, ok := findings.KeyCreatedAt(k); ok {
			age := findings.AgeDays(created, now)
			row.CreatedAt, row.AgeDays = &created, &age
		}
		if a := k.AccessKey; a != nil {
			row.Status, row.LastUsed, row.LastUsedService = a.Status, a.LastUsed, naToEmpty(a.LastUsedService)
		}
		rows = append(rows, row)
	}
	sortKeys(rows)
	return rows
}

func sortKeys(rows []KeyRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.KeyID < b.KeyID
	})
}

// KeysTable lays out key rows.
func KeysTable(rows []KeyRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "USER", "KEY ID", "STATUS", "AGE (DAYS)", "LAST USED", "SERVICE"}}
	for _, r := range rows {
		age := "-"
		if r.AgeDays != nil {
			age = strconv.Itoa(*r.AgeDays)
		}
		t.Add(r.AccountID, r.User, r.KeyID, r.Status, age, lastUsedCell(r.LastUsed), dash(r.LastUsedService))
	}
	return t
}
