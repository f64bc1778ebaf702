package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/keys"
)

// maxCodecBody bounds a codec request (the Web UI sends a page of payloads;
// one Temporal payload is at most 2 MB by default).
const maxCodecBody = 16 << 20

// runCodecServer serves the decode half of the Temporal remote codec protocol
// (POST …/decode with a JSON Payloads body) so that the Temporal Web UI can
// show decrypted payloads to supervisors and admins. It never encodes: valid
// ciphertext is what the worker's codec accepts, so minting it would let a
// supervisor or admin forge payloads (issue 11). Configure the Web UI's codec
// endpoint as this server's URL with "pass access token" on, and give it a
// supervisor's or admin's visad token as its bearer token.
func runCodecServer(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, fs, err := config.Load("codec-server", args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	log := newLogger(stderr, cfg.LogLevel, false)
	pc, err := codecServerKeys(cfg)
	if err != nil {
		return err
	}
	store, err := app.OpenStoreWithoutKeys(ctx, cfg) // it only looks up staff tokens
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", cfg.CodecAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.CodecAddr, err)
	}
	srv := &http.Server{
		Handler:           newCodecHandler(store, pc, cfg.CodecCORSOrigins, log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("codec server listening", "addr", ln.Addr().String(), "cors_origins", cfg.CodecCORSOrigins,
		"encrypt_key_id", pc.EncryptKeyID(), "key_ids", pc.KeyIDs())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// codecServerKeys reads VISA_PAYLOAD_KEYS or, for a dev setup, the key file
// visad dev generated in the data directory. It never generates keys: fresh
// keys would decrypt nothing.
func codecServerKeys(cfg config.Config) (*codec.Codec, error) {
	spec := cfg.PayloadKeys
	if spec == "" {
		var err error
		spec, err = codec.LoadKeyFile(cfg.PayloadKeysFile())
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf(
				"VISA_PAYLOAD_KEYS is required (the same keys as the api and worker), "+
					"or --data-dir of a visad dev setup (no %s there)",
				cfg.PayloadKeysFile(),
			)
		}
		if err != nil {
			return nil, err
		}
	}
	c, err := codec.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("VISA_PAYLOAD_KEYS: %w", err)
	}
	return c, nil
}

// newCodecHandler wraps the SDK's codec HTTP handler with CORS for the Web UI
// origins and a staff bearer token check, and refuses to encode. Decoding
// shows plaintext payloads as they are (histories from before encryption, or
// forgeries the worker refused): the codec server only displays.
func newCodecHandler(store *db.Store, pc *codec.Codec, origins []string, log *slog.Logger) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(pc.AllowPlaintextReads())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" {
			if !slices.Contains(origins, origin) {
				codecProblem(
					w,
					http.StatusForbidden,
					"origin not allowed",
					"set VISA_CODEC_CORS_ORIGIN to the Temporal Web UI's origin",
				)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}

		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			h.Set("WWW-Authenticate", `Bearer realm="visad-codec"`)
			codecProblem(
				w,
				http.StatusUnauthorized,
				"unauthorized",
				"send a supervisor's or admin's visad token as Authorization: Bearer …",
			)
			return
		}
		user, err := store.UserByTokenHash(r.Context(), keys.HashToken(token))
		if errors.Is(err, db.ErrNotFound) || err == nil && !user.Active(time.Now()) {
			h.Set("WWW-Authenticate", `Bearer realm="visad-codec", error="invalid_token"`)
			codecProblem(w, http.StatusUnauthorized, "unauthorized", "the token is unknown, expired or revoked")
			return
		}
		if err != nil {
			log.Error("codec server: token lookup", "error", err)
			codecProblem(w, http.StatusInternalServerError, "internal error", "")
			return
		}
		// Only roles that hold the case data anyway: the Web UI shows whole histories, not one case.
		if !domain.Role(user.Role).SeesPayloads() {
			codecProblem(w, http.StatusForbidden, "forbidden", "decrypted payloads are for supervisors and admins")
			return
		}
		op := "other"
		switch {
		case strings.HasSuffix(r.URL.Path, "/decode"):
			op = "decode"
		case strings.HasSuffix(r.URL.Path, "/encode"):
			op = "encode"
		}
		// Who looked at decrypted data, never the data.
		log.Info("codec request", "user_id", user.ID, "role", user.Role, "op", op,
			"namespace", clip(r.Header.Get("X-Namespace"), 100), "remote", r.RemoteAddr)
		if op != "decode" {
			codecProblem(w, http.StatusForbidden, "forbidden",
				"the codec server only decodes: payloads are encrypted by visad's api and worker alone")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
		inner.ServeHTTP(w, r)
	})
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 512 {
		return "", false
	}
	return token, true
}

func codecProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).
		Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
