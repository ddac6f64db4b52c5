package render

import (
	"strconv"

	"github.com/warden-iam/warden/internal/model"
)

// ConnectionStatus is where one connection stands: its latest snapshot, or
// none yet.
type ConnectionStatus struct {
	Connection string          `json:"connection"`
	Latest     *model.Snapshot `json:"latest"` // nil (null): never synced
}

// StatusTables lays out `warden sync status`: one line per connection, then
// the failed parts of each partial latest snapshot.
func StatusTables(list []ConnectionStatus) []*Table {
	head := &Table{Title: "Latest sync of each connection",
		Header: []string{"CONNECTION", "SNAPSHOT", "STATUS", "FINISHED", "ACCOUNTS", "FAILED PARTS"}}
	var out []*Table
	for _, c := range list {
		s := c.Latest
		if s == nil {
			head.Add(c.Connection, "-", "never synced", "-", "-", "-")
			continue
		}
		head.Add(c.Connection, strconv.FormatInt(s.ID, 10), string(s.Status), s.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"),
			accountsCell(s.Accounts), strconv.Itoa(len(s.Errors)))
		if t := failuresTable(s); t != nil {
			t.Title = "Connection " + c.Connection + ": " + t.Title
			out = append(out, t)
		}
	}
	return append([]*Table{head}, out...)
}
