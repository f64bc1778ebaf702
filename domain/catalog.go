package domain

import "slices"

// RefusalReasons is the catalogue of machine codes an officer may give when
// refusing an application.
var RefusalReasons = []ReasonCode{
	ReasonInsufficientEvidence,
	ReasonPassportValidity,
	ReasonSecurityScreening,
	ReasonNotEligible,
	ReasonIncompleteApplication,
	ReasonOther,
}

// IsRefusalReason reports whether code is in RefusalReasons.
func IsRefusalReason(code ReasonCode) bool {
	return slices.Contains(RefusalReasons, code)
}

// VisitPurposes lists the accepted values of visit.purpose.
var VisitPurposes = []string{
	"business_meeting",
	"business_forum",
	"trade_fair",
	"investment",
	"conference",
}

// isVisitPurpose reports whether s is in VisitPurposes.
func isVisitPurpose(s string) bool {
	return slices.Contains(VisitPurposes, s)
}
