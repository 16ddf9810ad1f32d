package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak/internal/check"
	checkprobe "github.com/firebreak/firebreak/internal/check/probe"
	"github.com/firebreak/firebreak/internal/i18n"
)

// formKinds are the kinds a person may pick in the check form; restore
// checks come from the plan (their form only changes common settings).
var formKinds = []string{check.KindHTTP, check.KindTCP, check.KindDNS, check.KindTLS, check.KindHeartbeat, check.KindPrometheus, check.KindLog}

// logOps are the ways a log matcher tests a field.
var logOps = []string{"equals", "regex", "not_equals"}

// logRow is one matcher of a log check in the form.
type logRow struct {
	Field, Op, Value string
}

// checkForm is what the check form shows and sends: every value as typed.
type checkForm struct {
	Slug, Name, Kind                string
	Interval, Timeout               string
	FailAfter, RecoverAfter         string
	ServiceID, Type, Level, Labels  string
	Paused                          bool
	HTTPURL, HTTPMethod             string
	HTTPHeaders, HTTPBody           string
	HTTPStatus, HTTPExpectBody      string
	HTTPRegex, HTTPJSON             string
	HTTPMaxLatency                  string
	HTTPSkipVerify, HTTPFollow      bool
	TCPAddress, TCPSend, TCPExpect  string
	TCPTLS                          bool
	DNSName, DNSType, DNSResolver   string
	DNSExpect                       string
	TLSAddress, TLSServerName       string
	TLSWarnBefore                   string
	HBMode, HBPeriod, HBSchedule    string
	HBTimeZone, HBGrace             string
	PromURL, PromQuery, PromOp      string
	PromThreshold, PromFor          string
	LogRows                         []logRow
	LogGroupBy, LogCount, LogWithin string
	RestoreResource, RestoreEvery   string
}

type checkEditData struct {
	ID       int64 // 0 for a new check
	Title    string
	FromPlan bool
	Form     checkForm
	Kinds    []option
	DNSTypes []string
	LogOps   []option
	Zones    []string
	Errors   map[string]string
	formChoices
}

// defaultCheckForm is the form of a new check of kind.
func defaultCheckForm(kind string) checkForm {
	if !slices.Contains(formKinds, kind) {
		kind = check.KindHTTP
	}
	return checkForm{Kind: kind, Interval: "1m", Timeout: "10s", FailAfter: "1", RecoverAfter: "1", HTTPMethod: "GET", HTTPStatus: "200",
		DNSType: "A", TLSWarnBefore: "336h", HBMode: "period", HBPeriod: "1h", HBGrace: "5m", HBTimeZone: "UTC", PromOp: "above",
		PromFor: "5m", LogCount: "20", LogWithin: "5m", LogRows: []logRow{{Op: "equals"}}}
}

// lines splits a textarea into its trimmed, non-empty lines.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// formOfCheck fills the form from a stored check.
func formOfCheck(v check.View) checkForm {
	f := defaultCheckForm(v.Kind)
	f.Kind = v.Kind
	f.Slug, f.Name = v.Slug, v.Name
	f.Interval, f.Timeout = shortDur(time.Duration(v.Interval)), shortDur(time.Duration(v.Timeout))
	f.FailAfter, f.RecoverAfter = strconv.Itoa(v.FailAfter), strconv.Itoa(v.RecoverAfter)
	if v.ServiceID != 0 {
		f.ServiceID = strconv.FormatInt(v.ServiceID, 10)
	}
	f.Type, f.Level, f.Paused = v.Type, v.Level, v.Paused
	var ls []string
	for _, k := range slices.Sorted(mapKeys(v.Labels)) {
		ls = append(ls, k+"="+v.Labels[k])
	}
	f.Labels = strings.Join(ls, "\n")
	switch v.Kind {
	case check.KindHTTP:
		var s checkprobe.HTTP
		_ = json.Unmarshal(v.Spec, &s)
		f.HTTPURL, f.HTTPMethod, f.HTTPBody = s.URL, s.Method, s.Body
		var hs []string
		for _, k := range slices.Sorted(mapKeys(s.Headers)) {
			hs = append(hs, k+": "+s.Headers[k])
		}
		f.HTTPHeaders = strings.Join(hs, "\n")
		var st []string
		for _, n := range s.ExpectStatus {
			st = append(st, strconv.Itoa(n))
		}
		f.HTTPStatus = strings.Join(st, ", ")
		f.HTTPExpectBody, f.HTTPRegex = s.ExpectBody, s.ExpectRegex
		var js []string
		for _, e := range s.ExpectJSON {
			js = append(js, e.Path+"="+e.Equals)
		}
		f.HTTPJSON = strings.Join(js, "\n")
		f.HTTPMaxLatency = ""
		if s.MaxLatency > 0 {
			f.HTTPMaxLatency = shortDur(s.MaxLatency.D())
		}
		f.HTTPSkipVerify, f.HTTPFollow = s.SkipTLSVerify, s.FollowRedirects
	case check.KindTCP:
		var s checkprobe.TCP
		_ = json.Unmarshal(v.Spec, &s)
		f.TCPAddress, f.TCPSend, f.TCPExpect, f.TCPTLS = s.Address, s.Send, s.Expect, s.TLS
	case check.KindDNS:
		var s checkprobe.DNS
		_ = json.Unmarshal(v.Spec, &s)
		f.DNSName, f.DNSType, f.DNSResolver, f.DNSExpect = s.Name, strings.ToUpper(s.Type), s.Resolver, strings.Join(s.Expect, "\n")
		if f.DNSType == "" {
			f.DNSType = "A"
		}
	case check.KindTLS:
		var s checkprobe.TLS
		_ = json.Unmarshal(v.Spec, &s)
		f.TLSAddress, f.TLSServerName = s.Address, s.ServerName
		f.TLSWarnBefore = ""
		if s.WarnBefore > 0 {
			f.TLSWarnBefore = shortDur(s.WarnBefore.D())
		}
	case check.KindHeartbeat:
		var s check.HeartbeatSpec
		_ = json.Unmarshal(v.Spec, &s)
		f.HBMode, f.HBPeriod, f.HBSchedule, f.HBTimeZone = "period", "", s.Schedule, s.TimeZone
		if s.Schedule != "" {
			f.HBMode = "schedule"
		}
		if s.Period != 0 {
			f.HBPeriod = shortDur(time.Duration(s.Period))
		}
		f.HBGrace = shortDur(time.Duration(s.Grace))
	case check.KindPrometheus:
		var s struct {
			URL   string   `json:"url"`
			Query string   `json:"query"`
			Above *float64 `json:"above"`
			Below *float64 `json:"below"`
			For   string   `json:"for"`
		}
		_ = json.Unmarshal(v.Spec, &s)
		f.PromURL, f.PromQuery, f.PromFor = s.URL, s.Query, s.For
		if d, err := time.ParseDuration(s.For); err == nil {
			f.PromFor = shortDur(d)
		}
		switch {
		case s.Above != nil:
			f.PromOp, f.PromThreshold = "above", strconv.FormatFloat(*s.Above, 'g', -1, 64)
		case s.Below != nil:
			f.PromOp, f.PromThreshold = "below", strconv.FormatFloat(*s.Below, 'g', -1, 64)
		}
	case check.KindLog:
		var s check.LogSpec
		_ = json.Unmarshal(v.Spec, &s)
		f.LogRows = nil
		for _, m := range s.Match {
			row := logRow{Field: m.Field, Op: "equals", Value: m.Equals}
			switch {
			case m.Regex != "":
				row.Op, row.Value = "regex", m.Regex
			case m.NotEquals != "":
				row.Op, row.Value = "not_equals", m.NotEquals
			}
			f.LogRows = append(f.LogRows, row)
		}
		f.LogGroupBy = strings.Join(s.GroupBy, ", ")
		f.LogCount = strconv.Itoa(s.Count)
		f.LogWithin = shortDur(s.Within.D())
	case check.KindRestore:
		var s check.RestoreSpec
		_ = json.Unmarshal(v.Spec, &s)
		f.RestoreResource, f.RestoreEvery = s.Resource, shortDur(time.Duration(s.Every))
	}
	return f
}

// readCheckForm reads the posted form.
func readCheckForm(r *http.Request) checkForm {
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	on := func(k string) bool { return r.PostForm.Get(k) != "" }
	f := checkForm{Slug: g("slug"), Name: g("name"), Kind: g("kind"), Interval: g("interval"), Timeout: g("timeout"),
		FailAfter: g("fail_after"), RecoverAfter: g("recover_after"), ServiceID: g("service_id"), Type: g("incident_type"),
		Level: g("level"), Labels: r.PostForm.Get("labels"), Paused: on("paused"),
		HTTPURL: g("http_url"), HTTPMethod: g("http_method"), HTTPHeaders: r.PostForm.Get("http_headers"), HTTPBody: r.PostForm.Get("http_body"),
		HTTPStatus: g("http_expect_status"), HTTPExpectBody: r.PostForm.Get("http_expect_body"), HTTPRegex: r.PostForm.Get("http_expect_regex"),
		HTTPJSON: r.PostForm.Get("http_expect_json"), HTTPMaxLatency: g("http_max_latency"),
		HTTPSkipVerify: on("http_skip_tls_verify"), HTTPFollow: on("http_follow_redirects"),
		TCPAddress: g("tcp_address"), TCPSend: r.PostForm.Get("tcp_send"), TCPExpect: r.PostForm.Get("tcp_expect"), TCPTLS: on("tcp_tls"),
		DNSName: g("dns_name"), DNSType: g("dns_type"), DNSResolver: g("dns_resolver"), DNSExpect: r.PostForm.Get("dns_expect"),
		TLSAddress: g("tls_address"), TLSServerName: g("tls_server_name"), TLSWarnBefore: g("tls_warn_before"),
		HBMode: g("hb_mode"), HBPeriod: g("hb_period"), HBSchedule: g("hb_schedule"), HBTimeZone: g("hb_time_zone"), HBGrace: g("hb_grace"),
		PromURL: g("prom_url"), PromQuery: g("prom_query"), PromOp: g("prom_op"), PromThreshold: g("prom_threshold"), PromFor: g("prom_for"),
		LogGroupBy: g("log_group_by"), LogCount: g("log_count"), LogWithin: g("log_within"),
		RestoreResource: g("restore_resource"), RestoreEvery: g("restore_every")}
	fields, ops, values := r.PostForm["log_field"], r.PostForm["log_op"], r.PostForm["log_value"]
	for i := range values {
		row := logRow{Value: values[i], Op: "equals"}
		if i < len(fields) {
			row.Field = strings.TrimSpace(fields[i])
		}
		if i < len(ops) && slices.Contains(logOps, ops[i]) {
			row.Op = ops[i]
		}
		if row.Field == "" && row.Value == "" {
			continue
		}
		f.LogRows = append(f.LogRows, row)
	}
	return f
}

// formDur reads a duration input; empty is zero.
func formDur(lang, field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil // a bare number is seconds
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, &uiFieldError{field, i18n.T(lang, "checks.err_duration")}
	}
	return d, nil
}

func formInt(lang, field, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &uiFieldError{field, i18n.T(lang, "checks.err_number")}
	}
	return n, nil
}

var headerLine = regexp.MustCompile(`^([^:\s]+)\s*:\s*(.*)$`)

// toCheck turns the form into a check. base is the stored spec of the same
// kind (settings the form does not show are kept), or nil.
func (f checkForm) toCheck(lang string, base json.RawMessage) (check.Check, error) {
	c := check.Check{Slug: f.Slug, Name: f.Name, Kind: f.Kind, Type: f.Type, Level: f.Level, Paused: f.Paused}
	var err error
	d, err := formDur(lang, "interval", f.Interval)
	if err != nil {
		return c, err
	}
	c.Interval = check.Duration(d)
	if d, err = formDur(lang, "timeout", f.Timeout); err != nil {
		return c, err
	}
	c.Timeout = check.Duration(d)
	if c.FailAfter, err = formInt(lang, "fail_after", f.FailAfter); err != nil {
		return c, err
	}
	if c.RecoverAfter, err = formInt(lang, "recover_after", f.RecoverAfter); err != nil {
		return c, err
	}
	if f.ServiceID != "" && f.ServiceID != "0" {
		if c.ServiceID, err = strconv.ParseInt(f.ServiceID, 10, 64); err != nil {
			return c, &uiFieldError{"service_id", i18n.T(lang, "checks.err_choose")}
		}
	}
	for _, l := range lines(f.Labels) {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return c, &uiFieldError{"labels", i18n.T(lang, "checks.err_label_line", l)}
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	spec := map[string]any{}
	if len(base) > 0 {
		_ = json.Unmarshal(base, &spec)
	}
	set := func(k string, v any, keep bool) {
		if keep {
			spec[k] = v
		} else {
			delete(spec, k)
		}
	}
	setDur := func(k, field, v string) error {
		d, err := formDur(lang, field, v)
		if err != nil {
			return err
		}
		set(k, d.String(), d > 0)
		return nil
	}
	switch f.Kind {
	case check.KindHTTP:
		set("url", f.HTTPURL, true)
		set("method", strings.ToUpper(f.HTTPMethod), f.HTTPMethod != "" && !strings.EqualFold(f.HTTPMethod, "GET"))
		hs := map[string]string{}
		for _, l := range lines(f.HTTPHeaders) {
			m := headerLine.FindStringSubmatch(l)
			if m == nil {
				return c, &uiFieldError{"http_headers", i18n.T(lang, "checks.err_header_line", l)}
			}
			hs[m[1]] = m[2]
		}
		set("headers", hs, len(hs) > 0)
		set("body", f.HTTPBody, f.HTTPBody != "")
		var sts []int
		for p := range strings.FieldsFuncSeq(f.HTTPStatus, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.Atoi(p)
			if err != nil {
				return c, &uiFieldError{"http_expect_status", i18n.T(lang, "checks.err_statuses")}
			}
			sts = append(sts, n)
		}
		set("expect_status", sts, len(sts) > 0)
		set("expect_body", f.HTTPExpectBody, f.HTTPExpectBody != "")
		set("expect_regex", f.HTTPRegex, f.HTTPRegex != "")
		var js []map[string]string
		for _, l := range lines(f.HTTPJSON) {
			p, v, ok := strings.Cut(l, "=")
			if !ok || strings.TrimSpace(p) == "" {
				return c, &uiFieldError{"http_expect_json", i18n.T(lang, "checks.err_json_line", l)}
			}
			js = append(js, map[string]string{"path": strings.TrimSpace(p), "equals": strings.TrimSpace(v)})
		}
		set("expect_json", js, len(js) > 0)
		if err := setDur("max_latency", "http_max_latency", f.HTTPMaxLatency); err != nil {
			return c, err
		}
		set("skip_tls_verify", true, f.HTTPSkipVerify)
		set("follow_redirects", true, f.HTTPFollow)
	case check.KindTCP:
		set("address", f.TCPAddress, true)
		set("send", f.TCPSend, f.TCPSend != "")
		set("expect", f.TCPExpect, f.TCPExpect != "")
		set("tls", true, f.TCPTLS)
		if !f.TCPTLS {
			delete(spec, "server_name")
		}
	case check.KindDNS:
		set("name", f.DNSName, true)
		set("type", f.DNSType, f.DNSType != "")
		set("resolver", f.DNSResolver, f.DNSResolver != "")
		ex := lines(f.DNSExpect)
		set("expect", ex, len(ex) > 0)
	case check.KindTLS:
		set("address", f.TLSAddress, true)
		set("server_name", f.TLSServerName, f.TLSServerName != "")
		if err := setDur("warn_before", "tls_warn_before", f.TLSWarnBefore); err != nil {
			return c, err
		}
	case check.KindHeartbeat:
		if f.HBMode == "schedule" {
			delete(spec, "period")
			set("schedule", f.HBSchedule, true)
			set("time_zone", f.HBTimeZone, f.HBTimeZone != "" && f.HBTimeZone != "UTC")
		} else {
			delete(spec, "schedule")
			delete(spec, "time_zone")
			if err := setDur("period", "hb_period", f.HBPeriod); err != nil {
				return c, err
			}
		}
		d, err := formDur(lang, "hb_grace", f.HBGrace)
		if err != nil {
			return c, err
		}
		spec["grace"] = d.String()
	case check.KindPrometheus:
		set("url", f.PromURL, true)
		set("query", f.PromQuery, true)
		delete(spec, "above")
		delete(spec, "below")
		if f.PromThreshold != "" {
			n, err := strconv.ParseFloat(f.PromThreshold, 64)
			if err != nil {
				return c, &uiFieldError{"prom_threshold", i18n.T(lang, "checks.err_number")}
			}
			op := "above"
			if f.PromOp == "below" {
				op = "below"
			}
			spec[op] = n
		}
		if err := setDur("for", "prom_for", f.PromFor); err != nil {
			return c, err
		}
	case check.KindLog:
		var ms []map[string]string
		for _, row := range f.LogRows {
			m := map[string]string{row.Op: row.Value}
			if row.Field != "" {
				m["field"] = row.Field
			}
			ms = append(ms, m)
		}
		set("match", ms, len(ms) > 0)
		var gb []string
		for p := range strings.FieldsFuncSeq(f.LogGroupBy, func(r rune) bool { return r == ',' || r == ' ' }) {
			gb = append(gb, p)
		}
		set("group_by", gb, len(gb) > 0)
		n, err := formInt(lang, "log_count", f.LogCount)
		if err != nil {
			return c, err
		}
		spec["count"] = n
		d, err := formDur(lang, "log_within", f.LogWithin)
		if err != nil {
			return c, err
		}
		spec["within"] = d.String()
	case check.KindRestore:
		set("resource", f.RestoreResource, true)
		d, err := formDur(lang, "restore_every", f.RestoreEvery)
		if err != nil {
			return c, err
		}
		spec["every"] = d.String()
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return c, err
	}
	c.Spec = b
	return c, nil
}

// specInputs maps a kind's spec fields (as errors name them, without
// "spec.") to the inputs showing them.
var specInputs = map[string]map[string]string{
	check.KindHTTP: {"url": "http_url", "method": "http_method", "headers": "http_headers", "body": "http_body",
		"expect_status": "http_expect_status", "expect_body": "http_expect_body", "expect_regex": "http_expect_regex",
		"expect_json": "http_expect_json", "max_latency": "http_max_latency"},
	check.KindTCP:        {"address": "tcp_address", "send": "tcp_send", "expect": "tcp_expect", "tls": "tcp_tls"},
	check.KindDNS:        {"name": "dns_name", "type": "dns_type", "resolver": "dns_resolver", "expect": "dns_expect"},
	check.KindTLS:        {"address": "tls_address", "server_name": "tls_server_name", "warn_before": "tls_warn_before"},
	check.KindHeartbeat:  {"period": "hb_period", "schedule": "hb_schedule", "time_zone": "hb_time_zone", "grace": "hb_grace"},
	check.KindPrometheus: {"url": "prom_url", "query": "prom_query", "above": "prom_threshold", "below": "prom_threshold", "for": "prom_for"},
	check.KindLog:        {"match": "log_match", "group_by": "log_group_by", "count": "log_count", "within": "log_within"},
	check.KindRestore:    {"resource": "restore_resource", "every": "restore_every"},
}

var commonInputs = []string{"slug", "name", "kind", "interval", "timeout", "fail_after", "recover_after", "service_id", "incident_type", "level", "labels"}

// inputOf names the form input an error's field is about ("spec.url" of an
// HTTP check is http_url); errors no input shows go to "form".
func inputOf(kind, field string) string {
	if slices.Contains(commonInputs, field) {
		return field
	}
	if strings.HasPrefix(field, "http_") || strings.HasPrefix(field, "tcp_") || strings.HasPrefix(field, "dns_") ||
		strings.HasPrefix(field, "tls_") || strings.HasPrefix(field, "hb_") || strings.HasPrefix(field, "prom_") ||
		strings.HasPrefix(field, "log_") || strings.HasPrefix(field, "restore_") {
		return field // the form's own errors
	}
	rest, ok := strings.CutPrefix(field, "spec.")
	if !ok {
		return "form"
	}
	name := rest
	if i := strings.IndexAny(name, ".["); i >= 0 {
		name = name[:i]
	}
	if in, ok := specInputs[kind][name]; ok {
		return in
	}
	return "form"
}

func (c *checksUI) renderCheckForm(w http.ResponseWriter, r *http.Request, status int, d checkEditData) {
	lang := c.lang(r)
	fc, err := c.choices(r.Context(), lang)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.formChoices = fc
	kinds := formKinds
	if d.Form.Kind == check.KindRestore {
		kinds = append(slices.Clone(formKinds), check.KindRestore)
	}
	for _, k := range kinds {
		d.Kinds = append(d.Kinds, option{k, kindLabel(lang, k)})
	}
	d.DNSTypes = checkprobe.DNSTypes
	for _, op := range logOps {
		d.LogOps = append(d.LogOps, option{op, i18n.T(lang, "checks.log_op."+op)})
	}
	d.Zones = commonZones
	// Always offer two empty matcher rows to fill in.
	d.Form.LogRows = append(slices.Clone(d.Form.LogRows), logRow{Op: "equals"}, logRow{Op: "equals"})
	if d.ID == 0 {
		c.render(w, r, status, "check_edit", "checks", "checks.new_title", d)
		return
	}
	c.render(w, r, status, "check_edit", "checks", "checks.edit_title", d, d.Title)
}

func (c *checksUI) newForm(w http.ResponseWriter, r *http.Request) {
	c.renderCheckForm(w, r, http.StatusOK, checkEditData{Form: defaultCheckForm(r.URL.Query().Get("kind"))})
}

// formFailed re-renders the form with an input error, or answers the error.
func (c *checksUI) formFailed(w http.ResponseWriter, r *http.Request, d checkEditData, err error) {
	field, msg, ok := inputError(c.lang(r), err)
	if !ok {
		c.fail(w, r, err)
		return
	}
	d.Errors = map[string]string{inputOf(d.Form.Kind, field): msg}
	c.renderCheckForm(w, r, http.StatusUnprocessableEntity, d)
}

func (c *checksUI) create(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	lang := c.lang(r)
	f := readCheckForm(r)
	d := checkEditData{Form: f}
	if !slices.Contains(formKinds, f.Kind) {
		c.formFailed(w, r, d, &uiFieldError{"kind", i18n.T(lang, "checks.err_choose")})
		return
	}
	in, err := f.toCheck(lang, nil)
	if err == nil {
		var v check.View
		if v, err = c.s.Checks.Create(r.Context(), in); err == nil {
			seeOther(w, r, checkURL(v.ID)+"?done=created")
			return
		}
	}
	c.formFailed(w, r, d, err)
}

func (c *checksUI) editForm(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	v, err := c.s.Checks.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderCheckForm(w, r, http.StatusOK, checkEditData{ID: id, Title: checkTitle(v), FromPlan: v.Source == "plan", Form: formOfCheck(v)})
}

func (c *checksUI) update(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok || !c.form(w, r) {
		return
	}
	lang := c.lang(r)
	old, err := c.s.Checks.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := readCheckForm(r)
	d := checkEditData{ID: id, Title: checkTitle(old), FromPlan: old.Source == "plan", Form: f}
	if !slices.Contains(formKinds, f.Kind) && !(f.Kind == check.KindRestore && old.Kind == check.KindRestore) {
		c.formFailed(w, r, d, &uiFieldError{"kind", i18n.T(lang, "checks.err_choose")})
		return
	}
	var base json.RawMessage
	if f.Kind == old.Kind {
		base = old.Spec
	}
	in, err := f.toCheck(lang, base)
	if err == nil {
		if _, err = c.s.Checks.Update(r.Context(), id, in); err == nil {
			seeOther(w, r, checkURL(id)+"?done=saved")
			return
		}
	}
	c.formFailed(w, r, d, err)
}
