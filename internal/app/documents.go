package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/internal/keys"
)

// BlobStore opens the document blob store VISA_DOCUMENTS_STORE names: a
// directory (VISA_DOCUMENTS_DIR) or an S3 bucket (VISA_S3_*), which is
// created if it is missing and the credentials allow.
func BlobStore(ctx context.Context, cfg config.Config) (blobstore.Store, error) {
	if cfg.DocumentsStore != "s3" {
		return blobstore.NewFS(cfg.DocumentsDir)
	}
	if cfg.S3Bucket == "" {
		return nil, errors.New("VISA_DOCUMENTS_STORE=s3 needs VISA_S3_BUCKET")
	}
	s, err := blobstore.NewS3(blobstore.S3Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region,
		Bucket: cfg.S3Bucket, AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey})
	if err != nil {
		return nil, err
	}
	if err := s.CreateBucket(ctx); err != nil {
		return nil, fmt.Errorf("document store: %w", err)
	}
	return s, nil
}

// DocumentVault is the encrypted document store: blob keys wrapped by the
// payload keys (as PayloadCodec reads them), blobs named by keyed hashes.
func DocumentVault(ctx context.Context, cfg config.Config, k *keys.Keyring) (*documents.Vault, error) {
	spec := cfg.PayloadKeys
	if spec == "" {
		var err error
		if spec, err = codec.LoadOrCreateKeyFile(cfg.PayloadKeysFile()); err != nil {
			return nil, fmt.Errorf("payload keys: %w", err)
		}
	}
	list, err := codec.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("VISA_PAYLOAD_KEYS: %w", err)
	}
	blobs, err := BlobStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return documents.NewVault(blobs, list, k.DocumentAddress)
}
