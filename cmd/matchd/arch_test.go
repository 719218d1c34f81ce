package main

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportDiscipline keeps the package layout of design.md: the engine is
// pure, and each adapter library is imported only by its own package.
func TestImportDiscipline(t *testing.T) {
	const mod = "github.com/livematch/livematch/"
	rules := []struct {
		prefix  string   // an import path prefix
		allowed []string // package dirs (relative to the module) that may import it
	}{
		{"go.mongodb.org/mongo-driver", []string{"store"}},
		{"github.com/FerretDB/FerretDB", []string{"store"}},
		{"modernc.org/sqlite", []string{"store"}},
		{"github.com/gin-gonic/gin", []string{"api"}},
		{"github.com/blevesearch/", []string{"indexer"}},
		{mod + "store", []string{"api", "indexer", "web", "cmd/matchd"}},
		{mod + "indexer", []string{"api", "cmd/matchd"}},
		{mod + "api", []string{"web", "cmd/matchd"}},
		{mod + "web", []string{"cmd/matchd"}},
		{mod + "fixtures", []string{"cmd/matchd"}},
	}
	engineOK := func(path string) bool { // stdlib and small pure libraries only (text, a multi-pattern matcher)
		return !strings.Contains(strings.Split(path, "/")[0], ".") || strings.HasPrefix(path, "golang.org/x/text/") ||
			path == "github.com/coregx/ahocorasick"
	}
	dirs := []string{"engine", "store", "indexer", "api", "web", "fixtures", "cmd/matchd"}
	for _, dir := range dirs {
		pkg, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports { // non-test imports only
			if dir == "engine" && !engineOK(imp) {
				t.Errorf("engine imports %s: the engine must stay pure", imp)
			}
			for _, r := range rules {
				if strings.HasPrefix(imp, r.prefix) && !slices.Contains(r.allowed, dir) {
					t.Errorf("%s imports %s; only %v may", dir, imp, r.allowed)
				}
			}
		}
	}
}
