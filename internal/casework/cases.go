package casework

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/workflows"
)

// Case is everything known about one case: the read model, merged with the
// workflow's live state while the case is open. The HTTP layer decides what
// each caller may see of it.
type Case struct {
	ID           string
	Reference    string
	Product      domain.Product
	Status       domain.Status
	SubmittedAt  time.Time
	UpdatedAt    time.Time
	EndorsedBy   string // the chamber that submitted the case, if any
	ScreeningHit bool
	// ScreeningScore and ScreeningEntry are the best watchlist match (live cases only).
	ScreeningScore float64
	ScreeningEntry string
	Decision       *domain.Decision
	Visa           *domain.Visa
	EVisa          *EVisa // with Visa: its seal, MRZ and revocation (evisa.go)
	Ineligible     []domain.FieldError
	Timeline       []TimelineEntry
	// SLA is the decision clock as of the read, while the case is open.
	SLA                *domain.SLA
	InformationRequest *InformationRequest
	Assignee           string
	// FirstDecision is the first of the two decisions a five-year visa needs.
	FirstDecision *domain.Decision
	// SuspectedDuplicate lists the other open applications for the same
	// passport and product (staff only: one of them may be an impostor's).
	SuspectedDuplicate []string
	// SecondDecision is the second when it disagreed with the first (status disagreement).
	SecondDecision *domain.Decision
	// MissingDocuments are the checklist's documents the open case still lacks (live cases only).
	MissingDocuments []string

	sealedForm string
}

// TimelineEntry is one event of a case.
type TimelineEntry struct {
	At     time.Time
	Status domain.Status
	Event  domain.Event
	Actor  string
	Detail string
}

// InformationRequest is what an officer (or the system, for missing documents) asked the applicant for.
type InformationRequest struct {
	Message   string
	DueAt     time.Time
	Documents []string // requirement codes of the documents to upload with the answer
}

// Get loads a case: the read model, the live state from its workflow while
// the case is open, the visa and the timeline.
func (s *Service) Get(ctx context.Context, id string) (Case, error) {
	app, err := s.Store.GetApplication(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Case{}, notFound("no such application")
	}
	if err != nil {
		return Case{}, err
	}
	var live *workflows.CaseState
	if !domain.Status(app.Status).IsClosed() && app.WorkflowStarted {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if res, err := s.Temporal.QueryWorkflow(qctx, workflows.WorkflowID(id), "", workflows.QueryState); err == nil {
			var st workflows.CaseState
			if res.Get(&st) == nil {
				live = &st
			}
		}
	}
	c := caseFromRow(app, live, s.now())
	dups, err := s.Store.SuspectedDuplicates(ctx, []string{id})
	if err != nil {
		return Case{}, err
	}
	c.SuspectedDuplicate = dups[id]
	if visa, err := s.Store.GetVisa(ctx, id); err == nil {
		c.Visa = &visa
		if c.EVisa, err = s.eVisa(ctx, id, visa); err != nil {
			return Case{}, err
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return Case{}, err
	}
	events, err := s.Store.Timeline(ctx, id)
	if err != nil {
		return Case{}, err
	}
	for _, e := range events {
		c.Timeline = append(c.Timeline, TimelineEntry{At: e.At(), Status: domain.Status(e.Status),
			Event: domain.Event(e.Event), Actor: e.Actor, Detail: e.Detail})
	}
	return c, nil
}

// caseFromRow merges the read model and, when there is one, the live state:
// the live state wins while the case is open.
func caseFromRow(app db.Application, live *workflows.CaseState, now time.Time) Case {
	c := Case{
		ID: app.ID, Reference: app.Reference, Product: domain.Product(app.Product), Status: domain.Status(app.Status),
		SubmittedAt: app.SubmittedAt(), UpdatedAt: app.UpdatedAt(), EndorsedBy: app.EndorsedBy.String,
		ScreeningHit: app.ScreeningHit, Assignee: app.Assignee.String, sealedForm: app.FormSealed,
	}
	if app.Decision.Valid {
		c.Decision = &domain.Decision{Outcome: domain.Outcome(app.Decision.String),
			ReasonCode: domain.ReasonCode(app.ReasonCode.String), DecidedBy: app.DecidedBy.String}
		if app.DecidedAtMS.Valid {
			c.Decision.DecidedAt = time.UnixMilli(app.DecidedAtMS.Int64).UTC()
		}
	}
	if live != nil && live.Status != "" {
		c.Status = live.Status
		if !live.UpdatedAt.IsZero() {
			c.UpdatedAt = live.UpdatedAt
		}
		c.Ineligible = live.Ineligible
	}
	if c.Ineligible == nil && app.Ineligible != "" {
		var reasons []domain.FieldError
		if json.Unmarshal([]byte(app.Ineligible), &reasons) == nil {
			c.Ineligible = reasons
		}
	}
	c.SLA = slaOf(app, live, now)
	if live != nil {
		c.ScreeningHit = c.ScreeningHit || live.ScreeningHit
		c.ScreeningScore, c.ScreeningEntry = live.ScreeningScore, live.ScreeningEntry
		c.Assignee = live.Assignee
		c.FirstDecision, c.SecondDecision = live.FirstDecision, live.SecondDecision
		if ir := live.InformationRequest; ir != nil {
			c.InformationRequest = &InformationRequest{Message: ir.Message, DueAt: ir.DueAt, Documents: ir.Documents}
		}
		c.MissingDocuments = live.MissingDocuments
	}
	return c
}

// slaOf reads the clock from the workflow's live state, or from the read
// model; a closed case has none.
func slaOf(app db.Application, live *workflows.CaseState, now time.Time) *domain.SLA {
	if domain.Status(app.Status).IsClosed() && (live == nil || live.Status.IsClosed()) {
		return nil
	}
	sla := &domain.SLA{DueAt: app.SLADueAt(), Paused: app.SLAPaused, Escalated: app.Escalated, Breached: app.Breached,
		RemainingAtPause: time.Duration(app.SLARemainingMS) * time.Millisecond}
	if live != nil && live.SLA != nil {
		*sla = *live.SLA
		if sla.Paused {
			sla.DueAt = now.Add(sla.RemainingAtPause) // due if the applicant answered now
		}
	}
	return sla
}

// caseFromState is a case as an update left it.
func caseFromState(st workflows.CaseState) Case {
	c := Case{ID: st.ApplicationID, Product: st.Product, Status: st.Status, ScreeningHit: st.ScreeningHit,
		ScreeningScore: st.ScreeningScore, ScreeningEntry: st.ScreeningEntry,
		Decision: st.Decision, Visa: st.Visa, UpdatedAt: st.UpdatedAt, Assignee: st.Assignee,
		FirstDecision: st.FirstDecision, SecondDecision: st.SecondDecision, Ineligible: st.Ineligible,
		MissingDocuments: st.MissingDocuments}
	if ir := st.InformationRequest; ir != nil {
		c.InformationRequest = &InformationRequest{Message: ir.Message, DueAt: ir.DueAt, Documents: ir.Documents}
	}
	return c
}

// Form opens a case's application form for a member of staff, and audits
// the read: who read which case's form, when (no personal data).
func (s *Service) Form(ctx context.Context, reader domain.Actor, c Case) (domain.Application, error) {
	form, err := s.Keys.OpenForm(c.ID, c.sealedForm)
	if err != nil {
		return domain.Application{}, err
	}
	if err := s.AuditRead(ctx, reader, "form.read", c.ID); err != nil {
		return domain.Application{}, err
	}
	return form, nil
}

// AuditRead records that a member of staff read an application's decrypted
// personal data (action form.read, evisa.read): who, which case, when.
func (s *Service) AuditRead(ctx context.Context, reader domain.Actor, action, applicationID string) error {
	if _, err := s.Store.AppendAudit(ctx, db.AuditEntry{Actor: reader.Name(), Action: action,
		Subject: applicationID, At: s.now()}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// DecisionNotes opens the notes staff wrote with their decisions on a case.
func (s *Service) DecisionNotes(ctx context.Context, applicationID string) ([]db.DecisionNote, error) {
	return s.Store.DecisionNotes(ctx, applicationID)
}

// StatusSummary is a case's status, and nothing more.
type StatusSummary struct {
	Reference string
	Status    domain.Status
	UpdatedAt time.Time
}

// LookupStatus finds a case by its reference, the passport number and the
// birth date. Every mismatch looks the same (NotFound), and the comparison
// takes the same time whether or not the reference exists.
func (s *Service) LookupStatus(
	ctx context.Context,
	reference, passportNumber, dateOfBirth string,
) (StatusSummary, error) {
	ref := strings.ToUpper(strings.TrimSpace(reference))
	given := domain.NormalizePassportNumber(passportNumber) + "|" + dateOfBirth
	app, err := s.Store.GetApplicationByReference(ctx, ref)
	stored := "\x00no-such-application\x00"
	if err == nil {
		form, ferr := s.Keys.OpenForm(app.ID, app.FormSealed)
		if ferr != nil {
			return StatusSummary{}, ferr
		}
		stored = domain.NormalizePassportNumber(form.Passport.Number) + "|" + form.Applicant.DateOfBirth
	} else if !errors.Is(err, db.ErrNotFound) {
		return StatusSummary{}, err
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(stored))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 || err != nil {
		return StatusSummary{}, notFound("no application matches these details")
	}
	return StatusSummary{Reference: app.Reference, Status: domain.Status(app.Status), UpdatedAt: app.UpdatedAt()}, nil
}

// QueueFilter selects a page of the officers' queue.
type QueueFilter struct {
	Status  domain.Status
	Product domain.Product
	// EscalatedOnly is the supervisors' queue: cases past 75 % of their SLA.
	EscalatedOnly bool
	// ScreeningHitOnly keeps the cases whose applicant matched the watchlist (the console's filter).
	ScreeningHitOnly bool
	// OpenOnly leaves closed cases out (the console's default).
	OpenOnly bool
	Limit    int
	// Cursor continues from a page's NextCursor.
	Cursor string
}

// QueueItem is one line of the queue.
type QueueItem struct {
	ID           string
	Reference    string
	Product      domain.Product
	Status       domain.Status
	ScreeningHit bool
	SubmittedAt  time.Time
	UpdatedAt    time.Time
	SLA          domain.SLA
	Assignee     string
	// SuspectedDuplicate: other open applications for the same passport and product.
	SuspectedDuplicate []string
}

// QueuePage is a page of the queue.
type QueuePage struct {
	Items      []QueueItem
	NextCursor string // empty on the last page
}

// Queue returns one page of cases, escalated first, then by SLA due time.
func (s *Service) Queue(ctx context.Context, f QueueFilter) (QueuePage, error) {
	filter := db.CaseFilter{Status: string(f.Status), Product: string(f.Product), EscalatedOnly: f.EscalatedOnly,
		ScreeningHitOnly: f.ScreeningHitOnly, OpenOnly: f.OpenOnly, Limit: f.Limit}
	if f.Cursor != "" {
		after, ok := decodeCursor(f.Cursor)
		if !ok {
			return QueuePage{}, invalid(domain.FieldErrors{{Pointer: "/query/cursor", Code: "invalid_parameter",
				Detail: "cursor is not a cursor this API issued"}})
		}
		filter.After = &after
	}
	rows, next, err := s.Store.ListCases(ctx, filter)
	if err != nil {
		return QueuePage{}, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	dups, err := s.Store.SuspectedDuplicates(ctx, ids)
	if err != nil {
		return QueuePage{}, err
	}
	page := QueuePage{Items: make([]QueueItem, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, QueueItem{
			ID: r.ID, Reference: r.Reference, Product: domain.Product(r.Product), Status: domain.Status(r.Status),
			ScreeningHit: r.ScreeningHit, SubmittedAt: time.UnixMilli(r.SubmittedAtMS).UTC(),
			UpdatedAt: time.UnixMilli(r.UpdatedAtMS).UTC(), Assignee: r.Assignee.String, SuspectedDuplicate: dups[r.ID],
			SLA: domain.SLA{DueAt: time.UnixMilli(r.SLADueAtMS).UTC(), Paused: r.SLAPaused, Escalated: r.Escalated,
				Breached: r.Breached, RemainingAtPause: time.Duration(r.SLARemainMS) * time.Millisecond},
		})
	}
	if next != nil {
		page.NextCursor = encodeCursor(*next)
	}
	return page, nil
}

type cursorJSON struct {
	R int    `json:"r"`
	D int64  `json:"d"`
	I string `json:"i"`
}

func encodeCursor(c db.CaseCursor) string {
	b, _ := json.Marshal(cursorJSON{R: c.QueueRank, D: c.SLADueAtMS, I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidQueueCursor reports whether s is a cursor Queue issued.
func ValidQueueCursor(s string) bool {
	_, ok := decodeCursor(s)
	return ok
}

func decodeCursor(s string) (db.CaseCursor, bool) {
	if len(s) > 200 {
		return db.CaseCursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return db.CaseCursor{}, false
	}
	var cj cursorJSON
	if json.Unmarshal(b, &cj) != nil || !domain.IsApplicationID(cj.I) {
		return db.CaseCursor{}, false
	}
	return db.CaseCursor{QueueRank: cj.R, SLADueAtMS: cj.D, ID: cj.I}, true
}

// Account is an authenticated staff or chamber account.
type Account struct {
	ID        string
	Role      domain.Role
	ChamberID string // chamber accounts only
}

// Authenticate finds the active account a staff or chamber bearer token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (Account, error) {
	user, err := s.Store.UserByTokenHash(ctx, keys.HashToken(token))
	if errors.Is(err, db.ErrNotFound) || (err == nil && !user.Active(s.now())) {
		return Account{}, &Error{Kind: Unauthenticated, Message: "the bearer token is not valid"}
	}
	if err != nil {
		return Account{}, err
	}
	return Account{ID: user.ID, Role: domain.Role(user.Role), ChamberID: user.ChamberID.String}, nil
}

// DefaultApplicantTokenTTL is how long an applicant's token works after the
// case closed, unless configured (VISA_APPLICANT_TOKEN_TTL_AFTER_CLOSE).
const DefaultApplicantTokenTTL = 90 * 24 * time.Hour

// VerifyAccessToken checks an applicant's access token: NotFound when it is
// not the application's token (as if the application did not exist),
// Unauthenticated when the case closed longer ago than ApplicantTokenTTL.
func (s *Service) VerifyAccessToken(ctx context.Context, applicationID, token string) error {
	if !s.Keys.VerifyAccessToken(applicationID, token) {
		return notFound("no such application")
	}
	app, err := s.Store.GetApplication(ctx, applicationID)
	if errors.Is(err, db.ErrNotFound) {
		return notFound("no such application")
	}
	if err != nil {
		return err
	}
	if !domain.Status(app.Status).IsClosed() {
		return nil
	}
	closed := app.UpdatedAt()
	if app.DecidedAtMS.Valid {
		closed = time.UnixMilli(app.DecidedAtMS.Int64)
	}
	ttl := s.ApplicantTokenTTL
	if ttl <= 0 {
		ttl = DefaultApplicantTokenTTL
	}
	if s.now().After(closed.Add(ttl)) {
		return &Error{Kind: Unauthenticated, Message: "the access token has expired: the case closed " +
			closed.UTC().Format(time.DateOnly)}
	}
	return nil
}

// Health checks that the database and Temporal answer.
func (s *Service) Health(ctx context.Context) (database, temporal error) {
	database = s.Store.Ping(ctx)
	_, temporal = s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	return database, temporal
}

// Counts are the read model's totals, for metrics.
type Counts struct {
	Applications []ApplicationCount
	BatchRows    map[string]int64 // by outcome
	Batches      map[string]int64 // by status
}

// ApplicationCount is the number of applications of one product in one status.
type ApplicationCount struct {
	Product domain.Product
	Status  domain.Status
	N       int64
}

// Counts totals applications by product and status, and batches and their rows.
func (s *Service) Counts(ctx context.Context) (Counts, error) {
	c, err := s.Store.Counts(ctx)
	if err != nil {
		return Counts{}, err
	}
	out := Counts{BatchRows: map[string]int64{}, Batches: map[string]int64{}}
	for _, a := range c.Applications {
		out.Applications = append(out.Applications,
			ApplicationCount{Product: domain.Product(a.Product), Status: domain.Status(a.Status), N: a.N})
	}
	for _, r := range c.BatchRows {
		out.BatchRows[r.Key] = r.N
	}
	for _, b := range c.Batches {
		out.Batches[b.Key] = b.N
	}
	return out, nil
}
