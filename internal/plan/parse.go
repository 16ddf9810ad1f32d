package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ValidationError says what is wrong with one field of a plan file.
type ValidationError struct {
	Line  int    // 1-based line in the source, 0 when unknown
	Field string // path such as levels[1].targets.acknowledge, "" for the whole file
	Msg   string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "plan.yaml:%d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors returns every *ValidationError in err (as joined by Parse or Validate).
func ValidationErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(err error) {
		if ve, ok := err.(*ValidationError); ok {
			out = append(out, ve)
		} else if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		} else if e := errors.Unwrap(err); e != nil {
			walk(e)
		}
	}
	walk(err)
	return out
}

// Parse decodes a plan file strictly: unknown fields, wrong types and bad
// durations are errors naming their line and field. It does not validate
// references; call Validate for that.
func Parse(data []byte) (*Plan, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(err)
	}
	if len(root.Content) == 0 {
		return nil, &ValidationError{Msg: "plan is empty"}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, &ValidationError{Line: doc.Line, Msg: "a plan must be a mapping (version: 1, name: ..., levels: ...)"}
	}
	p := &Plan{lines: map[string]int{}, source: data}
	p.index(doc, "")

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(p)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		errs := make([]error, len(te.Errors))
		for i, s := range te.Errors {
			errs[i] = p.decodeError(s)
		}
		return nil, errors.Join(errs...)
	case err != nil && err != io.EOF:
		return nil, syntaxError(err)
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		return nil, &ValidationError{Msg: "a plan file holds one YAML document; remove the extra ---"}
	}
	return p, nil
}

// entry is one node of the source with its field path; key is set for mapping values.
type entry struct {
	path string
	key  *yaml.Node
	val  *yaml.Node
}

func (p *Plan) index(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			p.add(entry{sub, k, v}, k.Line)
			p.index(v, sub)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			sub := fmt.Sprintf("%s[%d]", path, i)
			p.add(entry{sub, nil, v}, v.Line)
			p.index(v, sub)
		}
	}
}

func (p *Plan) add(e entry, line int) {
	if _, dup := p.lines[e.path]; !dup {
		p.lines[e.path] = line
	}
	p.nodes = append(p.nodes, e)
}

// line returns the source line of path or of its nearest ancestor in the file.
func (p *Plan) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

var (
	lineRE      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE   = regexp.MustCompile(`^field (\S+) not found in type`)
	durationRE  = regexp.MustCompile(`^invalid duration (".*")$`)
	unmarshalRE = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	dupKeyRE    = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

func syntaxError(err error) error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &ValidationError{Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &ValidationError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// decodeError turns one message of a yaml.TypeError into a ValidationError
// naming the field it is about.
func (p *Plan) decodeError(s string) error {
	m := lineRE.FindStringSubmatch(s)
	if m == nil {
		return &ValidationError{Msg: s}
	}
	line, _ := strconv.Atoi(m[1])
	ve := &ValidationError{Line: line, Msg: m[2]}
	find := func(ok func(e entry) bool) { // the deepest node that fits
		for _, e := range slices.Backward(p.nodes) {
			if ok(e) {
				ve.Field = e.path
				return
			}
		}
	}
	switch msg := m[2]; {
	case unknownRE.MatchString(msg):
		name := unknownRE.FindStringSubmatch(msg)[1]
		find(func(e entry) bool { return e.key != nil && e.key.Line == line && e.key.Value == name })
		ve.Msg = "unknown field (misspelt, or not supported by this version of firebreak)"
	case durationRE.MatchString(msg):
		val, _ := strconv.Unquote(durationRE.FindStringSubmatch(msg)[1])
		find(func(e entry) bool { return e.val.Line == line && e.val.Kind == yaml.ScalarNode && e.val.Value == val })
		ve.Msg += " (use a number and a unit: 30s, 10m, 8h)"
	case unmarshalRE.MatchString(msg):
		sm := unmarshalRE.FindStringSubmatch(msg)
		tag, val, typ := sm[1], sm[2], sm[3]
		find(func(e entry) bool {
			if e.val.Line != line || e.val.ShortTag() != tag {
				return false
			}
			if short, ok := strings.CutSuffix(val, "..."); ok {
				return strings.HasPrefix(e.val.Value, short)
			}
			return val == "" || e.val.Value == val
		})
		got := map[string]string{"!!map": "a mapping", "!!seq": "a list", "!!str": "text", "!!int": "a number",
			"!!float": "a number", "!!bool": "true or false", "!!null": "nothing"}[tag]
		if got == "" {
			got = tag
		}
		if val != "" {
			got += fmt.Sprintf(" %q", val)
		}
		ve.Msg = fmt.Sprintf("want %s, got %s", describe(typ), got)
	case dupKeyRE.MatchString(msg):
		sm := dupKeyRE.FindStringSubmatch(msg)
		find(func(e entry) bool { return e.key != nil && e.key.Line == line && e.key.Value == sm[1] })
		ve.Msg = "set twice (first at line " + sm[2] + ")"
	}
	return ve
}

// describe names a Go type for someone writing YAML.
func describe(typ string) string {
	switch typ {
	case "plan.Duration":
		return "a duration"
	case "plan.Text":
		return "text or {en: ..., zh: ...}"
	case "plan.Page":
		return "level or a list of ids"
	}
	switch {
	case strings.HasPrefix(typ, "[]"):
		return "a list"
	case strings.HasPrefix(typ, "map["), strings.HasPrefix(typ, "plan."), strings.HasPrefix(typ, "*plan."):
		return "a mapping"
	case strings.HasPrefix(typ, "int"), strings.HasPrefix(typ, "uint"):
		return "a whole number"
	case strings.HasPrefix(typ, "float"), strings.HasPrefix(typ, "*float"):
		return "a number"
	case typ == "bool":
		return "true or false"
	case typ == "string":
		return "text"
	}
	return typ
}
