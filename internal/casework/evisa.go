package casework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/evisapdf"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

// The e-visa: the seal and MRZ of an issued visa on its case, the PDF the
// traveller carries, online verification of seals, and revocation.

// Errors of the e-visa.
var (
	ErrNotIssued    = errors.New("no visa has been issued for this application")
	ErrSealPending  = errors.New("the visa's seal is still being created; retry shortly")
	ErrVisaRevoked  = errors.New("the visa has been revoked")
	ErrVisaNotFound = errors.New("no such visa")
)

// IssuingStateName is printed on the e-visa.
const IssuingStateName = "Islamic Republic of Pakistan"

// EVisa is the e-visa part of a case: the seal (nil while the issuing step
// has not stored it yet), the MRZ it carries, and the revocation, if any.
type EVisa struct {
	Seal       []byte
	MRZ        [2]string
	Revocation *Revocation
}

// Revocation is why and when a visa was revoked.
type Revocation struct {
	VisaNumber string
	ReasonCode string
	RevokedAt  time.Time
}

func revocationOf(r db.Revocation) *Revocation {
	return &Revocation{VisaNumber: r.VisaNumber, ReasonCode: r.ReasonCode, RevokedAt: r.RevokedAt()}
}

// eVisa reads an issued visa's seal and revocation state.
func (s *Service) eVisa(ctx context.Context, applicationID string, visa domain.Visa) (*EVisa, error) {
	ev := &EVisa{}
	sealed, err := s.Store.VisaSeal(ctx, applicationID)
	switch {
	case err == nil:
		if ev.Seal, err = s.Keys.OpenVisaSeal(applicationID, sealed); err != nil {
			return nil, err
		}
		seal, err := vds.Decode(ev.Seal)
		if err != nil {
			return nil, fmt.Errorf("stored seal of %s: %w", applicationID, err)
		}
		v, err := vds.ParseVisa(seal)
		if err != nil {
			return nil, fmt.Errorf("stored seal of %s: %w", applicationID, err)
		}
		ev.MRZ = v.MRZ
	case !errors.Is(err, db.ErrNotFound):
		return nil, err
	}
	rev, err := s.Store.RevocationOf(ctx, visa.VisaNumber)
	switch {
	case err == nil:
		ev.Revocation = revocationOf(rev)
	case !errors.Is(err, db.ErrNotFound):
		return nil, err
	}
	return ev, nil
}

// EVisas serves the e-visa's documents and checks: it holds the seal PKI.
type EVisas struct {
	Cases     *Service
	PKI       *sealpki.PKI
	PublicURL string // the check link on the PDF is PublicURL + "/check"
	verifier  *vds.Verifier
}

// NewEVisas prepares the e-visa service; the verifier trusts the PKI's published set.
func NewEVisas(cases *Service, pki *sealpki.PKI, publicURL string) (*EVisas, error) {
	verifier, err := pki.Verifier()
	if err != nil {
		return nil, err
	}
	return &EVisas{Cases: cases, PKI: pki, PublicURL: strings.TrimRight(publicURL, "/"), verifier: verifier}, nil
}

// CheckURL is the public check page the e-visa's QR code links to. It names
// no visa and no person.
func (e *EVisas) CheckURL() string { return e.PublicURL + "/check" }

// PublishedCertificates is the CA and every document signer certificate (PEM).
func (e *EVisas) PublishedCertificates() []byte { return e.PKI.PublishedPEM() }

// PDF renders the e-visa of an application. A non-empty chamberID limits it
// to applications that chamber submitted (others are ErrNotFound).
func (e *EVisas) PDF(ctx context.Context, id, chamberID string) ([]byte, error) {
	s := e.Cases
	app, err := s.Store.GetApplication(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && chamberID != "" && app.EndorsedBy.String != chamberID) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	visa, err := s.Store.GetVisa(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNotIssued
	}
	if err != nil {
		return nil, err
	}
	ev, err := s.eVisa(ctx, id, visa)
	if err != nil {
		return nil, err
	}
	switch {
	case ev.Revocation != nil:
		return nil, ErrVisaRevoked
	case ev.Seal == nil:
		return nil, ErrSealPending
	}
	form, err := s.Keys.OpenForm(app.ID, app.FormSealed)
	if err != nil {
		return nil, err
	}
	doc, err := e.document(app, visa, form, ev)
	if err != nil {
		return nil, err
	}
	if doc.Photo, err = s.Photograph(ctx, app.ID); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := evisapdf.Render(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (e *EVisas) document(app db.Application, visa domain.Visa, form domain.Application,
	ev *EVisa) (evisapdf.Document, error) {
	seal, err := vds.Decode(ev.Seal)
	if err != nil {
		return evisapdf.Document{}, err
	}
	product := app.Product
	if spec, ok := domain.LookupProduct(domain.Product(app.Product)); ok {
		product = spec.Title
	}
	day := func(s string) time.Time { t, _ := domain.ParseDate(s); return t }
	return evisapdf.Document{
		IssuingState:   IssuingStateName,
		HolderName:     strings.ToUpper(form.Applicant.Surname) + " " + form.Applicant.GivenNames,
		Nationality:    form.Applicant.Nationality,
		BirthDate:      day(form.Applicant.DateOfBirth),
		PassportNumber: form.Passport.Number,
		VisaNumber:     visa.VisaNumber,
		Product:        product,
		ValidFrom:      day(visa.ValidFrom),
		ValidUntil:     day(visa.ValidUntil),
		Entries:        visa.Entries,
		MaxStayDays:    visa.MaxStayDays,
		IssueDate:      seal.Header.IssueDate,
		MRZ:            ev.MRZ,
		Seal:           ev.Seal,
		CheckURL:       e.CheckURL(),
	}, nil
}

// Verification is the online answer about a seal: the signature check, the
// decoded seal, and whether visad revoked the visa.
type Verification struct {
	Valid      bool
	ErrorCode  string // vds.ErrorCode
	Error      string
	Signer     *vds.SignerCertificate
	Seal       *vds.Seal
	Visa       *vds.Visa
	Revocation *Revocation
}

// Verify checks a seal against the published certificates. A seal that does
// not decode or verify is an answer (Valid false), not an error. The
// revocation state is looked up for valid seals only: only then is the
// visa number in the MRZ the one visad signed.
func (e *EVisas) Verify(ctx context.Context, raw []byte) (Verification, error) {
	res, verr := e.verifier.Verify(raw)
	out := Verification{Valid: verr == nil, ErrorCode: vds.ErrorCode(verr)}
	if verr != nil {
		out.Error = verr.Error()
	}
	if res == nil {
		return out, nil
	}
	out.Seal = res.Seal
	if res.Signer.Serial != nil {
		signer := res.Signer
		out.Signer = &signer
	}
	if v, err := vds.ParseVisa(res.Seal); err == nil {
		out.Visa = &v
	}
	if !out.Valid || out.Visa == nil {
		return out, nil
	}
	rev, err := e.revocationForMRZ(ctx, out.Visa.MRZ[1])
	if err != nil {
		return Verification{}, err
	}
	out.Revocation = rev
	return out, nil
}

// revocationForMRZ finds the revocation of the visa whose MRZ line 2 begins
// with its 9-character number (random part and check character).
func (e *EVisas) revocationForMRZ(ctx context.Context, line2 string) (*Revocation, error) {
	if len(line2) < 9 {
		return nil, nil
	}
	visa, err := e.Cases.Store.VisaByRandomPart(ctx, line2[:8])
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if number, ok := domain.VisaMRZNumber(visa.VisaNumber); !ok || number != line2[:9] {
		return nil, nil
	}
	rev, err := e.Cases.Store.RevocationOf(ctx, visa.VisaNumber)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return revocationOf(rev), nil
}

// Revoke revokes a visa for a reason of domain.RevocationReasons; actor is
// "role:id". Revoking again returns the first revocation unchanged.
func (e *EVisas) Revoke(ctx context.Context, number, reasonCode, actor string) (Revocation, error) {
	if !domain.IsRevocationReason(reasonCode) {
		return Revocation{}, domain.FieldErrors{{Pointer: "/reason_code", Code: "unknown_reason",
			Detail: "must be one of " + strings.Join(domain.RevocationReasons, ", ")}}
	}
	rev, _, err := e.Cases.Store.RevokeVisa(ctx, number, reasonCode, actor, e.Cases.now())
	if errors.Is(err, db.ErrNotFound) {
		return Revocation{}, ErrVisaNotFound
	}
	if err != nil {
		return Revocation{}, err
	}
	return *revocationOf(rev), nil
}

// SignedRevocationList is the current revocation list, signed by the active
// document signer: the exact JSON body, the DER signature over it and the
// signer's certificate reference.
func (e *EVisas) SignedRevocationList(ctx context.Context) (body, signature []byte, signer string, err error) {
	revs, err := e.Cases.Store.Revocations(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	entries := make([]sealpki.RevocationEntry, 0, len(revs))
	for _, r := range revs {
		mrz, _ := domain.VisaMRZNumber(r.VisaNumber)
		entries = append(entries, sealpki.RevocationEntry{VisaNumber: r.VisaNumber, MRZVisaNumber: mrz,
			RevokedAt: r.RevokedAt(), ReasonCode: r.ReasonCode})
	}
	body, signature, err = e.PKI.SignRevocationList(entries, e.Cases.now())
	if err != nil {
		return nil, nil, "", err
	}
	return body, signature, vds.SignerCertificate{Serial: e.PKI.Active().SerialNumber}.CertRef(), nil
}
