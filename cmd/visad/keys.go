package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/keys"
)

// runKeys is `visad keys status|rotate`: after a new sealing key is put
// first in VISA_SEALING_KEYS, rotate re-seals in batches, beside the running
// service, everything an older key (or no key) sealed.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" && args[0] != "rotate" {
		return errors.New("usage: visad keys status | visad keys rotate [--batch N] [--pause D]")
	}
	verb := args[0]
	var batch int
	var pauseBetween time.Duration
	cfg, fs, err := config.Load("keys "+verb, args[1:], func(fs *flag.FlagSet) {
		if verb == "rotate" {
			fs.IntVar(&batch, "batch", 200, "rows re-sealed per transaction")
			fs.DurationVar(&pauseBetween, "pause", 0, "pause between batches, to spare a busy database")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if batch < 0 || batch > 10000 {
		return errors.New("--batch must be from 1 to 10000")
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	k, err := app.LoadKeys(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sealing keys: %s (the first seals)\n", strings.Join(k.SealingKeyIDs(), ", "))
	if verb == "rotate" {
		last := map[string]int{}
		report, err := store.Rotate(ctx, db.RotateOptions{BatchSize: batch, Pause: pauseBetween,
			Progress: func(column string, done int) {
				if done != last[column] && (done-last[column] >= 1000 || done < 1000) {
					fmt.Fprintf(stdout, "  %s: %d done\n", column, done)
					last[column] = done
				}
			}})
		if err != nil {
			return fmt.Errorf("rotate (safe to run again; it continues where it stopped): %w", err)
		}
		for _, col := range sortedKeys(report.Sealed) {
			fmt.Fprintf(stdout, "%s: %d sealed (were in clear)\n", col, report.Sealed[col])
		}
		for _, col := range sortedKeys(report.Resealed) {
			fmt.Fprintf(stdout, "%s: %d re-sealed with key %s\n", col, report.Resealed[col], k.SealingKeyID())
		}
	}
	left, err := store.SealedStatus(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, col := range sortedKeys(left) {
		total += left[col]
		if left[col] > 0 {
			fmt.Fprintf(stdout, "%s: %d values not under key %s\n", col, left[col], k.SealingKeyID())
		}
	}
	if total > 0 {
		fmt.Fprintf(stdout, "%d values still need the older keys: run visad keys rotate\n", total)
		if verb == "rotate" {
			return errors.New("values were written under an older key during the rotation: run it again")
		}
		return nil
	}
	fmt.Fprintf(stdout, "everything sealed is under key %s", k.SealingKeyID())
	if ids := k.SealingKeyIDs(); len(ids) > 1 {
		fmt.Fprintf(stdout, ": %s may be dropped from VISA_SEALING_KEYS", strings.Join(ids[1:], ", "))
		if slices.Contains(ids, keys.LegacyKeyID) {
			fmt.Fprint(stdout, " (legacy: VISA_SECRET_KEY is still needed while VISA_INDEX_KEY, "+
				"VISA_TOKEN_KEYS or VISA_AUDIT_KEYS rely on it)")
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
