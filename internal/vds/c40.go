package vds

import "fmt"

// C40 as used by VDS (Doc 9303 Part 13, 2.6): three characters c1 c2 c3 become
// the 16-bit value 1600·c1 + 40·c2 + c3 + 1, written big-endian. Character
// values: space 3, digits 4–13, A–Z 14–39. Two characters left over at the end
// are completed with the shift value 0; a single one is written as 0xFE
// followed by its ASCII code plus one. The MRZ filler '<' is written as a space
// and read back as '<'.

const (
	c40Shift1     = 0
	c40Space      = 3
	c40SingleMark = 0xFE
)

func c40Value(ch byte) (int, bool) {
	switch {
	case ch == ' ' || ch == '<':
		return c40Space, true
	case ch >= '0' && ch <= '9':
		return int(ch-'0') + 4, true
	case ch >= 'A' && ch <= 'Z':
		return int(ch-'A') + 14, true
	}
	return 0, false
}

func c40Char(v int) (byte, bool) {
	switch {
	case v == c40Space:
		return '<', true
	case v >= 4 && v <= 13:
		return byte('0' + v - 4), true
	case v >= 14 && v <= 39:
		return byte('A' + v - 14), true
	}
	return 0, false
}

// EncodeC40 encodes s (A–Z, 0–9, space or '<') as VDS C40.
func EncodeC40(s string) ([]byte, error) {
	values := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		v, ok := c40Value(s[i])
		if !ok {
			return nil, fmt.Errorf("%w: character %q at position %d is not A-Z, 0-9, space or <", ErrC40, s[i], i)
		}
		values[i] = v
	}
	out := make([]byte, 0, c40Len(len(s)))
	for i := 0; i < len(values); i += 3 {
		switch len(values) - i {
		case 1:
			ch := s[i]
			if ch == '<' {
				ch = ' '
			}
			out = append(out, c40SingleMark, ch+1)
		case 2:
			out = appendC40Triple(out, values[i], values[i+1], c40Shift1)
		default:
			out = appendC40Triple(out, values[i], values[i+1], values[i+2])
		}
	}
	return out, nil
}

func appendC40Triple(out []byte, c1, c2, c3 int) []byte {
	v := 1600*c1 + 40*c2 + c3 + 1
	return append(out, byte(v>>8), byte(v))
}

// c40Len is the number of bytes EncodeC40 produces for n characters.
func c40Len(n int) int { return (n + 2) / 3 * 2 }

// DecodeC40 decodes VDS C40 bytes; spaces come back as the MRZ filler '<'.
// Shift values other than the final padding, values above 63999 and a 0xFE
// marker anywhere but in the last pair are rejected.
func DecodeC40(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: odd number of bytes (%d)", ErrC40, len(b))
	}
	out := make([]byte, 0, len(b)/2*3)
	for i := 0; i < len(b); i += 2 {
		last := i+2 == len(b)
		if b[i] == c40SingleMark {
			if !last {
				return "", fmt.Errorf("%w: 0xFE marker before the end at byte %d", ErrC40, i)
			}
			ch := b[i+1] - 1
			if ch == ' ' {
				ch = '<'
			}
			if _, ok := c40Value(ch); !ok || b[i+1] == 0 {
				return "", fmt.Errorf("%w: single character 0x%02X is not A-Z, 0-9 or space", ErrC40, b[i+1])
			}
			out = append(out, ch)
			continue
		}
		v := int(b[i])<<8 | int(b[i+1])
		if v == 0 || v > 64000 {
			return "", fmt.Errorf("%w: value 0x%04X at byte %d is out of range", ErrC40, v, i)
		}
		v--
		triple := [3]int{v / 1600, v / 40 % 40, v % 40}
		for j, cv := range triple {
			if cv == c40Shift1 && j == 2 && last {
				continue // padding of a final pair of characters
			}
			ch, ok := c40Char(cv)
			if !ok {
				return "", fmt.Errorf("%w: value %d at byte %d is not a character of the VDS C40 set", ErrC40, cv, i)
			}
			out = append(out, ch)
		}
	}
	return string(out), nil
}
