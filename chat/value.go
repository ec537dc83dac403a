package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ardanlabs/jinja"
)

// maxJSONDepth bounds the nesting of JSON handed to a template (messages,
// tools, --var values), so hostile input cannot exhaust the stack.
const maxJSONDepth = 64

// jsonValue converts one JSON document to a template value, keeping the key
// order of every object (Python's json.loads and JavaScript's JSON.parse
// keep it too, and tojson writes keys back in that order). Integers stay
// integers and other numbers become floats, as in Python.
func jsonValue(raw []byte) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return jinja.Undefined(), err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jinja.Undefined(), fmt.Errorf("offset %d: data after the JSON value", dec.InputOffset())
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (jinja.Value, error) {
	if depth > maxJSONDepth {
		return jinja.Undefined(), fmt.Errorf("offset %d: JSON nested deeper than %d", dec.InputOffset(), maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return jinja.Undefined(), err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return jinja.Undefined(), err
				}
				items = append(items, v)
			}
			if _, err := dec.Token(); err != nil {
				return jinja.Undefined(), err
			}
			return jinja.NewList(items), nil
		}
		d := jinja.NewDict()
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return jinja.Undefined(), err
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return jinja.Undefined(), err
			}
			d.AsDict().Set(k.(string), v)
		}
		if _, err := dec.Token(); err != nil {
			return jinja.Undefined(), err
		}
		return d, nil
	case string:
		return jinja.NewString(t), nil
	case json.Number:
		return jinja.FromGoValue(t), nil
	case bool:
		return jinja.NewBool(t), nil
	default: // nil
		return jinja.None(), nil
	}
}

// goValue converts a Go value for a template variable: json.RawMessage is
// decoded in key order, anything else goes through jinja.FromGoValue.
func goValue(v any) (jinja.Value, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return jsonValue(raw)
	}
	return jinja.FromGoValue(v), nil
}
