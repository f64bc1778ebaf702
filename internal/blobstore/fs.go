package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FS keeps blobs as files under a directory, fanned out by the name's first
// two characters. Files are written to a temporary name and linked into
// place, so a blob is whole or absent and never overwritten.
type FS struct{ dir string }

// NewFS creates the directory (0700) if needed.
func NewFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &FS{dir: dir}, nil
}

// Dir is where the blobs are.
func (f *FS) Dir() string { return f.dir }

// Path is the file of a blob.
func (f *FS) Path(name string) string { return filepath.Join(f.dir, name[:2], name) }

// Put writes the blob once.
func (f *FS) Put(_ context.Context, name string, data []byte) error {
	if err := CheckName(name); err != nil {
		return err
	}
	final := f.Path(name)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// link(2) fails when the name exists: the first writer wins, atomically.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	}
	return nil
}

// Get reads a blob.
func (f *FS) Get(_ context.Context, name string) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return b, err
}

// Exists reports whether the blob is there.
func (f *FS) Exists(_ context.Context, name string) (bool, error) {
	if err := CheckName(name); err != nil {
		return false, err
	}
	_, err := os.Stat(f.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes a blob.
func (f *FS) Delete(_ context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := os.Remove(f.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
