// Package devui serves the Temporal Web UI inside `visad dev`, pointed at the
// embedded Temporal frontend and wired to visad's payload codec, so that whoever
// runs dev sees workflow histories decrypted.
//
// The UI is Temporal's own ui-server module. Beside it, on the same origin,
// this package serves the codec endpoint the UI calls (/codec/decode): it only
// decodes (valid ciphertext is what the worker accepts, so minting it would let
// a viewer forge payloads), and it answers only a browser that opened the
// unlock link printed in the dev banner (a random key per start, kept in a
// SameSite=Strict cookie). The UI itself, like the dev Temporal frontend, has
// no sign-in: bind it to loopback.
package devui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/api"
	"github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	"github.com/temporalio/ui-server/v2/ui"
	"go.temporal.io/sdk/converter"

	"github.com/visad/visad/internal/codec"
)

// Config says where the UI listens and what it shows.
type Config struct {
	Addr            string // host:port; port 0 picks a free one
	TemporalAddress string // the embedded frontend, host:port
	Namespace       string // opened by default
	Codec           *codec.Codec
	Log             *slog.Logger
}

// Server is a running UI.
type Server struct {
	URL       string // http://host:port
	UnlockURL string // opens the UI with decryption on (secret: it carries the key)
	srv       *http.Server
}

// CodecPath is where the UI's codec endpoint is mounted.
const CodecPath = "/codec"

const (
	unlockPath   = "/visad-dev/unlock"
	unlockCookie = "visad_dev_codec"
	maxCodecBody = 16 << 20
)

// Start listens on cfg.Addr and serves the UI until ctx ends or Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Codec == nil || cfg.Log == nil {
		return nil, errors.New("devui: codec and log are required")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("temporal web ui: listen on %s: %w", cfg.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	secret := hex.EncodeToString(key)

	ui, err := newUI(cfg, base)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(CodecPath+"/", http.NewCrossOriginProtection().Handler(decodeOnly(cfg.Codec, secret, cfg.Log)))
	mux.HandleFunc("GET "+unlockPath, func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("key")), []byte(secret)) != 1 {
			http.Error(w, "wrong or old unlock link: copy it again from the visad dev banner", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: unlockCookie, Value: secret, Path: CodecPath, HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/namespaces/"+cfg.Namespace+"/workflows", http.StatusSeeOther)
	})
	mux.Handle("/", ui)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Log.Error("temporal web ui stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return &Server{URL: base, UnlockURL: base + unlockPath + "?key=" + secret, srv: srv}, nil
}

// Close stops the UI.
func (s *Server) Close() error { return s.srv.Close() }

// newUI builds the ui-server's handler as its server.NewServer does, without
// its own listener (so the codec can share the origin) and without its
// request log (dev's terminal is for the banner).
func newUI(cfg Config, base string) (http.Handler, error) {
	_, portText, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	port, _ := strconv.Atoi(portText)
	uc := &uiconfig.Config{
		TemporalGRPCAddress: cfg.TemporalAddress,
		Host:                "127.0.0.1",
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    cfg.Namespace,
		HideLogs:            true,
		DisableNewsFetch:    true,
		NotifyOnNewVersion:  false,
		Distribution:        "visad-dev",
		// Plain HTTP on loopback: the UI's CSRF cookie cannot be Secure.
		CORS: uiconfig.CORS{CookieInsecure: true},
		Codec: uiconfig.Codec{
			Endpoint:            base + CodecPath,
			IncludeCredentials:  true,
			DefaultErrorMessage: "Payloads are encrypted: open the unlock link from the visad dev banner.",
		},
	}
	if err := uc.Validate(); err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	provider, err := uiconfig.NewConfigProviderWithRefresh(uc)
	if err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept, echo.HeaderXCSRFToken,
			echo.HeaderAuthorization, auth.AuthorizationExtrasHeader, "Caller-Type"},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	e.Use(csrf.EnsureTokenCookie(false))
	e.Use(middleware.CSRFWithConfig(csrf.MiddlewareConfig(provider, false)))
	route.SetHealthRoute(e)
	if err := route.SetAPIRoutes(e, provider, []api.Middleware{
		headers.WithForwardHeaders([]string{auth.AuthorizationExtrasHeader, "Caller-Type"}),
	}); err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	route.SetAuthRoutes(e, provider)
	assets, err := ui.Assets()
	if err != nil {
		return nil, fmt.Errorf("temporal web ui assets: %w", err)
	}
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, fmt.Errorf("temporal web ui assets: %w", err)
	}
	if err := route.SetUIRoutes(e, "", assets, provider); err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	route.SetRenderRoute(e, "/")
	return e, nil
}

// decodeOnly serves POST …/decode for a browser holding the unlock cookie and
// refuses everything else, /encode included.
func decodeOnly(c *codec.Codec, secret string, log *slog.Logger) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c.AllowPlaintextReads())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ck, err := r.Cookie(unlockCookie)
		if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(secret)) != 1 {
			problem(w, http.StatusUnauthorized, "unauthorized",
				"open the unlock link that visad dev printed, in this browser")
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/decode") || r.Method != http.MethodPost {
			problem(w, http.StatusForbidden, "forbidden",
				"the codec only decodes: payloads are encrypted by visad's api and worker alone")
			return
		}
		log.Info("dev web ui decoded payloads", "namespace", clip(r.Header.Get("X-Namespace"), 100))
		r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
		inner.ServeHTTP(w, r)
	})
}

func problem(w http.ResponseWriter, status int, title, detail string) {
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
