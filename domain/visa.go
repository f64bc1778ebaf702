package domain

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// ApplicationID formats an application id from at least 16 random (or
// derived) bytes: "app_" and 25 lower-case Crockford characters, 125 bits.
func ApplicationID(b []byte) string {
	return "app_" + strings.ToLower(Crockford.EncodeToString(b[:16])[:25])
}

// IsApplicationID reports whether id has the shape of the ids ApplicationID makes.
func IsApplicationID(id string) bool {
	if len(id) != 29 || !strings.HasPrefix(id, "app_") {
		return false
	}
	for _, r := range id[4:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// Reference formats the reference an applicant can read over the phone,
// "PKV-XXXXX-XXXXX", from at least 7 random (or derived) bytes.
func Reference(b []byte) string {
	r := Crockford.EncodeToString(b[:7])[:10]
	return "PKV-" + r[:5] + "-" + r[5:]
}

// Visa is an issued visa.
type Visa struct {
	VisaNumber  string `json:"visa_number"`
	ValidFrom   string `json:"valid_from"`
	ValidUntil  string `json:"valid_until"`
	Entries     string `json:"entries"`
	MaxStayDays int    `json:"max_stay_days"`
}

// VisaNumber formats the i-th candidate number of an application's visa, e.g.
// "PK2Y-26-7K3M9Q2X-4": country, product, issue year, 40 bits derived from the
// application id, and a mod-32 check character over the rest. It is
// deterministic, so a retried issuance finds the number it drew before.
func VisaNumber(product Product, issuedOn time.Time, applicationID string, i int) string {
	kind := "2Y"
	if product == ProductBusiness5YMulti {
		kind = "5Y"
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", applicationID, i)))
	number := fmt.Sprintf("PK%s-%02d-%s", kind, issuedOn.Year()%100, Crockford.EncodeToString(sum[:5]))
	return number + "-" + string(CrockfordAlphabet[visaCheck(number)])
}

func visaCheck(s string) int {
	total := 0
	for i, r := range s {
		total += (i + 1) * int(r)
	}
	return total % 32
}
