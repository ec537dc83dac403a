package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
)

// writeJSON writes v to w as one JSON object on one line. <, > and & are
// left as they are: the outputs hold model text, not HTML. Non-finite
// floats, which JSON numbers cannot hold, are written as the strings
// "NaN", "Infinity" and "-Infinity" (see jsonSafe).
func writeJSON(w io.Writer, v any) error {
	return encodeJSON(w, v, false)
}

// writeJSONIndented writes v to w as one indented JSON object, for the
// larger reports (analyze, demo) that people read as well as parse.
func writeJSONIndented(w io.Writer, v any) error {
	return encodeJSON(w, v, true)
}

func encodeJSON(w io.Writer, v any, indent bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	err := enc.Encode(v)
	var unsupported *json.UnsupportedValueError
	if errors.As(err, &unsupported) {
		buf.Reset()
		err = enc.Encode(jsonSafe(reflect.ValueOf(v)))
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// jsonSafe returns v as plain JSON values (maps, slices, numbers, strings)
// with the same field names encoding/json would use, every NaN or ±Inf
// float replaced by a string naming it.
func jsonSafe(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if m, ok := v.Interface().(json.Marshaler); ok && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		if b, err := m.MarshalJSON(); err == nil {
			return json.RawMessage(b)
		}
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "Infinity"
		case math.IsInf(f, -1):
			return "-Infinity"
		}
		if v.Kind() == reflect.Float32 {
			return float32(f)
		}
		return f
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonSafe(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // []byte: base64, as encoding/json writes it
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonSafe(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			k, _ := json.Marshal(it.Key().Interface())
			key := strings.Trim(string(k), `"`)
			out[key] = jsonSafe(it.Value())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		safeFields(v, out)
		return out
	}
	return v.Interface()
}

// safeFields adds the JSON fields of struct v to out, embedded structs'
// fields flattened as encoding/json does.
func safeFields(v reflect.Value, out map[string]any) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			safeFields(v.Field(i), out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitempty,") && fv.IsZero() {
			continue
		}
		out[name] = jsonSafe(fv)
	}
}
