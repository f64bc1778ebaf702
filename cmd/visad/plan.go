package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/capacity"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/scenario"
)

// runPlan is `visad plan SCENARIO`: the fewest officers and supervisors per
// shift that keep the deadline, from the capacity model, in seconds.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out *string
	var seed *uint64
	var headroom *float64
	cfg, fs, err := config.Load("plan", scenarioLast(args), func(fs *flag.FlagSet) {
		out = fs.String("out", "plan.json", "write the plan as JSON to this file (- for none); "+
			"visad simulate --staffing reads it")
		seed = fs.Uint64("seed", 0, "draw the arrivals from this seed instead of the scenario's")
		headroom = fs.Float64("headroom", capacity.DefaultHeadroom,
			"plan as if every handling time were this share longer (0.15: 15 %), so the plan is not flat out")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: visad plan SCENARIO [--out plan.json] (e.g. scenarios/forum-week.yaml)")
	}
	s, err := scenario.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	if *seed != 0 {
		s.Seed = *seed
	}
	if *headroom < 0 || *headroom > 1 {
		return fmt.Errorf("--headroom %v: must be from 0 to 1", *headroom)
	}
	p, err := capacity.Search(s, cfg.SLA(), *headroom)
	if err != nil {
		return err
	}
	printPlan(stdout, p)
	if *out != "-" {
		raw, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(raw, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nWrote %s (visad simulate %s --staffing %s)\n", *out, fs.Arg(0), *out)
	}
	return nil
}

func printPlan(w io.Writer, p capacity.Plan) {
	fmt.Fprintf(w, "Scenario %s (seed %d): %d applications (%d portal, %d in chamber batches)\n",
		p.Scenario, p.Seed, p.Arrivals.Total, p.Arrivals.Portal, p.Arrivals.Chamber)
	fmt.Fprintf(w, "Fewest people per shift that keep %.1f %% of each product's cases within the deadline\n"+
		"with every handling time %.0f %% longer (--headroom %.2f):\n\n", p.Target*100, p.Headroom*100, p.Headroom)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "shift\thours\tofficers\tsupervisors")
	for _, sh := range p.Shifts {
		fmt.Fprintf(tw, "%s\t%02d:00–%02d:00\t%d\t%d\n", sh.Name, sh.From, sh.To%24, sh.Officers, sh.Supervisors)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	more := fmt.Sprintf(", handling %.0f %% longer", p.Headroom*100)
	printResult(w, "planned"+more, p.Result)
	if p.PeakLess != nil {
		printResult(w, "one officer fewer on the peak shift"+more, *p.PeakLess)
	}
	printResult(w, "planned, at the scenario's handling times", p.Nominal)
	fmt.Fprintf(w, "(%d model runs, %.2f s)\n", p.Runs, p.Elapsed)
}

func printResult(w io.Writer, label string, r capacity.Result) {
	fmt.Fprintf(w, "Model, %s: %d straight through, %d escalated, breaches %d staffing + %d after a request "+
		"for information\n", label, r.StraightThrough, r.Escalated, r.BreachesStaffing, r.BreachesApplicant)
	products := make([]domain.Product, 0, len(r.Products))
	for p := range r.Products {
		products = append(products, p)
	}
	sort.Slice(products, func(i, j int) bool { return products[i] < products[j] })
	for _, p := range products {
		ps := r.Products[p]
		fmt.Fprintf(w, "  %-18s %4d cases, %6.2f %% within deadline, time to decision p50 %.1f h, p95 %.1f h, "+
			"max %.1f h\n", p, ps.Cases, ps.Share*100, ps.P50, ps.P95, ps.Max)
	}
}

// scenarioLast lets the scenario file come before the flags, as the docs write it: flag parsing stops at the
// first argument that is not a flag.
func scenarioLast(args []string) []string {
	if len(args) > 1 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string(nil), args[1:]...), args[0])
	}
	return args
}
