// Package blobstore keeps opaque blobs under names, written once: the
// filesystem under the data directory (visad dev) or an S3-compatible bucket
// (production). It never sees plaintext: package documents encrypts before
// it writes, and names blobs by a keyed hash.
package blobstore

import (
	"context"
	"errors"
	"regexp"
)

// Store keeps blobs. Implementations are safe for concurrent use.
type Store interface {
	// Put writes a blob under a new name; ErrExists if the name is taken
	// (blobs are written once: a second writer keeps the first's blob).
	Put(ctx context.Context, name string, data []byte) error
	// Get reads a blob; ErrNotFound if there is none.
	Get(ctx context.Context, name string) ([]byte, error)
	// Exists reports whether a blob has the name.
	Exists(ctx context.Context, name string) (bool, error)
	// Delete removes a blob; deleting a missing blob is no error.
	Delete(ctx context.Context, name string) error
}

var (
	// ErrExists: Put found the name taken.
	ErrExists = errors.New("blob already exists")
	// ErrNotFound: no blob has the name.
	ErrNotFound = errors.New("blob not found")
	// ErrBadName: names are 16–128 lower-case hex digits.
	ErrBadName = errors.New("malformed blob name")
)

var namePattern = regexp.MustCompile(`^[0-9a-f]{16,128}$`)

// CheckName refuses names that could escape a directory or a prefix.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return ErrBadName
	}
	return nil
}
