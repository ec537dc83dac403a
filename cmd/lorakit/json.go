package main

import (
	"encoding/json"
	"io"
)

// writeJSON writes v to w as one JSON object on one line. <, > and & are
// left as they are: the outputs hold model text, not HTML.
func writeJSON(w io.Writer, v any) error {
	return newJSONEncoder(w).Encode(v)
}

// writeJSONIndented writes v to w as one indented JSON object, for the
// larger reports (analyze, demo) that people read as well as parse.
func writeJSONIndented(w io.Writer, v any) error {
	enc := newJSONEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
