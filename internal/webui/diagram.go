package webui

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/model"
)

// node is a box of a path diagram.
type node struct {
	key   string // unique within the diagram
	label string
	kind  string // css class: principal, group, policy, permset, account, role
	admin bool
	href  string // the node's page; "" for none
}

// graph is a path diagram: columns of nodes, left to right, and edges.
type graph struct {
	conn  string
	cols  [][]node
	index map[string][2]int
	edges [][2]string
}

func (g *graph) add(col int, n node) string {
	return g.addRef(col, n, "", "")
}

// addRef adds n, linking it to the page of the resource of type t.
func (g *graph) addRef(col int, n node, t model.ResourceType, account string) string {
	if t != "" {
		n.href = href(g.conn, t, n.key, account)
	}
	if g.index == nil {
		g.index = map[string][2]int{}
	}
	if at, ok := g.index[n.key]; ok {
		if n.admin {
			g.cols[at[0]][at[1]].admin = true
		}
		return n.key
	}
	for len(g.cols) <= col {
		g.cols = append(g.cols, nil)
	}
	g.index[n.key] = [2]int{col, len(g.cols[col])}
	g.cols[col] = append(g.cols[col], n)
	return n.key
}

func (g *graph) edge(from, to string) {
	for _, e := range g.edges {
		if e[0] == from && e[1] == to {
			return
		}
	}
	g.edges = append(g.edges, [2]string{from, to})
}

// diagram draws the paths of an answer as SVG: IAM user → group → policy,
// role → policy, principal → role it may assume; Identity Center user →
// group → permission set → account → role → policy. Administrator policies
// and the boxes leading to them are marked "admin".
func diagram(a *access.Answer, conn string) template.HTML {
	g := graph{conn: conn}
	if a.IAM != nil {
		iamPaths(&g, a.IAM, 0)
	}
	if a.SSO != nil {
		p := g.addRef(0, node{key: a.SSO.Principal.ID, label: a.SSO.Principal.Name, kind: "principal"}, model.TypeSSOUser, "")
		for _, gr := range a.SSO.Groups {
			g.edge(p, g.addRef(1, node{key: gr.ID, label: gr.Name, kind: "group"}, model.TypeSSOGroup, ""))
		}
		for _, as := range a.SSO.Assignments {
			from := p
			if as.ViaID != "" {
				from = g.addRef(1, node{key: as.ViaID, label: as.ViaName, kind: "group"}, model.TypeSSOGroup, "")
				g.edge(p, from)
			}
			admin := false
			for _, pol := range as.Policies {
				admin = admin || pol.Admin
			}
			ps := g.addRef(2, node{key: as.PermissionSet.ID, label: as.PermissionSet.Name, kind: "permset", admin: admin}, model.TypePermissionSet, "")
			g.edge(from, ps)
			acct := g.addRef(3, node{key: "account:" + as.AccountID, label: as.AccountName + " " + as.AccountID, kind: "account", admin: admin}, model.TypeAccount, as.AccountID)
			g.edge(ps, acct)
			last := acct
			if as.Role != nil {
				last = g.addRef(4, node{key: as.Role.ID, label: as.Role.Name, kind: "role", admin: admin}, model.TypeIAMRole, as.Role.AccountID)
				g.edge(acct, last)
			}
			for _, pol := range as.Policies {
				g.edge(last, g.addRef(5, node{key: pol.ID, label: pol.Name, kind: "policy", admin: pol.Admin}, pol.Type, pol.AccountID))
			}
		}
	}
	return g.svg()
}

// iamPaths adds an IAM principal's paths starting at column col.
func iamPaths(g *graph, a *access.Access, col int) {
	p := g.addRef(col, node{key: a.Principal.ID, label: a.Principal.Name, kind: "principal"}, a.Principal.Type, a.Principal.AccountID)
	for _, gr := range a.Groups {
		g.edge(p, g.addRef(col+1, node{key: gr.ID, label: gr.Name, kind: "group"}, model.TypeIAMGroup, gr.AccountID))
	}
	for _, pol := range a.Policies {
		from := p
		if pol.ViaID != "" && pol.ViaID != a.Principal.ID {
			from = g.addRef(col+1, node{key: pol.ViaID, label: pol.ViaName, kind: "group", admin: pol.Admin}, model.TypeIAMGroup, a.Principal.AccountID)
			g.edge(p, from)
		}
		g.edge(from, g.addRef(col+2, node{key: pol.ID, label: pol.Name, kind: "policy", admin: pol.Admin}, pol.Type, pol.AccountID))
	}
	for _, r := range a.Roles {
		g.edge(p, g.addRef(col+1, node{key: r.ID, label: r.Name, kind: "role"}, model.TypeIAMRole, r.AccountID))
	}
}

const (
	boxW, boxH   = 190, 30
	colGap, rowG = 60, 14
	pad          = 10
)

func (g *graph) pos(key string) (x, y int) {
	at := g.index[key]
	return colX(at[0]), rowY(at[1])
}

func colX(col int) int { return pad + col*(boxW+colGap) }
func rowY(row int) int { return pad + row*(boxH+rowG) }

// freeRow returns the first of prefer not taken, else the lowest row not
// taken.
func freeRow(taken map[int]bool, prefer ...int) int {
	for _, r := range prefer {
		if !taken[r] {
			return r
		}
	}
	for r := 0; ; r++ {
		if !taken[r] {
			return r
		}
	}
}

// route is an edge's way through the columns it crosses: the row of an
// empty slot in each, so that no edge passes behind a node.
func (g *graph) routes() (lanes [][]int, rows int) {
	taken := make([]map[int]bool, len(g.cols))
	for c := range g.cols {
		taken[c] = map[int]bool{}
		for r := range g.cols[c] {
			taken[c][r] = true
		}
		rows = max(rows, len(g.cols[c]))
	}
	lanes = make([][]int, len(g.edges))
	for i, e := range g.edges {
		from, to := g.index[e[0]], g.index[e[1]]
		for c := from[0] + 1; c < to[0]; c++ {
			r := freeRow(taken[c], to[1], from[1])
			taken[c][r] = true
			lanes[i] = append(lanes[i], r)
			rows = max(rows, r+1)
		}
	}
	return lanes, rows
}

func (g *graph) svg() template.HTML {
	lanes, rows := g.routes()
	if rows == 0 {
		return ""
	}
	w := 2*pad + len(g.cols)*boxW + (len(g.cols)-1)*colGap
	h := 2*pad + rows*boxH + (rows-1)*rowG
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="paths" role="img" aria-label="path diagram" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, w, h, w, h)
	for i, e := range g.edges {
		from, to := g.index[e[0]], g.index[e[1]]
		cls := "edge"
		if n := g.node(e[1]); n.admin {
			cls += " admin"
		}
		// From the right side of the source, through an empty slot of
		// each column between (a straight line across it), to the left
		// side of the target; each curve stays within a gap between
		// columns.
		x, y := colX(from[0])+boxW, rowY(from[1])+boxH/2
		d := fmt.Sprintf("M%d %d", x, y)
		curve := func(x2, y2 int) {
			d += fmt.Sprintf(" C%d %d %d %d %d %d", x+colGap/2, y, x2-colGap/2, y2, x2, y2)
			x, y = x2, y2
		}
		for j, r := range lanes[i] {
			curve(colX(from[0]+1+j), rowY(r)+boxH/2)
			x += boxW
			d += fmt.Sprintf(" L%d %d", x, y)
		}
		if to[0] > from[0] {
			curve(colX(to[0]), rowY(to[1])+boxH/2)
		} else {
			d += fmt.Sprintf(" L%d %d", colX(to[0]), rowY(to[1])+boxH/2)
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"/>`, cls, d)
	}
	for _, c := range g.cols {
		for _, n := range c {
			x, y := g.pos(n.key)
			cls := "node " + n.kind
			if n.admin {
				cls += " admin"
			}
			label := n.label
			if len([]rune(label)) > 26 {
				label = string([]rune(label)[:25]) + "…"
			}
			if n.href != "" {
				fmt.Fprintf(&b, `<a href="%s">`, html.EscapeString(n.href))
			}
			fmt.Fprintf(&b, `<g class="%s" data-node="%s" data-kind="%s"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="5"/><text x="%d" y="%d">%s</text></g>`,
				cls, html.EscapeString(n.key), n.kind, html.EscapeString(n.label), x, y, boxW, boxH, x+8, y+boxH/2+5, html.EscapeString(label))
			if n.href != "" {
				b.WriteString(`</a>`)
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every value above is escaped
}

func (g *graph) node(key string) node {
	at := g.index[key]
	return g.cols[at[0]][at[1]]
}
