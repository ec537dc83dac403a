package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A minimal protobuf wire-format reader: enough to walk SentencePiece's
// ModelProto without generated code. Every length is checked against the
// bytes that remain before it is used.

// Wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errTruncated = errors.New("truncated")

type pbReader struct {
	b   []byte
	off int
}

func (r *pbReader) done() bool { return r.off >= len(r.b) }

func (r *pbReader) varint() (uint64, error) {
	var x uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if r.off >= len(r.b) {
			return 0, errTruncated
		}
		c := r.b[r.off]
		r.off++
		if shift == 63 && c > 1 {
			return 0, errors.New("varint overflows 64 bits")
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x, nil
		}
	}
	return 0, errors.New("varint longer than 10 bytes")
}

// tag reads a field's number and wire type.
func (r *pbReader) tag() (int, int, error) {
	k, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	num := k >> 3
	if num == 0 || num > math.MaxInt32 {
		return 0, 0, fmt.Errorf("field number %d", num)
	}
	return int(num), int(k & 7), nil
}

func (r *pbReader) bytes() ([]byte, error) {
	n, err := r.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(r.b)-r.off)
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

func (r *pbReader) fixed32() (uint32, error) {
	if len(r.b)-r.off < 4 {
		return 0, errTruncated
	}
	x := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return x, nil
}

// skip passes over a field of the given wire type.
func (r *pbReader) skip(wire int) error {
	switch wire {
	case wireVarint:
		_, err := r.varint()
		return err
	case wireFixed64:
		if len(r.b)-r.off < 8 {
			return errTruncated
		}
		r.off += 8
		return nil
	case wireBytes:
		_, err := r.bytes()
		return err
	case wireFixed32:
		_, err := r.fixed32()
		return err
	}
	return fmt.Errorf("unsupported wire type %d", wire)
}

// pbField is one field handler of a message: the wire type it expects and
// what to do with the value (v for varints and fixed32, b for bytes).
type pbField struct {
	wire int
	read func(v uint64, b []byte) error
}

// parseMessage walks a message, calling the handler of each known field and
// skipping the rest. A known field with an unexpected wire type is an
// error.
func parseMessage(b []byte, fields map[int]pbField) error {
	r := pbReader{b: b}
	for !r.done() {
		num, wire, err := r.tag()
		if err != nil {
			return err
		}
		f, known := fields[num]
		if !known {
			if err := r.skip(wire); err != nil {
				return fmt.Errorf("field %d: %w", num, err)
			}
			continue
		}
		if wire != f.wire {
			return fmt.Errorf("field %d: wire type %d, want %d", num, wire, f.wire)
		}
		var v uint64
		var data []byte
		switch wire {
		case wireVarint:
			v, err = r.varint()
		case wireFixed32:
			var x uint32
			x, err = r.fixed32()
			v = uint64(x)
		case wireBytes:
			data, err = r.bytes()
		}
		if err == nil {
			err = f.read(v, data)
		}
		if err != nil {
			return fmt.Errorf("field %d: %w", num, err)
		}
	}
	return nil
}
