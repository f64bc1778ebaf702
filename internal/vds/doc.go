// Package vds encodes, decodes, signs and verifies ICAO Doc 9303 Part 13
// Visible Digital Seals (VDS), with the visa profile (document feature
// definition reference 0x5D, category 0x01).
//
// A seal is header ‖ message zone ‖ signature zone. The header names the
// issuing state, the document signer (signer identifier and certificate
// reference) and two dates; the message zone holds TLV features; the
// signature zone (tag 0xFF) holds an ECDSA signature as raw r‖s over header
// and message zone. The package is pure: no I/O, no clock, no global state.
package vds
