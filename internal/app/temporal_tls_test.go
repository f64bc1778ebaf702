package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/visad/visad/internal/config"
)

// pki is a throwaway CA with a server certificate for temporal.test (and
// 127.0.0.1) and a client certificate, as PEM files in a directory.
type pki struct {
	dir                    string
	ca                     *x509.Certificate
	caKey                  *ecdsa.PrivateKey
	caFile                 string
	serverCert, clientCert tls.Certificate
	clientCertFile         string
	clientKeyFile          string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	var err error
	if p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test temporal CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	p.serverCert, _, _ = p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientCertFile, p.clientKeyFile = p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{"temporal.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := p.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := p.write(t, name+"-key.pem", "PRIVATE KEY", keyDER)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// frontend is a TLS gRPC listener that answers the one call an SDK client
// makes on connecting (GetSystemInfo) and records the authorization it got.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu    sync.Mutex
	auths []string
}

func (f *frontend) GetSystemInfo(
	ctx context.Context,
	_ *workflowservice.GetSystemInfoRequest,
) (*workflowservice.GetSystemInfoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auths = append(f.auths, md.Get("authorization")...)
	f.mu.Unlock()
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *frontend) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auths...)
}

func startFrontend(t *testing.T, p *pki, requireClientCert bool) (string, *frontend) {
	t.Helper()
	tc := &tls.Config{Certificates: []tls.Certificate{p.serverCert}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.ClientCAs = x509.NewCertPool()
		tc.ClientCAs.AddCert(p.ca)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)))
	f := &frontend{}
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), f
}

// dial connects once (DialTemporal retries for 30 s; a refused handshake
// must fail now).
func dial(t *testing.T, cfg config.Config) error {
	t.Helper()
	opts, err := ClientOptions(cfg, slog.New(slog.DiscardHandler), nil, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err == nil {
		c.Close()
	}
	return err
}

func baseConfig(addr string) config.Config {
	cfg := config.Defaults()
	cfg.TemporalAddress = addr
	cfg.PayloadKeys = "k1:" + strings.Repeat("cd", 32)
	return cfg
}

// TestTemporalTLS (issue 11): the client reaches a TLS frontend with the
// configured CA, and refuses one it cannot verify; the API key travels as a
// bearer token.
func TestTemporalTLS(t *testing.T) {
	p := newPKI(t)
	addr, fe := startFrontend(t, p, false)
	_, port, _ := net.SplitHostPort(addr)

	cfg := baseConfig(addr)
	cfg.TemporalTLSCA = p.caFile
	cfg.TemporalAPIKey = "temporal-api-key-for-test"
	if err := dial(t, cfg); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if got := fe.authorizations(); len(got) == 0 || got[0] != "Bearer temporal-api-key-for-test" {
		t.Fatalf("the frontend got authorization %q", got)
	}

	// The certificate names temporal.test: dial by another name and say which one to expect.
	cfg.TemporalAddress = "localhost:" + port
	if err := dial(t, cfg); err == nil {
		t.Fatal("connected although the certificate does not name localhost")
	}
	cfg.TemporalTLSServerName = "temporal.test"
	if err := dial(t, cfg); err != nil {
		t.Fatalf("with the server name: %v", err)
	}

	systemRoots, apiKeyOnly := baseConfig(addr), baseConfig(addr)
	systemRoots.TemporalTLS = true
	apiKeyOnly.TemporalAPIKey = "k"
	for name, c := range map[string]config.Config{
		"TLS without the CA (system roots)": systemRoots,
		"API key without the CA":            apiKeyOnly,
		"plaintext to a TLS frontend":       baseConfig(addr),
	} {
		if err := dial(t, c); err == nil {
			t.Errorf("%s: connected", name)
		}
	}
}

// TestTemporalMutualTLS: a frontend that requires client certificates takes
// the configured one and refuses a client without.
func TestTemporalMutualTLS(t *testing.T) {
	p := newPKI(t)
	addr, _ := startFrontend(t, p, true)
	cfg := baseConfig(addr)
	cfg.TemporalTLSCA = p.caFile
	if err := dial(t, cfg); err == nil {
		t.Fatal("connected without a client certificate")
	}
	cfg.TemporalTLSCert, cfg.TemporalTLSKey = p.clientCertFile, p.clientKeyFile
	if err := dial(t, cfg); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	cfg.TemporalTLSKey = ""
	if _, err := TemporalTLS(cfg); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("a certificate without its key: %v", err)
	}
}
