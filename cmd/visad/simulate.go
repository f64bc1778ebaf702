package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/visad/visad/internal/capacity"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/scenario"
	"github.com/visad/visad/internal/simulate"
)

// runSimulate is `visad simulate SCENARIO`: the scenario against the real stack in this process.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var compress *float64
	var staffing, out, name *string
	var peakLess, keep *bool
	var grace *time.Duration
	cfg, fs, err := config.Load("simulate", scenarioLast(args), func(fs *flag.FlagSet) {
		compress = fs.Float64("compress", simulate.DefaultCompress,
			"simulated seconds per real second (1440: a simulated day in a real minute)")
		staffing = fs.String("staffing", "", "a plan JSON from visad plan; without it, the scenario's own shifts")
		peakLess = fs.Bool("peak-minus-one", false, "one officer fewer on the peak shift than the staffing says")
		out = fs.String("out", "simulation", "directory for the report (NAME.html and NAME.json)")
		name = fs.String("name", "", "file name of the report, without extension (default: the scenario's name)")
		grace = fs.Duration("grace", 72*time.Hour, "simulated time after the scenario's end to decide open cases")
		keep = fs.Bool("keep", false, "keep the run's database and logs (printed) instead of removing them")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: visad simulate SCENARIO [--compress N] [--staffing plan.json] [--out DIR]")
	}
	if *compress < 1 || *compress > 100_000 {
		return errors.New("--compress must be from 1 to 100000")
	}
	s, err := scenario.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	st, source := capacity.FromScenario(s), "the scenario's shifts"
	if *staffing != "" {
		raw, err := os.ReadFile(*staffing)
		if err != nil {
			return err
		}
		var p capacity.Plan
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("%s: %w", *staffing, err)
		}
		if p.Scenario != s.Name {
			return fmt.Errorf("%s plans scenario %q, not %q", *staffing, p.Scenario, s.Name)
		}
		st, source = p.Staffing, "planned by visad plan ("+*staffing+")"
	}
	if *peakLess {
		less, ok := capacity.PeakMinusOne(st)
		if !ok {
			return errors.New("--peak-minus-one: the peak shift has no officer to take away")
		}
		st, source = less, source+", one officer fewer on the peak shift ("+s.Shifts[st.Peak()].Name+")"
	}
	work, err := os.MkdirTemp("", "visad-simulate-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stdout, "work directory (kept): %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	logFile, err := os.Create(work + "/simulate.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	level := cfg.TemporalLogLevel
	if level == "" {
		level = "error"
	}
	rep, err := simulate.Run(ctx, simulate.Options{Scenario: s, Compress: *compress, Staffing: st,
		StaffingSource: source, SLA: cfg.SLA(), Grace: *grace, WorkDir: work, LogLevel: level, Log: logFile,
		Progress: stdout})
	if err != nil {
		return err
	}
	base := *name
	if base == "" {
		base = s.Name
	}
	jp, hp, err := rep.WriteFiles(*out, base)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.Summary())
	fmt.Fprintf(stdout, "Report: %s and %s\n", hp, jp)
	_ = stderr
	return nil
}
