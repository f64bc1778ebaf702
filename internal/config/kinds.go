package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/keys"
)

// field is how a setting's text becomes its Config field.
type field interface {
	set(c *Config, text string) error
	expect() string  // what a valid value looks like, for errors and docs
	metavar() string // a word for the value in -h
	boolean() bool   // a flag that needs no value (-stp means -stp=true)
}

// kind parses and checks one type of value. parse sees non-empty text only,
// and its errors never repeat the text of a secret.
type kind[T any] struct {
	expected, meta string
	parse          func(string) (T, error)
}

// bound is a kind tied to the Config field it sets.
type bound[T any] struct {
	kind[T]
	ptr func(*Config) *T
}

func to[T any](k kind[T], ptr func(*Config) *T) field { return bound[T]{k, ptr} }

func (b bound[T]) set(c *Config, text string) error {
	v, err := b.parse(strings.TrimSpace(text))
	if err != nil {
		return err
	}
	*b.ptr(c) = v
	return nil
}

func (b bound[T]) expect() string  { return b.expected }
func (b bound[T]) metavar() string { return b.meta }
func (b bound[T]) boolean() bool   { _, ok := any(new(T)).(*bool); return ok }

var (
	anyText = kind[string]{"any text", "text", func(s string) (string, error) { return s, nil }}

	filePath = kind[string]{"a file or directory path", "path", func(s string) (string, error) { return s, nil }}

	address = kind[string]{"host:port such as 127.0.0.1:8080 (port 0 picks a free port)", "host:port", parseAddress}

	optionalAddress = kind[string]{"host:port such as 127.0.0.1:8233, or empty for none", "host:port",
		func(s string) (string, error) {
			if s == "" {
				return "", nil
			}
			return parseAddress(s)
		}}

	positiveDuration = kind[time.Duration]{"a positive duration such as 90s, 20m or 24h", "duration",
		func(s string) (time.Duration, error) {
			d, err := time.ParseDuration(s)
			if err != nil {
				return 0, errors.New("not a duration")
			}
			if d <= 0 {
				return 0, errors.New("not positive")
			}
			return d, nil
		}}

	positiveInt = kind[int]{"a whole number of at least 1", "n", func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, errors.New("not a whole number")
		}
		if n < 1 {
			return 0, errors.New("less than 1")
		}
		return n, nil
	}}

	perSecond = kind[float64]{"a number of at least 0, such as 20 or 0.5 (0 switches the limit off)", "rate",
		func(s string) (float64, error) {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return 0, errors.New("not a number")
			}
			if f < 0 {
				return 0, errors.New("negative")
			}
			return f, nil
		}}

	trueFalse = kind[bool]{"true or false", "bool", func(s string) (bool, error) {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, errors.New("not a boolean")
		}
		return b, nil
	}}

	logLevel         = oneOf("debug", "info", "warn", "error")
	temporalLogLevel = oneOf("debug", "info", "warn", "error", "off")

	ipOrCIDRList = kind[[]string]{"comma-separated IP addresses or CIDR prefixes such as 10.0.0.0/8,192.168.1.10",
		"list", listOf(func(s string) (string, error) {
			// The same test as gin's SetTrustedProxies, which gets this list.
			if strings.Contains(s, "/") {
				if _, _, err := net.ParseCIDR(s); err != nil {
					return "", fmt.Errorf("%q is not a CIDR prefix", s)
				}
			} else if net.ParseIP(s) == nil {
				return "", fmt.Errorf("%q is not an IP address", s)
			}
			return s, nil
		})}

	countryList = kind[[]string]{"comma-separated ISO 3166-1 alpha-3 codes such as KAZ,UZB", "list",
		nonEmptyList(func(s string) (string, error) {
			s = strings.ToUpper(s)
			if len(s) != 3 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				return "", fmt.Errorf("%q is not three letters", s)
			}
			return s, nil
		})}

	webOrigins = kind[[]string]{"comma-separated web origins such as http://localhost:8233 (scheme, host and port)",
		"list", nonEmptyList(func(s string) (string, error) {
			s = strings.TrimRight(s, "/")
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
				u.RawQuery != "" || u.User != nil {
				return "", fmt.Errorf("%q is not an http(s)://host[:port] origin", s)
			}
			return s, nil
		})}

	pathList = kind[[]string]{"comma-separated file paths", "paths", listOf(func(s string) (string, error) {
		return s, nil
	})}

	publicURL = kind[string]{"an http(s):// URL without query, such as https://visa.example.org", "url",
		func(s string) (string, error) {
			s = strings.TrimRight(s, "/")
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" ||
				u.Fragment != "" || u.User != nil {
				return "", fmt.Errorf("%q is not an http(s):// base URL", s)
			}
			return s, nil
		}}

	mailAddress = kind[string]{"an e-mail address such as visad <no-reply@example.org>", "address",
		func(s string) (string, error) {
			if _, err := mail.ParseAddress(s); err != nil {
				return "", errors.New("not an e-mail address")
			}
			return s, nil
		}}

	// Secrets from here on: their errors never repeat their text.

	databaseURL = kind[string]{"a SQLite file path, or a postgres:// or postgresql:// URL", "url",
		func(s string) (string, error) {
			if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
				if strings.Contains(s, "://") && !strings.HasPrefix(s, "sqlite://") {
					return "", errors.New("an unknown scheme")
				}
				return s, nil
			}
			if u, err := url.Parse(s); err != nil || u.Host == "" {
				return "", errors.New("not a URL with a host")
			}
			return s, nil
		}}

	smtpURL = kind[string]{"smtp://[user:password@]host:port", "url", func(s string) (string, error) {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "smtp" {
			return "", errors.New("not an smtp:// URL")
		}
		if _, err := parseAddress(u.Host); err != nil {
			return "", errors.New("no host:port")
		}
		return s, nil
	}}

	serverSecret = kind[string]{fmt.Sprintf("hex or base64 of at least %d bytes", keys.MinSecretBytes), "secret",
		func(s string) (string, error) {
			b, err := keys.ParseSecret(s)
			if err != nil {
				return "", err
			}
			if len(b) < keys.MinSecretBytes {
				return "", fmt.Errorf("%d bytes", len(b))
			}
			return s, nil
		}}

	indexKey = kind[string]{fmt.Sprintf("%d bytes as hex or base64", keys.KeySize), "key",
		func(s string) (string, error) {
			b, err := keys.ParseSecret(s)
			if err != nil {
				return "", err
			}
			if len(b) != keys.KeySize {
				return "", fmt.Errorf("%d bytes", len(b))
			}
			return s, nil
		}}

	payloadKeys = kind[string]{"id:key[,id:key…], each key 32 bytes as hex or base64", "keys",
		func(s string) (string, error) {
			_, err := codec.ParseKeys(s) // its errors name key ids, never keys
			return s, err
		}}

	actionKeys = kind[string]{fmt.Sprintf("id:key[,id:key…], each key at least %d bytes as hex or base64",
		keys.MinActionKeyBytes), "keys",
		func(s string) (string, error) {
			_, err := keys.ParseActionKeys(s) // its errors name key ids, never keys
			return s, err
		}}
)

// parseAddress accepts host:port with a numeric port; the host may be empty
// (all interfaces).
func parseAddress(s string) (string, error) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return s, nil
}

// oneOf is a kind for a fixed set of words, matched regardless of case.
func oneOf(words ...string) kind[string] {
	list := strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
	return kind[string]{list, strings.Join(words, "|"), func(s string) (string, error) {
		for _, w := range words {
			if strings.EqualFold(s, w) {
				return w, nil
			}
		}
		return "", errors.New("not one of them")
	}}
}

// listOf parses a comma-separated list, each entry trimmed and checked; empty
// entries are skipped.
func listOf(entry func(string) (string, error)) func(string) ([]string, error) {
	return func(s string) ([]string, error) {
		var out []string
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e == "" {
				continue
			}
			v, err := entry(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
}

// nonEmptyList is listOf that wants at least one entry.
func nonEmptyList(entry func(string) (string, error)) func(string) ([]string, error) {
	parse := listOf(entry)
	return func(s string) ([]string, error) {
		out, err := parse(s)
		if err == nil && len(out) == 0 {
			err = errors.New("no entries")
		}
		return out, err
	}
}

// keyList is a kind for a list of app keys (keys.ParseKeys: its errors name
// key ids, never keys).
func keyList(what string) kind[string] {
	return kind[string]{"id:key[,id:key…], each key 32 bytes as hex or base64", "keys",
		func(s string) (string, error) {
			_, err := keys.ParseKeys(what, s)
			return s, err
		}}
}
