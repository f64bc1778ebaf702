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
func loadOrPickPorts(databaseFile, host string, frontendPort int) (servicePorts, error) {
	path := ""
	if databaseFile != "" {
		path = databaseFile + ".ports.json"
		if raw, err := os.ReadFile(path); err == nil {
			var p servicePorts
			if json.Unmarshal(raw, &p) == nil && p.complete(frontendPort) && p.allFree(host) {
				return p, nil
			}
		}
	}
	// Hold every listener open until all are chosen, so no port is handed out twice.
	ports, err := freePorts(host, 2*len(serviceNames), frontendPort)
	if err != nil {
		return servicePorts{}, err
	}
	p := servicePorts{GRPC: map[string]int{}, Membership: map[string]int{}}
	next := 0
	take := func() int { next++; return ports[next-1] }
	for _, svc := range serviceNames {
		if svc != "frontend" {
			p.GRPC[svc] = take()
		}
		p.Membership[svc] = take()
	}
	p.Metrics = take()
	if path != "" {
		raw, _ := json.MarshalIndent(p, "", "  ")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return p, err
		}
	}
	return p, nil
}

// complete checks a saved set: every port present and no port used twice.
func (p servicePorts) complete(frontendPort int) bool {
	seen := map[int]bool{p.Metrics: true, frontendPort: true}
	for _, svc := range serviceNames {
		ports := []int{p.Membership[svc]}
		if svc != "frontend" {
			ports = append(ports, p.GRPC[svc])
		}
		for _, port := range ports {
			if port == 0 || seen[port] {
				return false
			}
			seen[port] = true
		}
	}
	return p.Metrics != 0
}

// freePorts asks the kernel for n distinct free ports other than exclude.
func freePorts(host string, n, exclude int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		if port := l.Addr().(*net.TCPAddr).Port; port != exclude {
			ports = append(ports, port)
		}
	}
	return ports, nil
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
