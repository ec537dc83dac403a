package safetensors

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the small amount of JSON that safetensors needs: a strict
// scanner over the header bytes (what serde_json accepts, the Hugging Face
// reader's parser) and an encoder for strings that escapes exactly as
// serde_json does, so that headers come out byte-identical.
//
// encoding/json does not fit: it takes the last of duplicate keys without
// telling, loses the order of object keys, silently replaces invalid UTF-8
// and escapes <, > and & (serde_json does not).

// scanner walks a JSON text. Errors are *syntaxError with the byte offset.
type scanner struct {
	buf []byte
	pos int
}

// syntaxError is invalid JSON at a byte offset of the header.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at header byte %d: %s", e.off, e.msg)
}

func (s *scanner) fail(format string, args ...any) error {
	return &syntaxError{off: s.pos, msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips JSON whitespace.
func (s *scanner) skipSpace() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it (0 at the end).
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return 0
	}
	return s.buf[s.pos]
}

// expect consumes byte c after optional whitespace.
func (s *scanner) expect(c byte) error {
	if got := s.peek(); got != c || s.pos >= len(s.buf) {
		if s.pos >= len(s.buf) {
			return s.fail("expected %q, found end of header", c)
		}
		return s.fail("expected %q, found %q", c, got)
	}
	s.pos++
	return nil
}

// literal consumes the keyword lit ("null").
func (s *scanner) literal(lit string) bool {
	s.skipSpace()
	if len(s.buf)-s.pos >= len(lit) && string(s.buf[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// object calls member for each key of the object that starts at the next
// non-space byte; member must consume the value.
func (s *scanner) object(member func(key string, keyOff int) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		keyOff := s.pos
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key, keyOff); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}' after object member")
		}
	}
}

// uints parses an array of unsigned integers; it appends to dst.
func (s *scanner) uints(dst []int64) ([]int64, error) {
	if err := s.expect('['); err != nil {
		return nil, err
	}
	if s.peek() == ']' {
		s.pos++
		return dst, nil
	}
	for {
		v, err := s.uint()
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return dst, nil
		default:
			return nil, s.fail("expected ',' or ']' in array")
		}
	}
}

// uint parses a JSON number that is a non-negative integer fitting int64.
// Like serde_json deserializing a usize, it rejects fractions, exponents,
// negative numbers (even -0) and leading zeros.
func (s *scanner) uint() (int64, error) {
	s.skipSpace()
	start := s.pos
	if s.pos < len(s.buf) && s.buf[s.pos] == '-' {
		return 0, s.fail("negative number where an unsigned integer is required")
	}
	for s.pos < len(s.buf) && s.buf[s.pos] >= '0' && s.buf[s.pos] <= '9' {
		s.pos++
	}
	digits := s.buf[start:s.pos]
	if len(digits) == 0 {
		return 0, s.fail("expected an unsigned integer")
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, &syntaxError{start, "number with a leading zero"}
	}
	if s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case '.', 'e', 'E':
			return 0, s.fail("floating-point number where an unsigned integer is required")
		}
	}
	v, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, &syntaxError{start, fmt.Sprintf("integer %s out of range", digits)}
	}
	return v, nil
}

// str parses a JSON string and returns its value. The header was checked to
// be valid UTF-8 before scanning.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.pos
	// Fast path: no escapes.
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		if c == '"' {
			v := string(s.buf[start:s.pos])
			s.pos++
			return v, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", s.fail("control character %#02x in string", c)
		}
		s.pos++
	}
	out := append([]byte(nil), s.buf[start:s.pos]...)
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		switch {
		case c == '"':
			s.pos++
			return string(out), nil
		case c < 0x20:
			return "", s.fail("control character %#02x in string", c)
		case c != '\\':
			out = append(out, c)
			s.pos++
			continue
		}
		s.pos++ // the backslash
		if s.pos >= len(s.buf) {
			break
		}
		e := s.buf[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, err := s.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate must be followed by an escaped low one.
				if r >= 0xDC00 || len(s.buf)-s.pos < 2 || s.buf[s.pos] != '\\' || s.buf[s.pos+1] != 'u' {
					return "", s.fail("lone surrogate \\u%04X in string", r)
				}
				s.pos += 2
				r2, err := s.hex4()
				if err != nil {
					return "", err
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", s.fail("invalid surrogate pair in string")
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", s.fail("invalid escape \\%c in string", e)
		}
	}
	return "", s.fail("unterminated string")
}

func (s *scanner) hex4() (rune, error) {
	if len(s.buf)-s.pos < 4 {
		return 0, s.fail("truncated \\u escape")
	}
	var r rune
	for _, c := range s.buf[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, s.fail("invalid hex digit %q in \\u escape", c)
		}
	}
	s.pos += 4
	return r, nil
}

// appendString appends s as a JSON string, escaped as serde_json escapes:
// only '"', '\\' and control characters below 0x20 (\b \t \n \f \r by name,
// the rest as \u00xx with lower-case hex); everything else, non-ASCII
// included, verbatim. s must be valid UTF-8.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
