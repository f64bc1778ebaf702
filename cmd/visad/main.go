// Command visad runs the business visa service: `visad dev` for everything in
// one process, or `api`, `worker` and `migrate` for production, plus admin verbs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `visad — business visa applications as durable Temporal workflows

Usage: visad <command> [flags]

Commands:
  dev                 embedded Temporal server (SQLite file), app database, worker and API in one process
                      (--temporal-only: just the Temporal server, for several api/worker processes)
  api                 serve the HTTP API against VISA_TEMPORAL_ADDRESS and VISA_DATABASE_URL
  worker              run the Temporal worker (and the workflow-start reconciler)
  migrate             apply database migrations and exit
  users create        create a staff account: --role officer|supervisor|admin --name "…"; prints the token
  users list          list staff accounts (no tokens)
  users revoke        revoke a staff account: --id usr_…
  chambers create     create a chamber account: --name "…"; prints {"chamber_id": …, "token": …}
  chambers rotate-token  replace a chamber's token: --id chb_…; the old one stops working
  sample-batch        write a realistic valid batch CSV: --rows N --chamber ID [--product] [--roster FILE]
  sample-documents    write specimen supporting documents the upload rules take: [--out DIR]
  codec-server        decrypt Temporal payloads for the Temporal Web UI on VISA_CODEC_ADDR
                      (supervisor/admin bearer token)
  audit verify        check the audit trail's keyed hash chain; fails naming the first edited or deleted entry
                      (--expect-head SEQ:HASH: a head printed earlier and kept elsewhere, to catch a cut tail)
  keys status         count sealed values not yet under the first key of VISA_SEALING_KEYS
  keys rotate         re-seal them in batches beside the running service [--batch N] [--pause D]
  seal decode         print an e-visa seal's fields as JSON, without verifying it
  seal verify         verify an e-visa seal offline: --certs FILE (the published set) [--revocations FILE]
  seal init           create the production seal PKI once: --out DIR --ca-key FILE [--rotate | --if-missing]
  plan                the fewest officers and supervisors per shift that keep the deadline, from a capacity model
                      of a scenario file (seconds, no stack): visad plan scenarios/forum-week.yaml
  simulate            run a scenario against the real stack in-process, time compressed, with officer bots;
                      writes an HTML and JSON report: visad simulate scenarios/forum-week.yaml --staffing plan.json

Configuration comes from VISA_* environment variables; flags override them.
Run "visad <command> -h" for the flags and settings of a command; docs/configuration.md lists them all.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "visad:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "api":
		return runAPI(ctx, args[1:], stderr)
	case "worker":
		return runWorker(ctx, args[1:], stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "users":
		return runUsers(ctx, args[1:], stdout, stderr)
	case "chambers":
		return runChambers(ctx, args[1:], stdout, stderr)
	case "sample-batch":
		return runSampleBatch(ctx, args[1:], stdout, stderr)
	case "sample-documents":
		return runSampleDocuments(ctx, args[1:], stdout, stderr)
	case "codec-server":
		return runCodecServer(ctx, args[1:], stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "seal":
		return runSeal(ctx, args[1:], stdout, stderr)
	case "plan":
		return runPlan(ctx, args[1:], stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func newLogger(w io.Writer, level string, text bool) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
