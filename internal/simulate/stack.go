// Package simulate is `visad simulate`: a scenario run against the real
// stack in this process (the embedded Temporal server, the real workflows
// and worker, a SQLite database, the HTTP API on a loopback port), with
// time compressed by a factor, officer and supervisor bots that work the
// queue through the API the way the console does, applicant bots that
// answer requests for information, and chambers that post their batches.
package simulate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/devserver"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sample"
)

// stack is a running visad in this process.
type stack struct {
	temporal *devserver.Server
	svc      *app.Services
	worker   app.Workers
	server   *http.Server
	base     string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startStack brings up Temporal (in memory), the database in dir, the worker
// and the API, with the decision deadlines given (already compressed).
func startStack(ctx context.Context, dir string, slas map[domain.Product]time.Duration, logLevel string,
	logOut io.Writer) (*stack, error) {
	temporal, err := devserver.Start(ctx, devserver.Config{Namespaces: []string{"default"}, LogLevel: logLevel})
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	st := &stack{temporal: temporal}
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.DatabaseURL = filepath.Join(dir, "visad.db")
	cfg.TemporalAddress = temporal.HostPort()
	cfg.Namespace = "default"
	cfg.TaskQueue = "simulate"
	cfg.SealingKeys, cfg.IndexKey = "sim-s1:"+randomHex(32), randomHex(32)
	cfg.TokenKeys, cfg.AuditKeys = "sim-t1:"+randomHex(32), "sim-a1:"+randomHex(32)
	cfg.PayloadKeys = "sim-p1:" + randomHex(32)
	cfg.RateLimitRPS, cfg.RateLimitBurst = 0, 1 // the bots all come from one address
	cfg.SLABusiness2Y = slas[domain.ProductBusiness2Y]
	cfg.SLABusiness5YMulti = slas[domain.ProductBusiness5YMulti]
	// The scenario models what applicants leave out as requests for information
	// (information_requests), so the checklist itself is not enforced here.
	cfg.DocumentsRequired = false
	cfg.Watchlist = filepath.Join(dir, "watchlist.csv")
	if err := os.WriteFile(cfg.Watchlist, sample.WatchlistCSV, 0o600); err != nil {
		temporal.Stop()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := app.NewServices(ctx, cfg, log)
	if err != nil {
		temporal.Stop()
		return nil, err
	}
	st.svc = svc
	w, err := svc.NewWorker()
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		svc.Close()
		temporal.Stop()
		return nil, err
	}
	st.worker = w
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.close()
		return nil, err
	}
	st.server = &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = st.server.Serve(ln) }()
	st.base = "http://" + ln.Addr().String()
	return st, nil
}

func (st *stack) close() {
	if st.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = st.server.Shutdown(ctx)
		cancel()
	}
	if st.worker != nil {
		st.worker.Stop()
	}
	if st.svc != nil {
		st.svc.Close()
	}
	st.temporal.Stop()
}

// staffToken creates a staff account and returns its token and id.
func (st *stack) staffToken(ctx context.Context, role domain.Role, name string) (token, id string, err error) {
	token, err = keys.NewStaffToken()
	if err != nil {
		return "", "", err
	}
	id = fmt.Sprintf("usr_sim_%s_%s", role, randomHex(4))
	err = st.svc.Store.CreateUser(ctx, db.User{ID: id, Name: name, Role: string(role), TokenHash: keys.HashToken(token),
		CreatedAtMS: time.Now().UnixMilli()})
	return token, id, err
}
