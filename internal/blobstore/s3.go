package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Config names a bucket of an S3-compatible object store.
type S3Config struct {
	// Endpoint is the store's URL, e.g. http://objectstore:7070 (empty: AWS).
	Endpoint        string
	Region          string
	Bucket          string
	AccessKeyID     string
	SecretAccessKey string
	// Prefix is put before every name, e.g. "documents/".
	Prefix string
}

// S3 keeps blobs as objects of one bucket, addressed by path (which every
// S3-compatible store understands). Put is a conditional write
// (If-None-Match: *) after a look, so an existing blob is never replaced.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
}

// NewS3 builds the client; it does not contact the store (see Check).
func NewS3(c S3Config) (*S3, error) {
	if c.Bucket == "" {
		return nil, errors.New("S3: no bucket")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	opts := s3.Options{
		Region:       c.Region,
		UsePathStyle: true,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(
			func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
					Source: "visad settings"}, nil
			})),
		// Stores other than AWS may not know the newer default checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           3,
	}
	if c.Endpoint != "" {
		opts.BaseEndpoint = aws.String(strings.TrimRight(c.Endpoint, "/"))
	}
	return &S3{client: s3.New(opts), bucket: c.Bucket, prefix: c.Prefix}, nil
}

func (s *S3) key(name string) *string { return aws.String(s.prefix + name) }

// Check reports whether the bucket answers.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		return fmt.Errorf("S3 bucket %q: %w", s.bucket, err)
	}
	return nil
}

// CreateBucket creates the bucket if it is not there (dev and tests).
func (s *S3) CreateBucket(ctx context.Context) error {
	if s.Check(ctx) == nil {
		return nil
	}
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return err
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Put writes the object once.
func (s *S3) Put(ctx context.Context, name string, data []byte) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if ok, err := s.Exists(ctx, name); err != nil {
		return err
	} else if ok {
		return ErrExists
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: s.key(name), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream"),
		IfNoneMatch: aws.String("*"),
	})
	if st := status(err); st == http.StatusPreconditionFailed || st == http.StatusConflict {
		return ErrExists
	}
	return err
}

// Get reads an object.
func (s *S3) Get(ctx context.Context, name string) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: s.key(name)})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) || status(err) == http.StatusNotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// Exists reports whether the object is there.
func (s *S3) Exists(ctx context.Context, name string) (bool, error) {
	if err := CheckName(name); err != nil {
		return false, err
	}
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: s.key(name)})
	var missing *types.NotFound
	if errors.As(err, &missing) || status(err) == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

// Delete removes an object.
func (s *S3) Delete(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: s.key(name)})
	if status(err) == http.StatusNotFound {
		return nil
	}
	return err
}
