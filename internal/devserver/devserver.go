// Package devserver runs a complete Temporal server (frontend, history, matching
// and worker services) inside the visad process, persisted to one SQLite file.
//
// It is what `visad dev` and the integration tests use: a real server, not a
// mock, that needs nothing but Go. The configuration follows the shape of
// Temporal's own temporaltest lite server, written for our needs: a fixed,
// reachable frontend address, a file that survives restarts, quiet logs.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// Config says where the embedded server keeps its state and listens.
type Config struct {
	// DatabaseFile is the SQLite file holding Temporal's state; visibility
	// (the list/count index) goes to a file beside it (VisibilityFile). Empty
	// means in-memory (state is lost when the process stops; tests only).
	DatabaseFile string
	// FrontendAddress is host:port for the gRPC frontend that SDK clients and
	// the temporal CLI dial. Port 0 picks a free port.
	FrontendAddress string
	// Namespaces are registered at start (idempotently).
	Namespaces []string
	// LogLevel for the server's own logs: debug, info, warn, error, or off. Default warn.
	LogLevel string
	// LogFile receives the server's logs (JSON lines); empty means standard error.
	LogFile string
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	hostPort string
}

// Start configures the server, creates the schema on first use, registers the
// namespaces and starts every service. It returns once the frontend answers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	host, port, err := splitAddress(cfg.FrontendAddress)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	hostPort := net.JoinHostPort(host, strconv.Itoa(port))

	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      cfg.DatabaseFile,
	}
	if cfg.DatabaseFile == "" {
		// Shared-cache in-memory database: every service in this process sees the same data.
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		sqlCfg.DatabaseName = fmt.Sprintf("visad-%d-%d", os.Getpid(), time.Now().UnixNano())
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		// WAL with synchronous=NORMAL: a commit is durable once it is in the
		// write-ahead log, so a killed process loses nothing; only a power cut
		// can lose the last commits. Without it every commit waits for fsync
		// and the dev server manages a few dozen workflow starts a second.
		sqlCfg.ConnectAttributes["journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["synchronous"] = "1"
		sqlCfg.ConnectAttributes["busy_timeout"] = "10000"
		if err := os.MkdirAll(filepath.Dir(cfg.DatabaseFile), 0o750); err != nil {
			return nil, fmt.Errorf("temporal data directory: %w", err)
		}
	}
	// Visibility gets a file, and so a connection, of its own: recording a
	// workflow in visibility costs several times what starting it does, and
	// over one shared connection it held up every start behind it. A data
	// directory from before the split keeps its single file.
	visCfg := sqlCfg
	if cfg.DatabaseFile != "" && (!fileExists(cfg.DatabaseFile) || fileExists(VisibilityFile(cfg.DatabaseFile))) {
		c := *sqlCfg
		c.ConnectAttributes = maps.Clone(sqlCfg.ConnectAttributes)
		c.DatabaseName = VisibilityFile(cfg.DatabaseFile)
		visCfg = &c
	}
	// The SQLite plugin creates the schema of an in-memory database itself.
	if cfg.DatabaseFile != "" {
		for _, c := range uniqueConfigs(sqlCfg, visCfg) {
			if fileExists(c.DatabaseName) {
				continue
			}
			if err := sqliteschema.SetupSchema(c); err != nil {
				return nil, fmt.Errorf("temporal schema setup: %w", err)
			}
		}
	}

	ports, err := loadOrPickPorts(cfg.DatabaseFile, host, port)
	if err != nil {
		return nil, err
	}
	serverCfg, err := buildConfig(sqlCfg, visCfg, host, port, ports)
	if err != nil {
		return nil, err
	}

	var namespaces []*sqliteschema.NamespaceConfig
	for _, ns := range cfg.Namespaces {
		nsCfg, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, nil)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		namespaces = append(namespaces, nsCfg)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, namespaces...); err != nil {
		return nil, fmt.Errorf("register namespaces: %w", err)
	}

	logger := serverLogger(cfg)

	srv, err := temporal.NewServer(
		temporal.WithConfig(serverCfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Search attributes registered at runtime are visible at once (tests, admin verbs).
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
			// At most 8096 workflows' mutable state cached, as the Temporal CLI's dev server does: the default
			// (128,000 for an hour) let a ten-minute soak of 21,000 cases grow the process by 1 GB (docs/testing.md).
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): []dynamicconfig.ConstrainedValue{{Value: 8096}},
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{server: srv, hostPort: hostPort}
	if err := s.waitReady(ctx, cfg.Namespaces); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// HostPort is the frontend address SDK clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Stop shuts every service down and releases the database file.
func (s *Server) Stop() error { return s.server.Stop() }

// waitReady blocks until the frontend serves the namespaces: a freshly started
// server answers health checks before its namespace cache is warm.
func (s *Server) waitReady(ctx context.Context, namespaces []string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ns := "default"
	if len(namespaces) > 0 {
		ns = namespaces[0]
	}
	var lastErr error
	for {
		c, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: ns, Logger: quietSDKLogger{}})
		if err == nil {
			_, err = c.WorkflowService().DescribeNamespace(ctx, describeNamespace(ns))
			c.Close()
			if err == nil {
				return nil
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal server not ready: %w", errors.Join(ctx.Err(), lastErr))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// VisibilityFile is where the server keeps visibility for a database file.
func VisibilityFile(databaseFile string) string {
	return strings.TrimSuffix(databaseFile, filepath.Ext(databaseFile)) + "-visibility" + filepath.Ext(databaseFile)
}

func uniqueConfigs(cfgs ...*config.SQL) []*config.SQL {
	var out []*config.SQL
	for _, c := range cfgs {
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}

// Data store names in the server's persistence configuration.
const (
	defaultStore    = "sqlite-default"
	visibilityStore = "sqlite-visibility"
)

func buildConfig(
	sqlCfg, visCfg *config.SQL,
	host string,
	frontendPort int,
	ports servicePorts,
) (*config.Config, error) {
	stores := map[string]config.DataStore{defaultStore: {SQL: sqlCfg}}
	visStore := defaultStore
	if visCfg != sqlCfg {
		stores[visibilityStore] = config.DataStore{SQL: visCfg}
		visStore = visibilityStore
	}
	frontend := net.JoinHostPort(host, strconv.Itoa(frontendPort))

	services := map[string]config.Service{}
	for _, svc := range serviceNames {
		grpc := ports.GRPC[svc]
		if svc == "frontend" {
			grpc = frontendPort
		}
		services[svc] = config.Service{RPC: config.RPC{
			GRPCPort:       grpc,
			MembershipPort: ports.Membership[svc],
			BindOnIP:       host,
		}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 10 * time.Second, BroadcastAddress: host},
			Metrics: &metrics.Config{Prometheus: &metrics.PrometheusConfig{
				ListenAddress: net.JoinHostPort(host, strconv.Itoa(ports.Metrics)),
				HandlerPath:   "/metrics",
			}},
		},
		Persistence: config.Persistence{
			DefaultStore:     defaultStore,
			VisibilityStore:  visStore,
			NumHistoryShards: 1,
			DataStores:       stores,
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		// The server's internal system workers dial the public frontend.
		PublicClient: config.PublicClient{HostPort: frontend},
	}, nil
}

func splitAddress(addr string) (string, int, error) {
	if addr == "" {
		return "127.0.0.1", 0, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("temporal frontend address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("temporal frontend address %q: bad port", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func serverLogger(cfg Config) log.Logger {
	level := cfg.LogLevel
	if level == "" {
		level = "warn"
	}
	if level == "off" {
		return log.NewNoopLogger()
	}
	lc := log.Config{Level: level, Format: "json", OutputFile: cfg.LogFile}
	if cfg.LogFile == "" {
		lc.OutputFile = "/dev/stderr"
	}
	return log.NewZapLogger(log.BuildZapLogger(lc))
}
