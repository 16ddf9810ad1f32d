// Package server assembles firebreak: it reads the configuration, opens and
// migrates the database, prepares a first start, and runs the HTTP server and the
// ingest writer until it is told to stop.
package server

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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

	// Mail for e-mail contact methods.
	SMTPHost     string `yaml:"smtp_host"`
	SMTPPort     string `yaml:"smtp_port"`
	SMTPUsername string `yaml:"smtp_username"`
	SMTPPassword string `yaml:"smtp_password"`
	SMTPFrom     string `yaml:"smtp_from"`
	SMTPTLS      string `yaml:"smtp_tls"`
	// SMS and voice calls through a Twilio-compatible HTTP API.
	SMSBaseURL    string `yaml:"sms_base_url"`
	SMSAccountSID string `yaml:"sms_account_sid"`
	SMSAuthToken  string `yaml:"sms_auth_token"`
	SMSFrom       string `yaml:"sms_from"`
	// Delivery: one attempt's timeout, attempts before giving up, first retry delay.
	NotifyTimeout     string `yaml:"notify_timeout"`
	NotifyMaxAttempts string `yaml:"notify_max_attempts"`
	NotifyBackoff     string `yaml:"notify_backoff"`
	// Syslog listeners for log checks (RFC 5424/3164); empty: off.
	SyslogUDP string `yaml:"syslog_udp"`
	SyslogTCP string `yaml:"syslog_tcp"`
}

// Defaults returns the built-in configuration.
func Defaults() Config {
	return Config{Listen: "127.0.0.1:8080", DataDir: "./data", LogLevel: "info", LogFormat: "json",
		SMTPTLS: "starttls", NotifyTimeout: "10s", NotifyMaxAttempts: "5", NotifyBackoff: "2s"}
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
	{"smtp-host", "FIREBREAK_SMTP_HOST", "SMTP server for e-mail notifications (none: e-mail is off)", func(c *Config) *string { return &c.SMTPHost }},
	{"smtp-port", "FIREBREAK_SMTP_PORT", "SMTP port (default 587, 465 with smtp-tls=tls, 25 with none)", func(c *Config) *string { return &c.SMTPPort }},
	{"smtp-username", "FIREBREAK_SMTP_USERNAME", "SMTP user name", func(c *Config) *string { return &c.SMTPUsername }},
	{"smtp-password", "FIREBREAK_SMTP_PASSWORD", "SMTP password", func(c *Config) *string { return &c.SMTPPassword }},
	{"smtp-from", "FIREBREAK_SMTP_FROM", "sender address, e.g. \"firebreak <oncall@example.com>\"", func(c *Config) *string { return &c.SMTPFrom }},
	{"smtp-tls", "FIREBREAK_SMTP_TLS", "starttls, opportunistic, tls or none", func(c *Config) *string { return &c.SMTPTLS }},
	{"sms-base-url", "FIREBREAK_SMS_BASE_URL", "Twilio-compatible API for SMS and voice (default https://api.twilio.com)", func(c *Config) *string { return &c.SMSBaseURL }},
	{"sms-account-sid", "FIREBREAK_SMS_ACCOUNT_SID", "SMS/voice account SID (none: SMS and voice are off)", func(c *Config) *string { return &c.SMSAccountSID }},
	{"sms-auth-token", "FIREBREAK_SMS_AUTH_TOKEN", "SMS/voice auth token", func(c *Config) *string { return &c.SMSAuthToken }},
	{"sms-from", "FIREBREAK_SMS_FROM", "SMS/voice sender number (E.164) or messaging service SID", func(c *Config) *string { return &c.SMSFrom }},
	{"notify-timeout", "FIREBREAK_NOTIFY_TIMEOUT", "how long one delivery attempt may take", func(c *Config) *string { return &c.NotifyTimeout }},
	{"notify-max-attempts", "FIREBREAK_NOTIFY_MAX_ATTEMPTS", "attempts before a delivery falls back to the person's next method", func(c *Config) *string { return &c.NotifyMaxAttempts }},
	{"notify-backoff", "FIREBREAK_NOTIFY_BACKOFF", "first retry delay; doubles per attempt with jitter", func(c *Config) *string { return &c.NotifyBackoff }},
	{"syslog-udp", "FIREBREAK_SYSLOG_UDP", "address to receive syslog over UDP for log checks, e.g. :5514 (none: off)", func(c *Config) *string { return &c.SyslogUDP }},
	{"syslog-tcp", "FIREBREAK_SYSLOG_TCP", "address to receive syslog over TCP for log checks (none: off)", func(c *Config) *string { return &c.SyslogTCP }},
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
	if _, err := c.Delivery(); err != nil {
		return c, err
	}
	return c, nil
}

// DeliverySettings are the parsed delivery options.
type DeliverySettings struct {
	Timeout, Backoff time.Duration
	MaxAttempts      int
	SMTPPort         int
}

// Delivery parses the delivery options, naming the one that is wrong.
func (c Config) Delivery() (DeliverySettings, error) {
	var d DeliverySettings
	var err error
	if d.Timeout, err = time.ParseDuration(c.NotifyTimeout); err != nil || d.Timeout <= 0 || d.Timeout > 5*time.Minute {
		return d, fmt.Errorf("notify_timeout %q: use a duration between 1ms and 5m, such as 10s", c.NotifyTimeout)
	}
	if d.Backoff, err = time.ParseDuration(c.NotifyBackoff); err != nil || d.Backoff <= 0 || d.Backoff > time.Hour {
		return d, fmt.Errorf("notify_backoff %q: use a duration between 1ms and 1h, such as 2s", c.NotifyBackoff)
	}
	if d.MaxAttempts, err = strconv.Atoi(c.NotifyMaxAttempts); err != nil || d.MaxAttempts < 1 || d.MaxAttempts > 50 {
		return d, fmt.Errorf("notify_max_attempts %q: use a whole number from 1 to 50", c.NotifyMaxAttempts)
	}
	if c.SMTPPort != "" {
		if d.SMTPPort, err = strconv.Atoi(c.SMTPPort); err != nil || d.SMTPPort < 1 || d.SMTPPort > 65535 {
			return d, fmt.Errorf("smtp_port %q: use a port number", c.SMTPPort)
		}
	}
	return d, nil
}
