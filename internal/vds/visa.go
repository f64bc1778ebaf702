package vds

import (
	"fmt"
	"strings"
)

// The visa profile (Doc 9303 Part 13, visa; BSI TR-03137 "ICAO visa").
const (
	FeatureRefVisa   = 0x5D
	CategoryVisa     = 0x01
	TagMRZMRVA       = 0x01 // MRZ of an MRV-A visa, C40, 48 bytes
	TagMRZMRVB       = 0x02 // MRZ of an MRV-B visa, C40, 44 bytes
	TagEntries       = 0x03 // number of entries, 1 byte, 0 = multiple
	TagDurationStay  = 0x04 // duration of stay, 3 bytes: days, months, years
	TagPassport      = 0x05 // passport number, C40, 6 bytes (9 characters)
	TagVisaType      = 0x06 // visa type, 1-4 bytes, optional
	TagAdditional    = 0x07 // additional feature, optional
	mrvaLineLen      = 44
	mrvbLineLen      = 36
	sealedLine2Chars = 28 // the seal keeps line 2 up to the valid-until check digit
	passportChars    = 9
)

// MRZ types of a visa.
const (
	MRVA = "MRV-A"
	MRVB = "MRV-B"
)

// DurationOfStay is the permitted stay per entry. All zero means not stated.
type DurationOfStay struct {
	Days   int `json:"days"`
	Months int `json:"months"`
	Years  int `json:"years"`
}

// Visa holds the features of the visa profile. MRZ is the visa's two MRZ
// lines: 44 characters each for MRV-A, 36 for MRV-B. The seal carries line 1
// and line 2 up to the valid-until check digit (28 characters); decoding
// fills the optional data that follows with '<'. Entries is nil when absent
// and 0 for multiple entries.
type Visa struct {
	MRZType           string          `json:"mrz_type"`
	MRZ               [2]string       `json:"mrz"`
	Entries           *int            `json:"number_of_entries,omitempty"`
	DurationOfStay    *DurationOfStay `json:"duration_of_stay,omitempty"`
	PassportNumber    string          `json:"passport_number,omitempty"`
	VisaType          []byte          `json:"visa_type,omitempty"`
	AdditionalFeature []byte          `json:"additional_feature,omitempty"`
	// Unknown are features of tags this package does not know, kept as read.
	Unknown []Feature `json:"unknown_features,omitempty"`
}

// Features encodes v as the visa profile's message zone, in tag order.
func (v Visa) Features() ([]Feature, error) {
	var fs []Feature
	l1, l2 := v.MRZ[0], v.MRZ[1]
	tag := byte(TagMRZMRVA)
	switch {
	case len(l1) == mrvaLineLen && len(l2) == mrvaLineLen:
	case len(l1) == mrvbLineLen && len(l2) == mrvbLineLen:
		tag = TagMRZMRVB
	default:
		return nil, fmt.Errorf("%w: MRZ lines must be 2×44 (MRV-A) or 2×36 (MRV-B) characters, got %d and %d",
			ErrInvalidInput, len(l1), len(l2))
	}
	if strings.Trim(l2[sealedLine2Chars:], "<") != "" {
		// The seal cannot carry optional data; signing it silently away would
		// make the printed MRZ and the sealed MRZ disagree.
		return nil, fmt.Errorf("%w: MRZ line 2 has optional data after position 28, which a seal cannot carry",
			ErrInvalidInput)
	}
	mrz, err := EncodeC40(l1 + l2[:sealedLine2Chars])
	if err != nil {
		return nil, fmt.Errorf("MRZ: %w", err)
	}
	fs = append(fs, Feature{tag, mrz})
	if v.Entries != nil {
		if *v.Entries < 0 || *v.Entries > 255 {
			return nil, fmt.Errorf("%w: number of entries %d (0-255, 0 = multiple)", ErrInvalidInput, *v.Entries)
		}
		fs = append(fs, Feature{TagEntries, []byte{byte(*v.Entries)}})
	}
	if d := v.DurationOfStay; d != nil {
		for _, x := range []int{d.Days, d.Months, d.Years} {
			if x < 0 || x > 255 {
				return nil, fmt.Errorf("%w: duration of stay %+v (each part 0-255)", ErrInvalidInput, *d)
			}
		}
		fs = append(fs, Feature{TagDurationStay, []byte{byte(d.Days), byte(d.Months), byte(d.Years)}})
	}
	if v.PassportNumber != "" {
		if len(v.PassportNumber) > passportChars {
			return nil, fmt.Errorf("%w: passport number has more than 9 characters", ErrInvalidInput)
		}
		pn, err := EncodeC40(v.PassportNumber + strings.Repeat("<", passportChars-len(v.PassportNumber)))
		if err != nil {
			return nil, fmt.Errorf("passport number: %w", err)
		}
		fs = append(fs, Feature{TagPassport, pn})
	}
	if len(v.VisaType) > 0 {
		if len(v.VisaType) > 4 {
			return nil, fmt.Errorf("%w: visa type has more than 4 bytes", ErrInvalidInput)
		}
		fs = append(fs, Feature{TagVisaType, v.VisaType})
	}
	if len(v.AdditionalFeature) > 0 {
		if len(v.AdditionalFeature) > 254 {
			return nil, fmt.Errorf("%w: additional feature has more than 254 bytes", ErrInvalidInput)
		}
		fs = append(fs, Feature{TagAdditional, v.AdditionalFeature})
	}
	return fs, nil
}

// VisaHeader returns h with the visa profile's feature reference and category.
func VisaHeader(h Header) Header {
	h.FeatureRef, h.TypeCategory = FeatureRefVisa, CategoryVisa
	return h
}

// ParseVisa reads the visa profile from a decoded seal. It insists on the
// visa feature reference and category, exactly one MRZ, no repeated tag and
// the fixed sizes of the profile.
func ParseVisa(s *Seal) (Visa, error) {
	var v Visa
	if s.Header.FeatureRef != FeatureRefVisa || s.Header.TypeCategory != CategoryVisa {
		return v, fmt.Errorf("%w: feature reference 0x%02X, category 0x%02X",
			ErrNotVisa, s.Header.FeatureRef, s.Header.TypeCategory)
	}
	seen := map[byte]bool{}
	for _, f := range s.Features {
		if seen[f.Tag] {
			return v, fmt.Errorf("%w: tag 0x%02X appears twice", ErrFeature, f.Tag)
		}
		seen[f.Tag] = true
		if err := v.setFeature(f); err != nil {
			return Visa{}, err
		}
	}
	if v.MRZType == "" {
		return Visa{}, fmt.Errorf("%w: no MRZ (tag 0x01 or 0x02)", ErrFeature)
	}
	return v, nil
}

func (v *Visa) setFeature(f Feature) error {
	wantLen := func(n int) error {
		if len(f.Value) != n {
			return fmt.Errorf("%w: tag 0x%02X has %d bytes, want %d", ErrFeature, f.Tag, len(f.Value), n)
		}
		return nil
	}
	switch f.Tag {
	case TagMRZMRVA, TagMRZMRVB:
		if v.MRZType != "" {
			return fmt.Errorf("%w: both an MRV-A and an MRV-B MRZ", ErrFeature)
		}
		typ, lineLen, size := MRVA, mrvaLineLen, 48
		if f.Tag == TagMRZMRVB {
			typ, lineLen, size = MRVB, mrvbLineLen, 44
		}
		if err := wantLen(size); err != nil {
			return err
		}
		s, err := DecodeC40(f.Value)
		if err != nil {
			return fmt.Errorf("%w: MRZ: %w", ErrFeature, err)
		}
		if len(s) != lineLen+sealedLine2Chars {
			return fmt.Errorf("%w: MRZ has %d characters, want %d", ErrFeature, len(s), lineLen+sealedLine2Chars)
		}
		v.MRZType = typ
		v.MRZ = [2]string{s[:lineLen], s[lineLen:] + strings.Repeat("<", lineLen-sealedLine2Chars)}
	case TagEntries:
		if err := wantLen(1); err != nil {
			return err
		}
		n := int(f.Value[0])
		v.Entries = &n
	case TagDurationStay:
		if err := wantLen(3); err != nil {
			return err
		}
		v.DurationOfStay = &DurationOfStay{Days: int(f.Value[0]), Months: int(f.Value[1]), Years: int(f.Value[2])}
	case TagPassport:
		if err := wantLen(6); err != nil {
			return err
		}
		s, err := DecodeC40(f.Value)
		if err != nil {
			return fmt.Errorf("%w: passport number: %w", ErrFeature, err)
		}
		v.PassportNumber = strings.TrimRight(s, "<")
	case TagVisaType:
		if len(f.Value) < 1 || len(f.Value) > 4 {
			return fmt.Errorf("%w: visa type has %d bytes, want 1-4", ErrFeature, len(f.Value))
		}
		v.VisaType = f.Value
	case TagAdditional:
		v.AdditionalFeature = f.Value
	default:
		v.Unknown = append(v.Unknown, f)
	}
	return nil
}
