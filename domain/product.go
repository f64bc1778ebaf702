package domain

import "time"

// Product identifies a visa product the applicant applies for.
type Product string

const (
	// ProductBusiness2Y is the two-year business visa.
	ProductBusiness2Y Product = "business_2y"
	// ProductBusiness5YMulti is the five-year multiple-entry visa reserved for
	// Chamber of Commerce members.
	ProductBusiness5YMulti Product = "business_5y_multi"
)

// ProductSpec describes the terms of a visa product.
type ProductSpec struct {
	Code          Product
	Title         string
	ValidityYears int
	Entries       string
	MaxStayDays   int
	DecisionSLA   time.Duration
}

// products is the catalogue in its public, stable order (2y then 5y).
var products = [...]ProductSpec{
	{
		Code:          ProductBusiness2Y,
		Title:         "Two-year business visa",
		ValidityYears: 2,
		Entries:       "multiple",
		MaxStayDays:   90,
		DecisionSLA:   24 * time.Hour,
	},
	{
		Code:          ProductBusiness5YMulti,
		Title:         "Five-year multiple-entry business visa",
		ValidityYears: 5,
		Entries:       "multiple",
		MaxStayDays:   90,
		DecisionSLA:   72 * time.Hour,
	},
}

// LookupProduct returns the specification of a product code.
func LookupProduct(code Product) (ProductSpec, bool) {
	for _, p := range products {
		if p.Code == code {
			return p, true
		}
	}
	return ProductSpec{}, false
}

// Products returns the catalogue in a stable order (2y then 5y). The slice is
// a fresh copy, so callers may modify it freely.
func Products() []ProductSpec {
	out := make([]ProductSpec, len(products))
	copy(out, products[:])
	return out
}
