package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/config"
)

// runAudit is `visad audit verify`: it recomputes the audit trail's keyed
// hash chain and fails, naming the first broken entry, when a row was edited
// or deleted; with --expect-head, also when entries were cut off its end.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: visad audit verify [--expect-head SEQ:HASH] [flags]")
	}
	var expectHead string
	cfg, fs, err := config.Load("audit verify", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&expectHead, "expect-head", "",
			"the head an earlier verify printed (SEQ:HASH), kept outside the database: the trail must still hold it")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var expectSeq int64
	var expectHash string
	if expectHead != "" {
		if expectSeq, expectHash, err = db.ParseAuditHead(expectHead); err != nil {
			return fmt.Errorf("--expect-head: %w", err)
		}
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	report, err := store.VerifyAuditHead(ctx, expectSeq, expectHash)
	if err != nil {
		return fmt.Errorf("verify audit trail: %w", err)
	}
	if !report.Intact {
		fmt.Fprintf(stdout, "audit chain BROKEN at entry %d: %s\n", report.BrokenAt, report.Reason)
		return fmt.Errorf("audit chain broken at entry %d", report.BrokenAt)
	}
	if report.Entries == 0 {
		fmt.Fprintln(stdout, "audit chain intact: 0 entries")
		return nil
	}
	fmt.Fprintf(stdout, "audit chain intact: %d entries (head: entry %d, hash %s)\n",
		report.Entries, report.LastSeq, report.LastHash)
	if expectSeq > 0 {
		fmt.Fprintf(stdout, "the kept head (entry %d) is in the chain\n", expectSeq)
	}
	// The chain alone cannot show entries cut off its end: the head, kept
	// where the database's writers cannot reach, can.
	fmt.Fprintf(stdout, "keep this head outside the database; check against it later with:\n"+
		"  visad audit verify --expect-head %s\n", report.Head())
	return nil
}
