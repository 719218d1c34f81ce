package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/livematch/livematch/engine"
)

// TestCatalogueCoversEveryText walks every template and every Go file of
// the console: each message key they use exists in the catalogue in both
// languages (loadMessages refuses a key without one), and each key pattern
// built at run time ("kind.%s") exists for every value it can take.
func TestCatalogueCoversEveryText(t *testing.T) {
	msgs, err := loadMessages(files)
	if err != nil {
		t.Fatal(err)
	}
	literal, patterns := templateKeys(t)
	for k := range goKeys(t) {
		literal[k] = append(literal[k], "Go source")
	}
	if len(literal) < 50 {
		t.Fatalf("found only %d message keys in the templates and code: the walk is broken", len(literal))
	}
	for k, where := range literal {
		if !msgs.has(k) {
			t.Errorf("message %q (used in %v) is not in the catalogue", k, where)
		}
	}
	// Keys built at run time, with every value they can take.
	var kinds, factors, excluded []string
	for _, k := range engine.OrgKinds() {
		kinds = append(kinds, string(k))
	}
	for _, f := range engine.Factors() {
		factors = append(factors, string(f))
	}
	for _, f := range engine.HostFactors() {
		factors = append(factors, string(f))
	}
	excluded = append(excluded, engine.ExcludedNotApproved, engine.ExcludedSupplier, engine.ExcludedCategory, engine.ExcludedPrice,
		engine.ExcludedCommission, engine.ExcludedStock, engine.ExcludedCertification, engine.ExcludedSeason, engine.ExcludedLeadTime,
		engine.ExcludedLanguage, engine.ExcludedNotCertified, engine.ExcludedUnavailable, engine.ExcludedOverBudget,
		"keywords") // GET /v1/products/{id}/buyers: profiles whose keywords the product misses
	values := map[string][]string{
		"kind.%s":          kinds,
		"home.lead.%s":     kinds,
		"factor.%s":        factors,
		"excluded.%s":      excluded,
		"review.status.%s": {"pending", "approved", "rejected"},
		"review.done.%s":   {"pending", "approved", "rejected"},
		"orgs.status.%s":   {"approved", "pending", "suspended"},
		"facet.%s":         {"category", "certification", "poverty_relief", "province"},
		"search.relief.%s": {"true", "false"},
		"audit.%s":         {"org.create", "org.update", "org.key_rotate", "product.review"},
	}
	for _, kind := range kinds {
		for _, it := range menuFor(engine.OrgKind(kind), "") {
			values["%s.about"] = append(values["%s.about"], it.Key)
			values["nav"] = append(values["nav"], it.Key)
		}
	}
	// Every pattern the code or the templates build keys from exists for
	// every value it can take.
	for p, vals := range values {
		if p == "nav" {
			continue
		}
		for _, v := range vals {
			if k := strings.Replace(p, "%s", v, 1); !msgs.has(k) {
				t.Errorf("message %q (pattern %q) is not in the catalogue", k, p)
			}
		}
	}
	for _, p := range patterns {
		if _, ok := values[p]; ok {
			continue
		}
		// A pattern this test does not know: at least one key must fit.
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), "%s", ".+") + "$")
		found := false
		for _, k := range msgs.keys() {
			found = found || re.MatchString(k)
		}
		if !found {
			t.Errorf("no message fits the pattern %q", p)
		}
	}
	for _, k := range values["nav"] {
		if !msgs.has(k) {
			t.Errorf("menu entry %q has no text", k)
		}
	}
	// Both languages differ somewhere: the English catalogue is not a copy.
	same := 0
	for _, k := range msgs.keys() {
		if tx := msgs.texts[k]; tx.Zh == tx.En {
			same++
		}
	}
	if same > len(msgs.texts)/10 {
		t.Errorf("%d of %d messages read the same in both languages", same, len(msgs.texts))
	}
}

// templateKeys collects the string literals passed to .T in the templates,
// and the printf patterns passed to it.
func templateKeys(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	var patterns []string
	for _, n := range names {
		raw, err := fs.ReadFile(files, n)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(n, string(raw), "{{", "}}", funcs(), builtinFuncs())
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, tree := range trees {
			walk(tree.Root, func(cmd *parse.CommandNode) {
				if len(cmd.Args) < 2 {
					return
				}
				f, ok := cmd.Args[0].(*parse.FieldNode)
				if !ok {
					if v, ok2 := cmd.Args[0].(*parse.VariableNode); ok2 && len(v.Ident) == 2 && v.Ident[1] == "T" {
						ok = true
					}
				} else {
					ok = len(f.Ident) == 1 && f.Ident[0] == "T"
				}
				if !ok {
					return
				}
				switch a := cmd.Args[1].(type) {
				case *parse.StringNode:
					keys[a.Text] = append(keys[a.Text], n)
				case *parse.PipeNode:
					// (printf "kind.%s" …): a pattern.
					if len(a.Cmds) == 1 && len(a.Cmds[0].Args) >= 2 {
						if id, ok := a.Cmds[0].Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
							if s, ok := a.Cmds[0].Args[1].(*parse.StringNode); ok {
								patterns = append(patterns, s.Text)
							}
						}
					}
				case *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.ChainNode:
					// A key from data (menu entries): checked through values above.
				}
			})
		}
	}
	return keys, patterns
}

func builtinFuncs() template.FuncMap {
	m := template.FuncMap{}
	for _, n := range []string{"and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call"} {
		m[n] = func() {}
	}
	return m
}

// walk calls fn on every command of a template tree.
func walk(n parse.Node, fn func(*parse.CommandNode)) {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(x.Pipe, fn)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			fn(c)
			for _, a := range c.Args {
				walk(a, fn)
			}
		}
	case *parse.IfNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.TemplateNode:
		walk(x.Pipe, fn)
	}
}

// walkBranch walks an if, range or with: its pipeline and both lists.
func walkBranch(b *parse.BranchNode, fn func(*parse.CommandNode)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	walk(b.ElseList, fn)
}

// goKeys collects the literal keys the Go code translates or flashes
// (rq.T("…"), v.T("…"), rq.flash("…"), rq.afterWrite(w, res, "…", …)) and
// those it names in fields called …Key (editor{createdKey: "…"}).
func goKeys(t *testing.T) map[string]bool {
	t.Helper()
	// keyArg is the position of the key among a function's arguments.
	keyArg := map[string]int{"T": 0, "flash": 0, "afterWrite": 2}
	out := map[string]bool{}
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	literal := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if k, err := strconv.Unquote(lit.Value); err == nil {
				out[k] = true
			}
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if i, ok := keyArg[sel.Sel.Name]; ok && i < len(n.Args) {
					literal(n.Args[i])
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && strings.HasSuffix(id.Name, "Key") {
					literal(n.Value)
				}
			}
			return true
		})
	}
	return out
}
