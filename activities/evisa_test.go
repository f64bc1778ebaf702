package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/dbtest"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/internal/vds"
)

// approvedApplication stores a valid form as an application ready to issue.
func approvedApplication(t *testing.T, store *db.Store, k *keys.Keyring, passport string) db.Application {
	t.Helper()
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	form.Passport.Number = passport
	form = testenv.WithMRZ(form)
	id := "app_" + fmt.Sprintf("%025s", strings.ToLower(passport))
	sealed, _, err := k.SealForm(id, form)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	app, _, err := store.CreateApplication(context.Background(), db.NewApplication{
		ID: id, Reference: "PKV-" + passport[:5] + "-TEST0", Product: string(form.Product),
		PassportHash: k.PassportHash("KAZ", passport), FormSealed: sealed, RequestHash: "h",
		SubmittedAt: now, SLADueAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func storedSeal(t *testing.T, store *db.Store, k *keys.Keyring, appID string) []byte {
	t.Helper()
	sealed, err := store.VisaSeal(context.Background(), appID)
	if err != nil {
		t.Fatalf("stored seal: %v", err)
	}
	raw, err := k.OpenVisaSeal(appID, sealed)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestIssueVisaSealsOnceUnderRetry runs the issuing activity as a worker that
// crashed after signing would: again, with the same input. The second run
// must leave the same seal, and after a signer rotation (a new key that signs
// other bytes) still the first one.
func TestIssueVisaSealsOnceUnderRetry(t *testing.T) {
	store := dbtest.SQLite(t)
	k, err := keys.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	pki, err := sealpki.EnsureDev(dataDir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Store: store, Keys: k, Seals: pki}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	app := approvedApplication(t, store, k, "N7654321X")
	issuedOn := time.Now().UTC()
	in := activities.IssueInput{
		Status: activities.StatusInput{ApplicationID: app.ID, Seq: 5, Status: "issued", Event: "issued",
			Actor: "system", At: issuedOn},
		IssuedOn: issuedOn,
	}
	issue := func() domain.Visa {
		t.Helper()
		val, err := env.ExecuteActivity(acts.IssueVisa, in)
		if err != nil {
			t.Fatal(err)
		}
		var res domain.Visa
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := issue()
	seal1 := storedSeal(t, store, k, app.ID)

	// The seal verifies with the published set and carries the visa's MRZ and terms.
	verifier, err := pki.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	res, err := verifier.Verify(seal1)
	if err != nil {
		t.Fatalf("seal does not verify: %v", err)
	}
	visa, err := vds.ParseVisa(res.Seal)
	if err != nil {
		t.Fatal(err)
	}
	mrzNumber, _ := domain.VisaMRZNumber(first.VisaNumber)
	if !strings.HasPrefix(visa.MRZ[1], mrzNumber) || !strings.HasPrefix(visa.MRZ[0], "V<PAKABENOV<<NURLAN") ||
		visa.PassportNumber != "N7654321X" || visa.Entries == nil || *visa.Entries != 0 ||
		visa.DurationOfStay == nil || visa.DurationOfStay.Days != 90 {
		t.Fatalf("sealed visa %+v for %+v", visa, first)
	}
	if got := res.Seal.Header.IssueDate.Format(time.DateOnly); got != issuedOn.Format(time.DateOnly) {
		t.Errorf("document issue date %s, want %s", got, issuedOn.Format(time.DateOnly))
	}

	// Retry: same visa, same seal bytes (deterministic signature and store-once).
	if again := issue(); again != first {
		t.Fatalf("retry issued %+v, first %+v", again, first)
	}
	if seal2 := storedSeal(t, store, k, app.ID); !bytes.Equal(seal2, seal1) {
		t.Fatalf("seal changed on retry:\n%x\n%x", seal1, seal2)
	}
	// The same input signs the same bytes: a crash after signing and before storing loses nothing.
	resigned, err := pki.SignVisa(res.Seal.Header.IssueDate, res.Seal.Header.SignatureDate, visa)
	if err != nil || !bytes.Equal(resigned, seal1) {
		t.Fatalf("re-signing gave other bytes (%v)", err)
	}

	// A retry after a signer rotation keeps the stored seal.
	rotated, err := sealpki.RotateDev(dataDir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	acts.Seals = rotated
	issue()
	if seal3 := storedSeal(t, store, k, app.ID); !bytes.Equal(seal3, seal1) {
		t.Fatal("a retry after rotation replaced the stored seal")
	}
}

// TestIssueVisaLongPassportNumber: a passport number longer than the seal's
// 9 characters is sealed as its first 9 (the passport MRZ's number field).
func TestIssueVisaLongPassportNumber(t *testing.T) {
	store := dbtest.SQLite(t)
	k, _ := keys.New(bytes.Repeat([]byte{9}, 32))
	pki, err := sealpki.EnsureDev(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Store: store, Keys: k, Seals: pki}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	app := approvedApplication(t, store, k, "LONGPASS123456")
	now := time.Now().UTC()
	if _, err := env.ExecuteActivity(acts.IssueVisa, activities.IssueInput{
		Status: activities.StatusInput{ApplicationID: app.ID, Seq: 5, Status: "issued", Event: "issued",
			Actor: "system", At: now},
		IssuedOn: now,
	}); err != nil {
		t.Fatal(err)
	}
	s, err := vds.Decode(storedSeal(t, store, k, app.ID))
	if err != nil {
		t.Fatal(err)
	}
	visa, err := vds.ParseVisa(s)
	if err != nil || visa.PassportNumber != "LONGPASS1" {
		t.Fatalf("sealed passport number %q (%v), want LONGPASS1", visa.PassportNumber, err)
	}
}
