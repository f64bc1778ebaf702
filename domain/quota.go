package domain

import "time"

// Chamber limits: how many batch rows a chamber may post in a day, and how
// long a chamber account's token lives before it must be rotated.
const (
	DefaultChamberRowsPerDay = 20_000
	DefaultChamberTokenTTL   = 90 * 24 * time.Hour
)

// CodeChamberQuotaExceeded is the stable code of a batch refused because the
// chamber has posted its rows for the day.
const CodeChamberQuotaExceeded = "chamber_quota_exceeded"

// QuotaDay is the UTC calendar day a chamber's batch rows count against:
// from its midnight to the next one, when the quota is whole again.
func QuotaDay(now time.Time) (start, next time.Time) {
	start = dateOf(now)
	return start, start.AddDate(0, 0, 1)
}

// WithinChamberQuota reports whether a batch of rows fits in the chamber's
// daily quota, given the rows of the batches it posted earlier that day. A
// batch is admitted whole or not at all, so a chamber never learns halfway
// through a delegation that its last rows were dropped.
func WithinChamberQuota(postedToday, rows, perDay int) bool {
	return rows <= perDay-postedToday
}
