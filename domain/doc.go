// Package domain holds the pure business rules of visad: the visa product
// catalogue, the application form and its eligibility rules, ICAO 9303 TD3
// machine readable zone (MRZ) handling and watchlist name normalisation.
//
// The package performs no I/O and never reads the clock: everything
// time-dependent comes in through Policy or explicit arguments. This is what
// lets the HTTP API (fast rejection) and the Temporal activity (authoritative
// re-check, which must be deterministic on replay) share exactly the same code.
//
// PII discipline: FieldError details and FieldErrors.Error() describe problems
// generically and never echo values the applicant typed.
package domain
