package visad_test

// Structure tests of docker-compose.yml and the Dockerfile. There is no
// Docker engine on the development and CI machines, so the files are parsed
// and checked against what visad needs: every service present, the visad
// services built from the Dockerfile and started in the right order, and
// every VISA_* variable one that internal/config reads, and one e-visa seal
// PKI shared by every api and worker.

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/sealpki"
)

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string         `yaml:"image"`
	Build       any            `yaml:"build"`
	Command     any            `yaml:"command"`
	Entrypoint  any            `yaml:"entrypoint"`
	Environment any            `yaml:"environment"`
	DependsOn   any            `yaml:"depends_on"`
	Healthcheck map[string]any `yaml:"healthcheck"`
	Ports       []string       `yaml:"ports"`
	Volumes     []any          `yaml:"volumes"`
	Restart     string         `yaml:"restart"`
}

type composeMount struct {
	source   string
	readOnly bool
}

// mounts returns a service's volumes by their path in the container, from
// the short ("src:dst[:ro]") or the long syntax.
func (s composeService) mounts(t *testing.T) map[string]composeMount {
	t.Helper()
	out := map[string]composeMount{}
	for _, v := range s.Volumes {
		switch m := v.(type) {
		case string:
			parts := strings.Split(m, ":")
			if len(parts) < 2 {
				t.Fatalf("volume %q has no container path", m)
			}
			out[parts[1]] = composeMount{source: parts[0], readOnly: len(parts) > 2 && strings.Contains(parts[2], "ro")}
		case map[string]any:
			ro, _ := m["read_only"].(bool)
			out[yamlString(m["target"])] = composeMount{source: yamlString(m["source"]), readOnly: ro}
		default:
			t.Fatalf("volume of unexpected shape %T", v)
		}
	}
	return out
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// env returns a service's environment whether written as a map or a list.
func (s composeService) env(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			out[k] = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(yamlString(v), `"`), `"`))
		}
	case []any:
		for _, item := range e {
			k, v, _ := strings.Cut(yamlString(item), "=")
			out[k] = v
		}
	default:
		t.Fatalf("environment of unexpected shape %T", e)
	}
	return out
}

// dependsOn returns each dependency with its condition ("service_started" when a list is used).
func (s composeService) dependsOn(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch d := s.DependsOn.(type) {
	case nil:
	case []any:
		for _, name := range d {
			out[yamlString(name)] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			cond := "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				cond = yamlString(m["condition"])
			}
			out[name] = cond
		}
	default:
		t.Fatalf("depends_on of unexpected shape %T", d)
	}
	return out
}

// words flattens a command or entrypoint (string or list) into one string.
func words(v any) string {
	switch c := v.(type) {
	case nil:
		return ""
	case []any:
		var parts []string
		for _, p := range c {
			parts = append(parts, yamlString(p))
		}
		return strings.Join(parts, " ")
	default:
		return yamlString(c)
	}
}

func yamlString(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

var (
	visadServices = []string{"visad-migrate", "visad-api-1", "visad-api-2", "visad-worker-1", "visad-worker-2"}
	appServices   = []string{"visad-api-1", "visad-api-2", "visad-worker-1", "visad-worker-2"}
)

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range append([]string{"postgres", "temporal", "temporal-ui", "mailpit"}, visadServices...) {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("docker-compose.yml has no service %q", name)
		}
	}
	if !t.Failed() {
		checkImages(t, c)
	}
}

func checkImages(t *testing.T, c composeFile) {
	pg := c.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:16") {
		t.Errorf("postgres image %q, want postgres:16", pg.Image)
	}
	if test := words(pg.Healthcheck["test"]); !strings.Contains(test, "pg_isready") {
		t.Errorf("postgres needs a pg_isready healthcheck, has %q", test)
	}

	temporal := c.Services["temporal"]
	if !strings.HasPrefix(temporal.Image, "temporalio/server:") &&
		!strings.HasPrefix(temporal.Image, "temporalio/auto-setup:") {
		t.Errorf("temporal image %q, want an official temporalio/server or auto-setup image", temporal.Image)
	}
	tenv := temporal.env(t)
	if tenv["DB"] != "postgres12" || tenv["POSTGRES_SEEDS"] != "postgres" {
		t.Errorf("temporal must run on the postgres service (DB=postgres12, POSTGRES_SEEDS=postgres), has %v", tenv)
	}
	if words(temporal.Healthcheck["test"]) == "" {
		t.Error("temporal needs a healthcheck: the visad services wait for it")
	}
	// temporalio/server does not create its schema; an admin-tools job must, before it starts.
	if strings.HasPrefix(temporal.Image, "temporalio/server:") {
		setup := ""
		for dep, cond := range temporal.dependsOn(t) {
			s := c.Services[dep]
			script := words(s.Entrypoint) + " " + words(s.Command)
			if strings.HasPrefix(s.Image, "temporalio/admin-tools:") && strings.Contains(script, "temporal-sql-tool") &&
				strings.Contains(script, "update-schema") && cond == "service_completed_successfully" {
				setup = dep
			}
		}
		if setup == "" {
			t.Error("temporal (temporalio/server) must depend on a completed temporal-sql-tool schema job")
		} else {
			script := words(c.Services[setup].Command)
			for _, db := range []string{"--db temporal ", "--db temporal_visibility "} {
				if !strings.Contains(script, db) {
					t.Errorf("schema job %s does not set up %q", setup, strings.TrimSpace(db))
				}
			}
		}
	}

	ui := c.Services["temporal-ui"]
	if !strings.HasPrefix(ui.Image, "temporalio/ui:") || ui.env(t)["TEMPORAL_ADDRESS"] != "temporal:7233" {
		t.Errorf("temporal-ui: image %q, TEMPORAL_ADDRESS %q", ui.Image, ui.env(t)["TEMPORAL_ADDRESS"])
	}
	if mp := c.Services["mailpit"]; !strings.HasPrefix(mp.Image, "axllent/mailpit") {
		t.Errorf("mailpit image %q", mp.Image)
	}
}

func TestComposeVisadServices(t *testing.T) {
	c := loadCompose(t)
	var shared map[string]string
	for _, name := range visadServices {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		build, ok := s.Build.(map[string]any)
		if !ok || yamlString(build["context"]) != "." ||
			(build["dockerfile"] != nil && yamlString(build["dockerfile"]) != "Dockerfile") {
			if yamlString(s.Build) != "." {
				t.Errorf("%s must build from ./Dockerfile, has build %v", name, s.Build)
			}
		}
		env := s.env(t)
		want := map[string]func(string) bool{
			"VISA_SEALING_KEYS": func(v string) bool { return v != "" },
			"VISA_INDEX_KEY":    func(v string) bool { return v != "" },
			"VISA_TOKEN_KEYS":   func(v string) bool { return v != "" },
			"VISA_AUDIT_KEYS":   func(v string) bool { return v != "" },
			"VISA_DATABASE_URL": func(v string) bool {
				return strings.HasPrefix(v, "postgres://") && strings.Contains(v, "@postgres:5432/")
			},
			"VISA_TEMPORAL_ADDRESS": func(v string) bool { return v == "temporal:7233" },
			"VISA_HTTP_ADDR":        func(v string) bool { return v == "0.0.0.0:8080" },
		}
		for k, ok := range want {
			if !ok(env[k]) {
				t.Errorf("%s: %s=%q", name, k, env[k])
			}
		}
		// Temporal payloads are encrypted with one key set on every process, once the config reads one.
		if slices.Contains(config.Variables, "VISA_PAYLOAD_KEYS") && env["VISA_PAYLOAD_KEYS"] == "" {
			t.Errorf("%s: VISA_PAYLOAD_KEYS is not set", name)
		}
		// Updates are signed with one action key set, required like the other keys.
		if !strings.HasPrefix(env["VISA_ACTION_KEYS"], "${VISA_ACTION_KEYS:?") {
			t.Errorf("%s: VISA_ACTION_KEYS=%q, want ${VISA_ACTION_KEYS:?…}", name, env["VISA_ACTION_KEYS"])
		}
		// Mail goes to the SMTP sink, once the config knows an SMTP setting.
		if slices.Contains(config.Variables, "VISA_SMTP_URL") && !strings.Contains(env["VISA_SMTP_URL"], "mailpit:1025") {
			t.Errorf("%s: VISA_SMTP_URL=%q, want the mailpit sink (smtp://mailpit:1025)", name, env["VISA_SMTP_URL"])
		}
		if shared == nil {
			shared = env
		} else if !mapsEqual(shared, env) {
			t.Errorf("%s: environment differs from the other visad services "+
				"(they share one secret and database):\n%v\n%v", name, env, shared)
		}
	}
	commands := map[string]string{
		"visad-migrate":  "migrate",
		"visad-api-1":    "api",
		"visad-api-2":    "api",
		"visad-worker-1": "worker",
		"visad-worker-2": "worker",
	}
	for name, cmd := range commands {
		if got := words(c.Services[name].Command); got != cmd {
			t.Errorf("%s runs %q, want %q", name, got, cmd)
		}
	}
	p1, p2 := c.Services["visad-api-1"].Ports, c.Services["visad-api-2"].Ports
	if len(p1) != 1 || len(p2) != 1 || hostPort(p1[0]) == hostPort(p2[0]) || !strings.HasSuffix(p1[0], ":8080") ||
		!strings.HasSuffix(p2[0], ":8080") {
		t.Errorf("the two APIs need different host ports onto 8080: %v %v", p1, p2)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func hostPort(mapping string) string {
	parts := strings.Split(mapping, ":")
	return strings.Join(parts[:len(parts)-1], ":")
}

// Every VISA_* variable the compose file sets is one the config reads.
func TestComposeVariablesExistInConfig(t *testing.T) {
	c := loadCompose(t)
	seen := 0
	for name, s := range c.Services {
		for k := range s.env(t) {
			if !strings.HasPrefix(k, "VISA_") {
				continue
			}
			seen++
			if !slices.Contains(config.Variables, k) {
				t.Errorf("%s sets %s, which internal/config does not read (config.Variables)", name, k)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no VISA_* variables found; the parser is broken")
	}
	// ${VAR} references in the raw file too (anchors, defaults).
	raw, _ := os.ReadFile("docker-compose.yml")
	for _, m := range regexp.MustCompile(`\bVISA_[A-Z0-9_]+`).FindAllString(string(raw), -1) {
		if !slices.Contains(config.Variables, m) {
			t.Errorf("docker-compose.yml mentions %s, which internal/config does not read", m)
		}
	}
}

func TestComposeStartOrder(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for dep := range s.dependsOn(t) {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
	}
	if d := c.Services["visad-migrate"].dependsOn(t); d["postgres"] != "service_healthy" {
		t.Errorf("visad-migrate must wait for a healthy postgres, has %v", d)
	}
	for _, name := range appServices {
		d := c.Services[name].dependsOn(t)
		if d["visad-migrate"] != "service_completed_successfully" {
			t.Errorf("%s must start after visad-migrate completed, has %v", name, d)
		}
		if d["temporal"] != "service_healthy" {
			t.Errorf("%s must start after temporal is healthy, has %v", name, d)
		}
	}
	// No cycles.
	state := map[string]int{}
	var visit func(string, []string)
	visit = func(n string, path []string) {
		switch state[n] {
		case 1:
			t.Errorf("depends_on cycle: %v", append(path, n))
			return
		case 2:
			return
		}
		state[n] = 1
		for dep := range c.Services[n].dependsOn(t) {
			visit(dep, append(path, n))
		}
		state[n] = 2
	}
	for n := range c.Services {
		visit(n, nil)
	}
}

// One seal PKI for the whole stack: a one-shot `visad seal init --if-missing`
// writes it into a named volume, and every api and worker waits for it, mounts
// that volume read-only and names the same files. The CA key goes to a volume
// no server mounts. (Each container making its own PKI would leave the APIs
// unable to verify what the workers signed.)
func TestComposeSealPKIShared(t *testing.T) {
	c := loadCompose(t)
	var initName string
	for name, s := range c.Services {
		if strings.HasPrefix(words(s.Command), "seal init") {
			if initName != "" {
				t.Fatalf("two services run seal init: %s and %s", initName, name)
			}
			initName = name
		}
	}
	if initName == "" {
		t.Fatal("no service runs `visad seal init`")
	}
	init := c.Services[initName]
	if init.Image != c.Services["visad-api-1"].Image {
		t.Errorf("%s runs image %q, want the visad image %q", initName, init.Image, c.Services["visad-api-1"].Image)
	}
	if init.Restart == "always" || init.Restart == "unless-stopped" {
		t.Errorf("%s is one-shot, but restart: %s never lets it complete", initName, init.Restart)
	}
	args := commandFlags(words(init.Command))
	out, caKey := args["--out"], args["--ca-key"]
	if _, ok := args["--if-missing"]; !ok || out == "" || caKey == "" {
		t.Fatalf("%s: want seal init --if-missing --out DIR --ca-key FILE, have %q", initName, words(init.Command))
	}
	if _, ok := args["--rotate"]; ok {
		t.Errorf("%s rotates the signer on every start", initName)
	}
	initMounts := init.mounts(t)
	seal, caVolume := initMounts[out], initMounts[filepath.Dir(caKey)]
	for what, m := range map[string]composeMount{out: seal, filepath.Dir(caKey): caVolume} {
		if _, named := c.Volumes[m.source]; !named || m.readOnly {
			t.Errorf("%s: %s must be a writable named volume, has %+v", initName, what, m)
		}
	}
	if seal.source == caVolume.source {
		t.Errorf("%s: the CA key shares volume %q with the files the servers mount", initName, seal.source)
	}

	files := sealpki.FilesIn(out)
	want := map[string]string{"VISA_SEAL_CA_CERT": files.CACert, "VISA_SEAL_SIGNER_CERT": files.SignerCert,
		"VISA_SEAL_SIGNER_KEY": files.SignerKey, "VISA_SEAL_RETIRED_CERTS": strings.Join(files.RetiredCerts, ",")}
	for _, name := range appServices {
		s := c.Services[name]
		env := s.env(t)
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s=%q, want %q (the file %s writes)", name, k, env[k], v, initName)
			}
		}
		if !strings.HasPrefix(withDefaults(env["VISA_PUBLIC_URL"]), "http") {
			t.Errorf("%s: VISA_PUBLIC_URL=%q, want the URL travellers reach", name, env["VISA_PUBLIC_URL"])
		}
		if d := s.dependsOn(t); d[initName] != "service_completed_successfully" {
			t.Errorf("%s must start after %s completed, has %v", name, initName, d)
		}
		mounts := s.mounts(t)
		if m := mounts[out]; m.source != seal.source || !m.readOnly {
			t.Errorf("%s must mount volume %q read-only at %s, has %+v", name, seal.source, out, m)
		}
	}
	for name, s := range c.Services {
		for target, m := range s.mounts(t) {
			if m.source == caVolume.source && name != initName {
				t.Errorf("%s mounts the CA key's volume at %s", name, target)
			}
		}
	}
}

// withDefaults replaces each ${NAME:-default} with its default.
func withDefaults(v string) string {
	return regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`).ReplaceAllString(v, "$1")
}

// commandFlags maps each --flag of a command to the word after it ("" for a
// flag followed by another flag or nothing).
func commandFlags(command string) map[string]string {
	out := map[string]string{}
	f := strings.Fields(command)
	for i, w := range f {
		if !strings.HasPrefix(w, "--") {
			continue
		}
		if i+1 < len(f) && !strings.HasPrefix(f[i+1], "--") {
			out[w] = f[i+1]
		} else {
			out[w] = ""
		}
	}
	return out
}

// exposedServices may publish ports on every interface: the visad APIs are
// what clients reach (behind the operator's proxy).
var exposedServices = []string{"visad-api-1", "visad-api-2"}

// TestComposeNotExposed (issue 11): Temporal's frontend, its Web UI and the
// mail sink's UI are for the operator on this host, not for the network.
// Whoever reaches Temporal's frontend can start, signal, update, reset or
// terminate workflows.
func TestComposeNotExposed(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"temporal", "temporal-ui", "mailpit"} {
		if len(c.Services[name].Ports) == 0 {
			t.Errorf("%s publishes no port; the test expects the operator's loopback port", name)
		}
	}
	for name, s := range c.Services {
		if slices.Contains(exposedServices, name) {
			continue
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q on every interface; bind it to 127.0.0.1", name, p)
			}
		}
	}
}

// TestComposeNoDefaultPassword (issue 11): the database password is required
// like the keys; a default one is the same on every installation.
func TestComposeNoDefaultPassword(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`\$\{POSTGRES_PASSWORD([^}]*)\}`).FindAllStringSubmatch(string(raw), -1)
	if len(refs) == 0 {
		t.Fatal("docker-compose.yml never reads POSTGRES_PASSWORD")
	}
	for _, r := range refs {
		if !strings.HasPrefix(r[1], ":?") {
			t.Errorf("${POSTGRES_PASSWORD%s}: want ${POSTGRES_PASSWORD:?…}, required with no default", r[1])
		}
	}
	if m := regexp.MustCompile(`(?i)(PASSWORD|PWD):\s*["']?[A-Za-z0-9]`).FindString(string(raw)); m != "" {
		t.Errorf("a literal password: %q", m)
	}
}

// TestComposeImagesPinned: every image names a version, so a rebuild does not
// silently pull another release (no "latest", no missing tag).
func TestComposeImagesPinned(t *testing.T) {
	c := loadCompose(t)
	version := regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*([-.][A-Za-z0-9.-]+)?$`)
	for name, s := range c.Services {
		if s.Build != nil || s.Image == "" {
			continue // built here from the Dockerfile
		}
		ref, digest, pinnedByDigest := strings.Cut(s.Image, "@")
		if pinnedByDigest && strings.HasPrefix(digest, "sha256:") {
			continue
		}
		_, tag, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
		if !version.MatchString(tag) {
			t.Errorf("%s: image %q is not pinned to a version (tag %q)", name, s.Image, tag)
		}
	}
}

// `docker-compose config` (Debian's docker-compose package) validates the file
// against the Compose schema when it is installed; nothing needs an engine.
func TestComposeConfigValidates(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose is not installed (apt-get install docker-compose)")
	}
	required := map[string]string{
		"VISA_SEALING_KEYS": "s1:" + strings.Repeat("ab", 32),
		"VISA_INDEX_KEY":    strings.Repeat("ac", 32),
		"VISA_TOKEN_KEYS":   "t1:" + strings.Repeat("ad", 32),
		"VISA_AUDIT_KEYS":   "a1:" + strings.Repeat("ae", 32),
		"VISA_PAYLOAD_KEYS": "k1:" + strings.Repeat("cd", 32),
		"VISA_ACTION_KEYS":  "a1:" + strings.Repeat("ef", 32),
		"POSTGRES_PASSWORD": "not-a-default",
		// The object store's secret (issue 16), shared by it and the visad services.
		"VISA_S3_SECRET_ACCESS_KEY": "not-a-default-either",
	}
	config := func(skip string) ([]byte, error) {
		cmd := exec.Command(bin, "-f", "docker-compose.yml", "config", "-q")
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			_, ours := required[k]
			return ours
		})
		for k, v := range required {
			if k != skip {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		return cmd.CombinedOutput()
	}
	if out, err := config(""); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	// Each secret is required: without it the stack does not start with a default.
	for k := range required {
		if out, err := config(k); err == nil || !strings.Contains(string(out), k) {
			t.Errorf("docker-compose config without %s: %v\n%s", k, err, out)
		}
	}
}

type dockerStage struct {
	from, name string
	lines      []string // instructions after FROM, continuation lines joined
}

func parseDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		fields := strings.Fields(line)
		if strings.EqualFold(fields[0], "FROM") {
			st := dockerStage{from: fields[1]}
			if len(fields) >= 4 && strings.EqualFold(fields[2], "AS") {
				st.name = fields[3]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile instruction before FROM: %s", line)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

func instr(lines []string, name string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], name) {
			out = append(out, strings.TrimSpace(l[len(f[0]):]))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, have %d stage(s)", len(stages))
	}
	build := stages[0]
	if !strings.HasPrefix(build.from, "golang:1.26") {
		t.Errorf("build stage FROM %s, want golang:1.26", build.from)
	}
	built := false
	for _, run := range instr(build.lines, "RUN") {
		if strings.Contains(run, "go build") && strings.Contains(run, "./cmd/visad") {
			built = true
		}
	}
	if !built {
		t.Error("the build stage does not `go build ./cmd/visad`")
	}

	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/") &&
		!(strings.HasPrefix(final.from, "debian:") && strings.Contains(final.from, "slim")) {
		t.Errorf("runtime stage FROM %s, want distroless or debian slim", final.from)
	}
	copied := false
	for _, c := range instr(final.lines, "COPY") {
		if strings.Contains(c, "--from="+build.name) && build.name != "" {
			copied = true
		}
	}
	if !copied {
		t.Errorf("the runtime stage does not copy the binary from the build stage (%q)", build.name)
	}
	users := instr(final.lines, "USER")
	if len(users) == 0 {
		t.Fatal("the runtime stage sets no USER: it would run as root")
	}
	user, _, _ := strings.Cut(users[len(users)-1], ":")
	if user == "root" || user == "0" || user == "" {
		t.Errorf("the runtime stage runs as %q", users[len(users)-1])
	}
	for _, env := range instr(final.lines, "ENV") {
		if strings.Contains(env, "VISA_DATA_DIR") {
			t.Errorf("the image sets VISA_DATA_DIR (%s): every api and worker container would make a "+
				"development seal PKI of its own instead of refusing to start without VISA_SEAL_*", env)
		}
	}
	entry := instr(final.lines, "ENTRYPOINT")
	if len(entry) == 0 || !strings.Contains(entry[0], "visad") {
		t.Errorf("ENTRYPOINT %v does not run visad", entry)
	}
}
