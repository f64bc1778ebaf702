package domain

import "time"

// Urgency is how close a case is to its decision deadline, as the officers'
// queue shows it (in words and in colour).
type Urgency string

// Urgencies, from calm to late.
const (
	// UrgencyPaused: the applicant holds the case; the clock does not run.
	UrgencyPaused Urgency = "paused"
	// UrgencyOnTrack: more than a quarter of the time and DueSoonWithin are left.
	UrgencyOnTrack Urgency = "on_track"
	// UrgencyDueSoon: the case was escalated (75 % of its time gone) or is due within DueSoonWithin.
	UrgencyDueSoon Urgency = "due_soon"
	// UrgencyOverdue: the deadline has passed.
	UrgencyOverdue Urgency = "overdue"
)

// DueSoonWithin is the time left under which a case is due soon, escalated or not.
const DueSoonWithin = 2 * time.Hour

// UrgencyOf classifies a case's clock at now.
func UrgencyOf(s SLA, now time.Time) Urgency {
	left := s.Remaining(now)
	switch {
	case s.Breached || (!s.Paused && left <= 0):
		return UrgencyOverdue
	case s.Paused:
		return UrgencyPaused
	case s.Escalated || left < DueSoonWithin:
		return UrgencyDueSoon
	}
	return UrgencyOnTrack
}
