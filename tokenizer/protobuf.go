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

func (r *pbReader) fixed64() (uint64, error) {
	if len(r.b)-r.off < 8 {
		return 0, errTruncated
	}
	x := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return x, nil
}

func (r *pbReader) fixed32() (uint32, error) {
	if len(r.b)-r.off < 4 {
		return 0, errTruncated
	}
	x := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return x, nil
}

// parseMessage walks a message and calls field with each field's number,
// wire type and value (v for varint and fixed-size fields, b for
// length-delimited ones). Group wire types are refused.
func parseMessage(b []byte, field func(num, wire int, v uint64, b []byte) error) error {
	r := pbReader{b: b}
	for !r.done() {
		num, wire, err := r.tag()
		if err != nil {
			return err
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
		case wireFixed64:
			v, err = r.fixed64()
		case wireBytes:
			data, err = r.bytes()
		default:
			err = fmt.Errorf("unsupported wire type %d", wire)
		}
		if err == nil {
			err = field(num, wire, v, data)
		}
		if err != nil {
			return fmt.Errorf("field %d: %w", num, err)
		}
	}
	return nil
}

// wantWire checks a known field's wire type.
func wantWire(wire, want int) error {
	if wire != want {
		return fmt.Errorf("wire type %d, want %d", wire, want)
	}
	return nil
}
