package api

import (
	"reflect"
	"slices"
	"testing"

	"github.com/visad/visad/domain"
)

// The e-visa's schemas match the Go types, and the spec's revocation codes the domain's.
func TestEVisaSchemasMatchGoTypes(t *testing.T) {
	doc := loadSpec(t)
	for _, tc := range []struct {
		schema   string
		typ      any
		response bool
	}{
		{"SealVerifyRequest", SealVerifyBody{}, false},
		{"SealVerification", SealVerificationView{}, true},
		{"Revoke", RevokeBody{}, false},
		{"VisaRevocation", VisaRevocationView{}, true},
		{"Revocation", RevocationView{}, true},
		{"Visa", VisaView{}, true},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			ref := doc.Components.Schemas[tc.schema]
			if ref == nil {
				t.Fatalf("no schema %s", tc.schema)
			}
			compareSchema(t, tc.schema, reflect.TypeOf(tc.typ), ref.Value, tc.response)
		})
	}
	if got, want := enumOf(t, doc, "RevocationReason"), sorted(domain.RevocationReasons); !slices.Equal(got, want) {
		t.Errorf("RevocationReason: spec has %v, domain has %v", got, want)
	}
}
