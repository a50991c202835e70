// Package bootstrap reads bootstrap files, the YAML form of a store.Seed,
// and contains the demo data set that an empty database starts with.
//
// A bootstrap file is one YAML mapping with the optional keys clients,
// roles, users, properties and credentials, each a list of entries. See
// demo.yaml for every key an entry accepts.
package bootstrap

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"credprops/access"
	"credprops/store"
)

//go:embed demo.yaml
var demoYAML []byte

// Demo returns the demo data set. It panics if the embedded demo.yaml does
// not parse, which the package's tests rule out.
func Demo() store.Seed {
	seed, err := Parse("demo.yaml", demoYAML)
	if err != nil {
		panic(fmt.Sprintf("bootstrap: embedded demo data: %v", err))
	}
	return seed
}

// ParseError is a problem at a line of a bootstrap file. Line is 0 when
// the YAML library reports no line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads the bootstrap file named name, whose content is data, into a
// seed whose entries carry their line numbers. It rejects unknown keys,
// repeated keys and values of the wrong YAML type, but leaves the checks of
// values and references to store.Load. The error lists every problem found,
// each a *ParseError.
func Parse(name string, data []byte) (store.Seed, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))

	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return store.Seed{}, nil
	}
	if err != nil {
		return store.Seed{}, syntaxError(name, err)
	}

	var next yaml.Node
	err = dec.Decode(&next)
	if err == nil {
		return store.Seed{}, &ParseError{File: name, Line: next.Line,
			Msg: "a second YAML document starts here; put all entries in one document"}
	}
	if !errors.Is(err, io.EOF) {
		return store.Seed{}, syntaxError(name, err)
	}

	p := parser{file: name}
	seed := p.seed(&doc)
	if len(p.errs) > 0 {
		return store.Seed{}, errors.Join(p.errs...)
	}
	return seed, nil
}

// yamlLine matches the line number in yaml.v3's syntax errors, such as
// "yaml: line 3: did not find expected key".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser errors, as opposed to
// its scanner errors.
//
// NOTE: gopkg.in/yaml.v3 v3.0.1 numbers the lines of parser errors from 0
// and those of scanner errors from 1 (parser.fail in decode.go), so
// syntaxError adds 1 for these messages. The line is then where the
// enclosing collection starts, if yaml.v3 tracked one, which may come
// before the line of the actual mistake.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			line++
		}
		return &ParseError{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &ParseError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// parser turns YAML nodes into seed entries and collects the problems it
// finds instead of stopping at the first.
type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) seed(doc *yaml.Node) store.Seed {
	var seed store.Seed
	if len(doc.Content) == 0 {
		return seed
	}

	fields := p.mapping(doc.Content[0], "the bootstrap file",
		"clients", "roles", "users", "properties", "credentials")
	for _, n := range p.entries(fields["clients"], "clients") {
		seed.Clients = append(seed.Clients, p.client(n))
	}
	for _, n := range p.entries(fields["roles"], "roles") {
		seed.Roles = append(seed.Roles, p.role(n))
	}
	for _, n := range p.entries(fields["users"], "users") {
		seed.Users = append(seed.Users, p.user(n))
	}
	for _, n := range p.entries(fields["properties"], "properties") {
		seed.Properties = append(seed.Properties, p.property(n))
	}
	for _, n := range p.entries(fields["credentials"], "credentials") {
		seed.Credentials = append(seed.Credentials, p.credential(n))
	}
	return seed
}

func (p *parser) client(n *yaml.Node) store.SeedClient {
	f := p.mapping(n, "a client", "extId", "name")
	return store.SeedClient{
		ExtID: p.str(f["extId"], "extId"),
		Name:  p.str(f["name"], "name"),
		Line:  n.Line,
	}
}

func (p *parser) role(n *yaml.Node) store.SeedRole {
	f := p.mapping(n, "a role", "name", "rights")
	r := store.SeedRole{Name: p.str(f["name"], "name"), Line: n.Line}
	for _, right := range p.strList(f["rights"], "rights") {
		r.Rights = append(r.Rights, access.Right(right))
	}
	return r
}

func (p *parser) user(n *yaml.Node) store.SeedUser {
	f := p.mapping(n, "a user", "extId", "client", "loginId", "roles")
	u := store.SeedUser{
		ExtID:   p.str(f["extId"], "extId"),
		Client:  p.str(f["client"], "client"),
		LoginID: p.optStr(f["loginId"], "loginId"),
		Line:    n.Line,
	}
	for _, rn := range p.entries(f["roles"], "roles") {
		rf := p.mapping(rn, "a role assignment", "name", "clients")
		u.Roles = append(u.Roles, store.SeedRoleAssignment{
			Name:    p.str(rf["name"], "name"),
			Clients: p.strList(rf["clients"], "clients"),
			Line:    rn.Line,
		})
	}
	return u
}

func (p *parser) property(n *yaml.Node) store.SeedProperty {
	f := p.mapping(n, "a property definition",
		"name", "client", "type", "allowedValues", "stringMaxLen", "stringRegex",
		"uniquenessScope", "accessCreate", "accessModify", "description")
	return store.SeedProperty{
		Name:            p.str(f["name"], "name"),
		Client:          p.str(f["client"], "client"),
		Type:            p.str(f["type"], "type"),
		AllowedValues:   p.strList(f["allowedValues"], "allowedValues"),
		StringMaxLen:    p.optInt(f["stringMaxLen"], "stringMaxLen"),
		StringRegex:     p.optStr(f["stringRegex"], "stringRegex"),
		UniquenessScope: p.str(f["uniquenessScope"], "uniquenessScope"),
		AccessCreate:    p.str(f["accessCreate"], "accessCreate"),
		AccessModify:    p.str(f["accessModify"], "accessModify"),
		Description:     p.str(f["description"], "description"),
		Line:            n.Line,
	}
}

func (p *parser) credential(n *yaml.Node) store.SeedCredential {
	f := p.mapping(n, "a credential",
		"extId", "user", "identification", "stateName", "properties")
	return store.SeedCredential{
		ExtID:          p.str(f["extId"], "extId"),
		User:           p.str(f["user"], "user"),
		Identification: p.str(f["identification"], "identification"),
		StateName:      p.str(f["stateName"], "stateName"),
		Properties:     p.values(f["properties"]),
		Line:           n.Line,
	}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// kindName describes a node's kind in messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "a document"
}

// mapping returns the values of n's keys, which must be among keys. A null
// node is an empty mapping.
func (p *parser) mapping(n *yaml.Node, what string, keys ...string) map[string]*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}

	fields := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(keys, key.Value):
			p.errorf(key, "unknown key %q in %s; the keys are %s", key.Value, what, strings.Join(keys, ", "))
		case fields[key.Value] != nil:
			p.errorf(key, "key %q is repeated in %s", key.Value, what)
		default:
			fields[key.Value] = value
		}
	}
	return fields
}

// entries returns the items of the list n. A null or absent node is an
// empty list.
func (p *parser) entries(n *yaml.Node, key string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, not %s", key, kindName(n))
		return nil
	}
	return n.Content
}

// str returns the text of a scalar exactly as written, so that 007 stays
// 007. A null or absent node is "".
func (p *parser) str(n *yaml.Node, key string) string {
	s := p.optStr(n, key)
	if s == nil {
		return ""
	}
	return *s
}

func (p *parser) optStr(n *yaml.Node, key string) *string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a string, not %s", key, kindName(n))
		return nil
	}
	return &n.Value
}

func (p *parser) optInt(n *yaml.Node, key string) *int {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(n, "%s must be a whole number", key)
		return nil
	}

	var v int
	if err := n.Decode(&v); err != nil {
		p.errorf(n, "%s must be a whole number that fits in %d bits", key, strconv.IntSize)
		return nil
	}
	return &v
}

func (p *parser) strList(n *yaml.Node, key string) []string {
	var list []string
	for _, item := range p.entries(n, key) {
		item = resolve(item)
		if isNull(item) || item.Kind != yaml.ScalarNode {
			p.errorf(item, "each item of %s must be a string", key)
			continue
		}
		list = append(list, item.Value)
	}
	return list
}

// values returns a credential's property changes: a null value deletes
// the stored value, as in a PATCH request.
func (p *parser) values(n *yaml.Node) map[string]*string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "properties must be a mapping from property name to value, not %s", kindName(n))
		return nil
	}

	values := make(map[string]*string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], resolve(n.Content[i+1])
		if _, ok := values[key.Value]; ok {
			p.errorf(key, "property %q is repeated", key.Value)
			continue
		}
		if !isNull(value) && value.Kind != yaml.ScalarNode {
			p.errorf(value, "the value of property %q must be a string or null, not %s", key.Value, kindName(value))
			continue
		}
		values[key.Value] = p.optStr(value, key.Value)
	}
	return values
}
