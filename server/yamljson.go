package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// yamlToJSON converts a YAML document to indented JSON and keeps the order
// of mapping keys, so that /openapi.json reads like openapi.yaml. It returns
// an error for what JSON cannot express: a key that is not a scalar, a merge
// key, or a number that is not finite.
func yamlToJSON(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}

	var compact bytes.Buffer
	if err := writeJSON(&compact, &doc); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("the YAML document is empty")
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		return writeObject(buf, n)
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		return writeScalar(buf, n)
	}
	return fmt.Errorf("line %d: unknown YAML node kind %d", n.Line, n.Kind)
}

func writeObject(buf *bytes.Buffer, n *yaml.Node) error {
	buf.WriteByte('{')
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: invalid key: JSON object keys must be strings, not collections", key.Line)
		}
		if key.ShortTag() == "!!merge" {
			return fmt.Errorf("line %d: merge keys (<<) are not supported", key.Line)
		}

		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeValue(buf, key.Value); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := writeJSON(buf, value); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// writeScalar writes null, booleans and numbers as their JSON values, and
// every other scalar, timestamps included, as the string written in the
// YAML.
func writeScalar(buf *bytes.Buffer, n *yaml.Node) error {
	var value any
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
		return nil
	case "!!bool", "!!int", "!!float":
		if err := n.Decode(&value); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		value = n.Value
	}
	if err := writeValue(buf, value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// writeValue writes v as JSON without escaping <, > and &, which the
// document's descriptions contain and JSON does not require escaped.
func writeValue(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
