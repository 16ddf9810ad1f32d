// Package server assembles firebreak: it reads the configuration, opens and
// migrates the database, prepares a first start, and runs the HTTP server and the
// ingest writer until it is told to stop.
package server

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Config is what `firebreak serve` and the other commands need to know.
type Config struct {
	Listen      string `yaml:"listen"`
	DataDir     string `yaml:"data_dir"`
	DatabaseURL string `yaml:"database_url"`
	BaseURL     string `yaml:"base_url"`
	LogLevel    string `yaml:"log_level"`
	LogFormat   string `yaml:"log_format"`
}

// Defaults returns the built-in configuration.
func Defaults() Config {
	return Config{Listen: "127.0.0.1:8080", DataDir: "./data", LogLevel: "info", LogFormat: "json"}
}

// option ties a flag, an environment variable and a YAML key to one field.
type option struct {
	flag, env, usage string
	field            func(*Config) *string
}

var options = []option{
	{"listen", "FIREBREAK_LISTEN", "address to listen on", func(c *Config) *string { return &c.Listen }},
	{"data-dir", "FIREBREAK_DATA_DIR", "directory for the SQLite database (when no database URL is set)", func(c *Config) *string { return &c.DataDir }},
	{"database-url", "FIREBREAK_DATABASE_URL", "PostgreSQL URL (postgres://user:pass@host/db); SQLite in the data directory when empty", func(c *Config) *string { return &c.DatabaseURL }},
	{"base-url", "FIREBREAK_BASE_URL", "URL users reach firebreak at (default http://LISTEN)", func(c *Config) *string { return &c.BaseURL }},
	{"log-level", "FIREBREAK_LOG_LEVEL", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }},
	{"log-format", "FIREBREAK_LOG_FORMAT", "json or text", func(c *Config) *string { return &c.LogFormat }},
}

// AddFlags declares the configuration flags on fs, plus --config.
func AddFlags(fs *pflag.FlagSet) {
	d := Defaults()
	for _, o := range options {
		fs.String(o.flag, *o.field(&d), o.usage+" (env "+o.env+")")
	}
	fs.String("config", "", "optional YAML configuration file (env FIREBREAK_CONFIG)")
}

// Load resolves the configuration: flags set on the command line win over the
// environment, which wins over the YAML file, which wins over the defaults.
func Load(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	c := Defaults()
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv("FIREBREAK_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, o := range options {
		if v := getenv(o.env); v != "" {
			*o.field(&c) = v
		}
		if f := fs.Lookup(o.flag); f != nil && f.Changed {
			*o.field(&c) = f.Value.String()
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Listen
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch c.LogFormat {
	case "json", "text":
	default:
		return c, fmt.Errorf("log format %q: use json or text", c.LogFormat)
	}
	return c, nil
}
