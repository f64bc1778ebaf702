package db

import (
	"context"
	"strings"
)

// The chamber portal's listings: a chamber's batches, its roster searched by
// membership number, and the applications it endorsed. Each is a keyset page
// (no OFFSET) and each query names the chamber.

// ChamberBatchPage lists a chamber's batches, newest first, after the
// (created_at, id) of the last batch of the previous page (zero: from the
// start); more reports whether another page follows.
func (s *Store) ChamberBatchPage(ctx context.Context, chamberID string, afterMS int64, afterID string, limit int) (
	batches []Batch, more bool, err error) {
	q := `SELECT id, chamber_id, reference, content_hash, total_rows, status, '' AS rows_sealed, created_at,
		completed_at FROM batches WHERE chamber_id = ?`
	args := []any{chamberID}
	if afterID != "" {
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, afterMS, afterMS, afterID)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	if err := s.db.SelectContext(ctx, &batches, s.db.Rebind(q), args...); err != nil {
		return nil, false, err
	}
	if len(batches) > limit {
		return batches[:limit], true, nil
	}
	return batches, false, nil
}

// SearchMembers pages through a chamber's members whose membership number
// starts with prefix (empty: all), by membership number after the given one.
func (s *Store) SearchMembers(ctx context.Context, chamberID, prefix, after string, limit int) ([]Member, string,
	error) {
	if prefix == "" {
		return s.ListMembers(ctx, chamberID, after, limit)
	}
	// A prefix range on the primary key (chamber_id, membership_number); LIKE
	// would need escaping and, on PostgreSQL, a collation-aware index.
	lo := max(after, prefix)
	var members []Member
	err := s.db.SelectContext(ctx, &members, s.db.Rebind(`SELECT * FROM chamber_members
		WHERE chamber_id = ? AND membership_number >= ? AND membership_number > ? AND membership_number < ?
		ORDER BY membership_number LIMIT ?`), chamberID, lo, after, prefix+"\U0010FFFF", limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(members) > limit {
		members = members[:limit]
		next = members[len(members)-1].MembershipNumber
	}
	out := members[:0]
	for i := range members {
		if !strings.HasPrefix(members[i].MembershipNumber, prefix) {
			continue // collations may order a few others into the range
		}
		if err := s.openPerson(&members[i]); err != nil {
			return nil, "", err
		}
		out = append(out, members[i])
	}
	return out, next, nil
}

// ChamberApplicationPage lists the applications a chamber endorsed, newest
// first, after the (submitted_at, id) of the previous page's last one; a
// non-empty status keeps only those in it.
func (s *Store) ChamberApplicationPage(ctx context.Context, chamberID, status string, afterMS int64, afterID string,
	limit int) (apps []Application, more bool, err error) {
	q := `SELECT ` + applicationColumns + ` FROM applications WHERE endorsed_by_chamber = ?`
	args := []any{chamberID}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	if afterID != "" {
		q += ` AND (submitted_at < ? OR (submitted_at = ? AND id < ?))`
		args = append(args, afterMS, afterMS, afterID)
	}
	q += ` ORDER BY submitted_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	if err := s.db.SelectContext(ctx, &apps, s.db.Rebind(q), args...); err != nil {
		return nil, false, err
	}
	if len(apps) > limit {
		return apps[:limit], true, nil
	}
	return apps, false, nil
}
