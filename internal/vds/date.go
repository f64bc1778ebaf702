package vds

import (
	"fmt"
	"time"
)

// EncodeDate writes a calendar date as the VDS 3-byte date: the integer whose
// decimal digits are MMDDYYYY, big-endian. Only years 0001–9999 fit.
func EncodeDate(t time.Time) ([3]byte, error) {
	y, m, d := t.Date()
	if y < 1 || y > 9999 {
		return [3]byte{}, fmt.Errorf("%w: year %d is outside 0001-9999", ErrDate, y)
	}
	n := int(m)*1000000 + d*10000 + y
	return [3]byte{byte(n >> 16), byte(n >> 8), byte(n)}, nil
}

// DecodeDate reads a VDS 3-byte date and returns it at UTC midnight.
// Impossible dates (month 13, 31 April, …) are rejected.
func DecodeDate(b [3]byte) (time.Time, error) {
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	month, day, year := n/1000000, n/10000%100, n%10000
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if year < 1 || month < 1 || month > 12 || t.Day() != day || t.Month() != time.Month(month) {
		return time.Time{}, fmt.Errorf("%w: %08d is not a valid MMDDYYYY date", ErrDate, n)
	}
	return t, nil
}
