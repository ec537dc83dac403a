package safetensors

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/lorakit/lorakit/format"
)

// MaxHeaderBytes is the largest header the reference reader and writer
// accept (safetensors' MAX_HEADER_SIZE).
const MaxHeaderBytes = 100_000_000

// metadataKey is the header key of the string-to-string metadata.
const metadataKey = "__metadata__"

// entry is one tensor of a parsed header.
type entry struct {
	info       format.TensorInfo
	begin, end int64 // data_offsets, relative to the start of the data
}

// header is a parsed and validated header.
type header struct {
	entries []entry // in data offset order
	md      format.Metadata
}

// headerLength decodes and checks the 8-byte length prefix of a file of
// size bytes. It returns the header length n; the data starts at 8+n.
func headerLength(prefix []byte, size int64) (int64, error) {
	if size < 8 || len(prefix) < 8 {
		return 0, fmt.Errorf("%d bytes is too small for a header: %w", size, format.ErrFormat)
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > MaxHeaderBytes {
		hint := ""
		if looksLikeText(prefix[:8]) {
			hint = " (the file starts with text: a Git LFS pointer or an HTML page?)"
		}
		return 0, fmt.Errorf("header length %d is over the %d-byte limit%s: %w", n, MaxHeaderBytes, hint, format.ErrFormat)
	}
	if int64(n) > size-8 {
		return 0, fmt.Errorf("header length %d runs past the end of the %d-byte file: %w", n, size, format.ErrFormat)
	}
	return int64(n), nil
}

func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// parseHeader parses the JSON header and validates it against a data
// section of dataLen bytes, with the reference reader's rules: a JSON object
// (valid UTF-8) of tensor entries with exactly dtype, shape and
// data_offsets, plus an optional __metadata__ object of strings (or null);
// no duplicate names; data offsets contiguous from 0 once sorted, each
// covering exactly elements × element size bytes, the last ending at the
// end of the file.
func parseHeader(buf []byte, dataLen int64) (*header, error) {
	if !utf8.Valid(buf) {
		return nil, fmt.Errorf("header is not valid UTF-8: %w", format.ErrFormat)
	}
	h, err := scanHeader(buf)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: %w", err, format.ErrFormat)
		}
		return nil, err
	}
	if err := h.validate(dataLen); err != nil {
		return nil, err
	}
	return h, nil
}

// scanHeader turns the JSON into entries (in file order) and metadata.
func scanHeader(buf []byte) (*header, error) {
	s := &scanner{buf: buf}
	h := &header{}
	seen := make(map[string]bool)
	sawMetadata := false
	err := s.object(func(key string, keyOff int) error {
		if key == metadataKey {
			if sawMetadata {
				return &syntaxError{keyOff, "duplicate __metadata__"}
			}
			sawMetadata = true
			md, err := s.metadata()
			h.md = md
			return err
		}
		if seen[key] {
			return fmt.Errorf("tensor %q: duplicate tensor name: %w", key, format.ErrFormat)
		}
		seen[key] = true
		e, err := s.tensor(key)
		if err != nil {
			return err
		}
		h.entries = append(h.entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.skipSpace(); s.pos < len(s.buf) {
		return nil, s.fail("data after the header object")
	}
	return h, nil
}

// metadata parses the value of __metadata__: null, or an object of strings.
// A repeated key keeps its first position and its last value, as the
// reference's hash map does.
func (s *scanner) metadata() (format.Metadata, error) {
	if s.literal("null") {
		return nil, nil
	}
	md := format.Metadata{}
	at := make(map[string]int)
	err := s.object(func(key string, _ int) error {
		if s.peek() != '"' {
			return s.fail("__metadata__ value of %q is not a string", key)
		}
		v, err := s.str()
		if err != nil {
			return err
		}
		if i, dup := at[key]; dup {
			md[i].Value = v
			return nil
		}
		at[key] = len(md)
		md = append(md, format.KV{Key: key, Value: v})
		return nil
	})
	return md, err
}

// tensor parses one tensor entry: exactly dtype, shape and data_offsets.
func (s *scanner) tensor(name string) (entry, error) {
	e := entry{info: format.TensorInfo{Name: name}}
	var dtypeName string
	var have [3]bool
	var offsets []int64
	if s.peek() != '{' {
		return e, s.fail("tensor %q: entry is not an object", name)
	}
	err := s.object(func(key string, keyOff int) error {
		var i int
		switch key {
		case "dtype":
			i = 0
		case "shape":
			i = 1
		case "data_offsets":
			i = 2
		default:
			return &syntaxError{keyOff, fmt.Sprintf("tensor %q: unknown field %q", name, key)}
		}
		if have[i] {
			return &syntaxError{keyOff, fmt.Sprintf("tensor %q: duplicate field %q", name, key)}
		}
		have[i] = true
		var err error
		switch i {
		case 0:
			dtypeName, err = s.str()
		case 1:
			e.info.Shape, err = s.uints([]int64{})
		case 2:
			offsets, err = s.uints(nil)
			if err == nil && len(offsets) != 2 {
				err = s.fail("tensor %q: data_offsets has %d values, want 2", name, len(offsets))
			}
		}
		return err
	})
	if err != nil {
		return e, err
	}
	for i, f := range []string{"dtype", "shape", "data_offsets"} {
		if !have[i] {
			return e, s.fail("tensor %q: missing field %q", name, f)
		}
	}
	if e.info.DType, err = parseDType(dtypeName); err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	e.begin, e.end = offsets[0], offsets[1]
	return e, nil
}

// validate sorts the entries by data offsets and checks that they tile the
// data section exactly.
func (h *header) validate(dataLen int64) error {
	slices.SortStableFunc(h.entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	var pos int64
	prev := ""
	for _, e := range h.entries {
		name := e.info.Name
		switch {
		case e.end < e.begin:
			return fmt.Errorf("tensor %q: data_offsets [%d %d] end before they begin: %w", name, e.begin, e.end, format.ErrFormat)
		case e.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d %d] overlap tensor %q, which ends at %d: %w", name, e.begin, e.end, prev, pos, format.ErrFormat)
		case e.begin > pos && prev == "":
			return fmt.Errorf("tensor %q: data_offsets [%d %d] leave a gap at the start of the data: %w", name, e.begin, e.end, format.ErrFormat)
		case e.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d %d] leave a gap after tensor %q, which ends at %d: %w", name, e.begin, e.end, prev, pos, format.ErrFormat)
		}
		n, err := e.info.NumBytes()
		if err != nil {
			return err // overflow: wraps ErrFormat
		}
		if e.end-e.begin != n {
			return fmt.Errorf("tensor %q: data_offsets [%d %d] but %v %v needs %d bytes: %w",
				name, e.begin, e.end, e.info.DType, e.info.Shape, n, format.ErrFormat)
		}
		if e.end > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d %d] run past the end of the %d data bytes: %w",
				name, e.begin, e.end, dataLen, format.ErrFormat)
		}
		pos, prev = e.end, name
	}
	if pos != dataLen {
		return fmt.Errorf("%d bytes after the last tensor's data (the reference reader rejects files not fully covered): %w",
			dataLen-pos, format.ErrFormat)
	}
	return nil
}
