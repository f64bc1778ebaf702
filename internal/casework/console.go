package casework

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// The officers' console and the supervisors' dashboard read through these;
// they act through the same methods as the JSON API (Claim, Release, Decide).

// CaseVersion is a short fingerprint of what an officer sees change on a
// case (status, holder, clock, last update): the console polls it and offers
// a reload when it moves.
func (s *Service) CaseVersion(ctx context.Context, id string) (string, error) {
	app, err := s.Store.GetApplication(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return "", notFound("no such case")
	}
	if err != nil {
		return "", err
	}
	return fingerprint(fmt.Sprint(app.Status, app.UpdatedAtMS, app.Assignee.String, app.Escalated, app.Breached,
		app.SLAPaused)), nil
}

// QueueVersion fingerprints a page of the queue as the filter selects it.
func (s *Service) QueueVersion(ctx context.Context, f QueueFilter) (string, error) {
	page, err := s.Queue(ctx, f)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, it := range page.Items {
		_, _ = fmt.Fprint(h, it.ID, it.Status, it.Assignee, it.UpdatedAt.UnixMilli(), it.SLA.Escalated, it.SLA.Breached,
			"\n")
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// DeadlineBucket counts the open cases whose running clock ends within a band.
type DeadlineBucket struct {
	// Within is the band's upper bound from now (0: already past the deadline).
	Within time.Duration
	N      int
}

// NearDeadline are the bands of the dashboard's "near their deadline" chart.
var NearDeadline = []time.Duration{0, time.Hour, 4 * time.Hour, 24 * time.Hour}

// DueCase is an open case near its deadline.
type DueCase struct {
	ID        string
	Reference string
	Product   domain.Product
	Status    domain.Status
	DueAt     time.Time
}

// HourCount is the decisions taken in the hour that starts at Hour.
type HourCount struct {
	Hour time.Time
	N    int
}

// ActorCount is the decisions one person took.
type ActorCount struct {
	Actor string // as the timeline names them ("officer:usr_…")
	N     int
}

// DepthPoint is the number of open cases at an instant.
type DepthPoint struct {
	At time.Time
	N  int64
}

// Dashboard is the supervisors' overview, as of Now.
type Dashboard struct {
	Now time.Time
	// Deadlines counts open cases by NearDeadline band (a case counts in the first band it fits).
	Deadlines []DeadlineBucket
	// DueSoon lists the open cases due within the last band, soonest first (at most DueSoonLimit).
	DueSoon []DueCase
	// BreachesToday counts the cases whose deadline passed undecided since midnight UTC.
	BreachesToday int
	// DecisionsPerHour covers the last 24 hours, oldest first (the current hour last).
	DecisionsPerHour []HourCount
	// DecisionsPerActor covers the last 24 hours, by person, most first (the system left out).
	DecisionsPerActor []ActorCount
	// QueueDepth is the number of open cases at each hour of the last 24, and now.
	QueueDepth []DepthPoint
	// StraightThrough and FinalDecisions: of the visas issued or refused in
	// the last 24 hours, how many the system issued by itself.
	StraightThrough, FinalDecisions int
}

// DueSoonLimit bounds the dashboard's list of cases near their deadline.
const DueSoonLimit = 20

// maxDashboardDecisions bounds the decisions the dashboard reads for one day.
const maxDashboardDecisions = 200_000

// Dashboard computes the supervisors' overview.
func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	now := s.now()
	d := Dashboard{Now: now}
	last := NearDeadline[len(NearDeadline)-1]
	due, err := s.Store.DueBefore(ctx, now.Add(last), maxDashboardDecisions)
	if err != nil {
		return d, fmt.Errorf("dashboard deadlines: %w", err)
	}
	d.Deadlines = make([]DeadlineBucket, len(NearDeadline))
	for i, w := range NearDeadline {
		d.Deadlines[i].Within = w
	}
	for _, c := range due {
		at := time.UnixMilli(c.SLADueAtMS).UTC()
		for i, w := range NearDeadline {
			if at.Before(now.Add(w)) || (w == 0 && !at.After(now)) {
				d.Deadlines[i].N++
				break
			}
		}
		if len(d.DueSoon) < DueSoonLimit {
			d.DueSoon = append(d.DueSoon, DueCase{ID: c.ID, Reference: c.Reference, Product: domain.Product(c.Product),
				Status: domain.Status(c.Status), DueAt: at})
		}
	}
	midnight := now.Truncate(24 * time.Hour)
	if d.BreachesToday, err = s.Store.CountEventsSince(ctx, domain.EventSLABreached, midnight); err != nil {
		return d, fmt.Errorf("dashboard breaches: %w", err)
	}
	hour := now.Truncate(time.Hour)
	since := hour.Add(-23 * time.Hour)
	events, err := s.Store.DecisionsSince(ctx, since, maxDashboardDecisions)
	if err != nil {
		return d, fmt.Errorf("dashboard decisions: %w", err)
	}
	d.DecisionsPerHour = make([]HourCount, 24)
	for i := range d.DecisionsPerHour {
		d.DecisionsPerHour[i].Hour = since.Add(time.Duration(i) * time.Hour)
	}
	perActor := map[string]int{}
	for _, e := range events {
		if i := int(e.At().Sub(since) / time.Hour); i >= 0 && i < 24 {
			d.DecisionsPerHour[i].N++
		}
		system := e.Actor == string(domain.RoleSystem)
		if !system {
			perActor[e.Actor]++
		}
		switch domain.Event(e.Event) {
		case domain.EventIssued:
			d.FinalDecisions++
			if system {
				d.StraightThrough++
			}
		case domain.EventRefused:
			d.FinalDecisions++
		}
	}
	for a, n := range perActor {
		d.DecisionsPerActor = append(d.DecisionsPerActor, ActorCount{Actor: a, N: n})
	}
	sort.Slice(d.DecisionsPerActor, func(i, j int) bool {
		a, b := d.DecisionsPerActor[i], d.DecisionsPerActor[j]
		return a.N > b.N || (a.N == b.N && a.Actor < b.Actor)
	})
	instants := make([]time.Time, 0, 25)
	for i := 23; i >= 0; i-- {
		instants = append(instants, hour.Add(-time.Duration(i)*time.Hour))
	}
	instants = append(instants, now)
	depth, err := s.Store.OpenAt(ctx, instants)
	if err != nil {
		return d, fmt.Errorf("dashboard queue depth: %w", err)
	}
	for i, t := range instants {
		d.QueueDepth = append(d.QueueDepth, DepthPoint{At: t, N: depth[i]})
	}
	return d, nil
}
