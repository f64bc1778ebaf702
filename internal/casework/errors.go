package casework

import (
	"errors"
	"time"

	"github.com/visad/visad/domain"
)

// Kind classifies what went wrong, so the HTTP layer can answer with the
// right problem without knowing where it happened.
type Kind int

// Kinds of Error.
const (
	// Invalid: the request breaks rules of its own fields (Fields says which, or Message).
	Invalid Kind = iota + 1
	// NotFound: no such case, batch or account, or not one the caller may see.
	NotFound
	// Unauthenticated: the credentials name nobody (or a revoked or expired account).
	Unauthenticated
	// IdempotencyMismatch: the Idempotency-Key was used before with a different request.
	IdempotencyMismatch
	// Conflict: the case cannot take the action in its current state.
	Conflict
	// Forbidden: this person may not take the action on this case.
	Forbidden
	// Unavailable: case processing cannot be reached now; the same request may be retried.
	Unavailable
	// QuotaExceeded: the chamber has posted its batch rows for the day (RetryAfter: until the next day).
	QuotaExceeded
)

// Error is every failure the service layer reports for the caller to act on.
// Its message is safe to show: it never holds personal data.
type Error struct {
	Kind    Kind
	Message string
	// Fields are the invalid fields of an Invalid request, when it has them.
	Fields domain.FieldErrors
	// RetryAfter is when a QuotaExceeded request may succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Message == "" && len(e.Fields) > 0 {
		return e.Fields.Error()
	}
	return e.Message
}

// Is makes errors.Is(err, ErrNotFound) and the like match any Error of that kind.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Kind == e.Kind && t.Message == ""
}

// Sentinels to test an error's kind with errors.Is.
var (
	ErrNotFound    = &Error{Kind: NotFound}
	ErrUnavailable = &Error{Kind: Unavailable}
)

// KindOf is the kind of err, or 0 when it is not the service's Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func invalid(fields domain.FieldErrors) *Error { return &Error{Kind: Invalid, Fields: fields} }

func notFound(message string) *Error { return &Error{Kind: NotFound, Message: message} }
