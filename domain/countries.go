package domain

import "strings"

// iso3166Alpha3 is the complete list of the 249 officially assigned
// ISO 3166-1 alpha-3 codes, in the standard's (English short name) order.
const iso3166Alpha3 = `
AFG ALA ALB DZA ASM AND AGO AIA ATA ATG ARG ARM ABW AUS AUT AZE
BHS BHR BGD BRB BLR BEL BLZ BEN BMU BTN BOL BES BIH BWA BVT BRA
IOT BRN BGR BFA BDI CPV KHM CMR CAN CYM CAF TCD CHL CHN CXR CCK
COL COM COG COD COK CRI CIV HRV CUB CUW CYP CZE DNK DJI DMA DOM
ECU EGY SLV GNQ ERI EST SWZ ETH FLK FRO FJI FIN FRA GUF PYF ATF
GAB GMB GEO DEU GHA GIB GRC GRL GRD GLP GUM GTM GGY GIN GNB GUY
HTI HMD VAT HND HKG HUN ISL IND IDN IRN IRQ IRL IMN ISR ITA JAM
JPN JEY JOR KAZ KEN KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY
LIE LTU LUX MAC MDG MWI MYS MDV MLI MLT MHL MTQ MRT MUS MYT MEX
FSM MDA MCO MNG MNE MSR MAR MOZ MMR NAM NRU NPL NLD NCL NZL NIC
NER NGA NIU NFK MKD MNP NOR OMN PAK PLW PSE PAN PNG PRY PER PHL
PCN POL PRT PRI QAT REU ROU RUS RWA BLM SHN KNA LCA MAF SPM VCT
WSM SMR STP SAU SEN SRB SYC SLE SGP SXM SVK SVN SLB SOM ZAF SGS
SSD ESP LKA SDN SUR SJM SWE CHE SYR TWN TJK TZA THA TLS TGO TKL
TON TTO TUN TUR TKM TCA TUV UGA UKR ARE GBR USA UMI URY UZB VUT
VEN VNM VGB VIR WLF ESH YEM ZMB ZWE
`

// icaoSpecimenState is "Utopia", the fictitious state used by ICAO Doc 9303
// specimens; accepting it lets specimen documents flow through the system.
const icaoSpecimenState = "UTO"

// countryCodes is the set of accepted country codes.
var countryCodes = func() map[string]struct{} {
	codes := strings.Fields(iso3166Alpha3)
	set := make(map[string]struct{}, len(codes)+1)
	for _, c := range codes {
		set[c] = struct{}{}
	}
	set[icaoSpecimenState] = struct{}{}
	return set
}()

// IsCountryCode reports whether code is an ISO 3166-1 alpha-3 code (or the
// ICAO specimen state UTO). The comparison is case-sensitive: codes are
// upper-case after Normalize.
func IsCountryCode(code string) bool {
	_, ok := countryCodes[code]
	return ok
}
