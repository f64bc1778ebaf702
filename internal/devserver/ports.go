package devserver

import (
	"encoding/json"
	"net"
	"os"
	"strconv"
)

var serviceNames = []string{"frontend", "history", "matching", "worker"}

// servicePorts are the internal ports of the history, matching and worker
// services and every service's membership port.
type servicePorts struct {
	GRPC       map[string]int `json:"grpc"`
	Membership map[string]int `json:"membership"`
	Metrics    int            `json:"metrics"`
}

// loadOrPickPorts reuses the ports of the previous run of a persisted server.
// The cluster membership table remembers those addresses for a while after a
// stop; a restart that binds the same ones rejoins its own ring at once
// instead of waiting for dead peers to time out.
func loadOrPickPorts(databaseFile, host string) (servicePorts, error) {
	path := ""
	if databaseFile != "" {
		path = databaseFile + ".ports.json"
		if raw, err := os.ReadFile(path); err == nil {
			var p servicePorts
			if json.Unmarshal(raw, &p) == nil && p.complete() && p.allFree(host) {
				return p, nil
			}
		}
	}
	p := servicePorts{GRPC: map[string]int{}, Membership: map[string]int{}}
	for _, svc := range serviceNames {
		if svc != "frontend" {
			port, err := freePort(host)
			if err != nil {
				return p, err
			}
			p.GRPC[svc] = port
		}
		port, err := freePort(host)
		if err != nil {
			return p, err
		}
		p.Membership[svc] = port
	}
	metrics, err := freePort(host)
	if err != nil {
		return p, err
	}
	p.Metrics = metrics
	if path != "" {
		raw, _ := json.MarshalIndent(p, "", "  ")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p servicePorts) complete() bool {
	for _, svc := range serviceNames {
		if p.Membership[svc] == 0 || (svc != "frontend" && p.GRPC[svc] == 0) {
			return false
		}
	}
	return p.Metrics != 0
}

func (p servicePorts) allFree(host string) bool {
	all := []int{p.Metrics}
	for _, v := range p.GRPC {
		all = append(all, v)
	}
	for _, v := range p.Membership {
		all = append(all, v)
	}
	for _, port := range all {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
