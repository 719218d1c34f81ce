// Command matchd is the livematch service: it serves the HTTP API over an
// embedded FerretDB (or a real MongoDB) and a local Bleve index, and has
// subcommands to import products, rebuild the index and load demo data.
//
//	matchd [serve] [flags]           serve the API (the default)
//	matchd import --org ID FILE      bulk-import NDJSON products for an org
//	matchd reindex                   rebuild the search index from the database
//	matchd seed                      load the demo catalogue
//
// Run "matchd -h" for the flags; each has an environment fallback.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones of hosts, also in containers without tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run parses args, runs the command and, for serve, waits for ctx to end
// before shutting down gracefully. It returns the process exit code.
func run(ctx context.Context, args []string) int {
	m := NewMain()
	if err := m.ParseFlags(args); err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintln(m.Stderr, "matchd:", err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "matchd:", err)
		_ = m.Close()
		return 1
	}
	if m.Command == "serve" {
		<-ctx.Done()
		m.log.Info("shutting down")
	}
	if err := m.Close(); err != nil {
		fmt.Fprintln(m.Stderr, "matchd:", err)
		return 1
	}
	return 0
}
