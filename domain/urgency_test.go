package domain

import (
	"testing"
	"time"
)

func TestUrgencyOf(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		sla  SLA
		want Urgency
	}{
		{"plenty left", SLA{DueAt: now.Add(30 * time.Hour)}, UrgencyOnTrack},
		{"escalated", SLA{DueAt: now.Add(30 * time.Hour), Escalated: true}, UrgencyDueSoon},
		{"under two hours", SLA{DueAt: now.Add(DueSoonWithin - time.Minute)}, UrgencyDueSoon},
		{"exactly two hours", SLA{DueAt: now.Add(DueSoonWithin)}, UrgencyOnTrack},
		{"due now", SLA{DueAt: now}, UrgencyOverdue},
		{"past due, breach not yet recorded", SLA{DueAt: now.Add(-time.Minute)}, UrgencyOverdue},
		{"breached", SLA{DueAt: now.Add(time.Hour), Breached: true}, UrgencyOverdue},
		{"paused", SLA{DueAt: now.Add(-time.Hour), Paused: true, RemainingAtPause: time.Hour}, UrgencyPaused},
		{"paused with nothing left", SLA{Paused: true}, UrgencyPaused},
		{"paused after breach", SLA{Paused: true, Breached: true}, UrgencyOverdue},
	}
	for _, c := range cases {
		if got := UrgencyOf(c.sla, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
