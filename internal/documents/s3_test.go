package documents

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/visad/visad/internal/blobstore"
)

// S3EndpointEnv names a real S3-compatible server for the S3 tests; .ci/run
// starts one (versitygw) and counts the line these tests log.
const S3EndpointEnv = "VISA_TEST_S3_ENDPOINT"

// S3FromEnv is a fresh bucket on the server VISA_TEST_S3_ENDPOINT names
// (credentials VISA_TEST_S3_ACCESS_KEY / VISA_TEST_S3_SECRET_KEY); the test
// is skipped without it, and fails when VISA_TEST_S3=required.
func S3FromEnv(t *testing.T) *blobstore.S3 {
	t.Helper()
	endpoint := os.Getenv(S3EndpointEnv)
	if endpoint == "" {
		if os.Getenv("VISA_TEST_S3") == "required" {
			t.Fatalf("VISA_TEST_S3=required but %s is not set", S3EndpointEnv)
		}
		t.Skipf("no S3-compatible server: set %s", S3EndpointEnv)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	s, err := blobstore.NewS3(blobstore.S3Config{Endpoint: endpoint, Bucket: "visad-test-" + hex.EncodeToString(suffix),
		AccessKeyID: os.Getenv("VISA_TEST_S3_ACCESS_KEY"), SecretAccessKey: os.Getenv("VISA_TEST_S3_SECRET_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(context.Background()); err != nil {
		t.Fatalf("create bucket on %s: %v", endpoint, err)
	}
	// .ci/run counts this line to show the S3 tests ran against a real server.
	t.Logf("documents: S3 backend test on a real S3-compatible server")
	return s
}

// TestVaultOnS3 runs the vault's contract on a real bucket: ciphertext at
// rest (read back raw through the S3 API), write-once, rotation.
func TestVaultOnS3(t *testing.T) {
	s := S3FromEnv(t)
	VaultContract(t, s, func(name string) []byte {
		b, err := s.Get(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
