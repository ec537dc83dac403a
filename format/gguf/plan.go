package gguf

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// layout is a planned file: its encoded header, the zeros that pad it to
// the alignment, and the size of each tensor's data.
type layout struct {
	header    []byte
	headerPad int64
	nbytes    []int64
	align     int64
}

// plan validates infos and md and encodes the header of the file they
// describe, with tensor data laid out in declaration order, each tensor at
// the next multiple of the alignment (as llama.cpp and gguf-py write it).
func plan(infos []format.TensorInfo, md format.Metadata) (*layout, error) {
	l := &layout{align: DefaultAlignment, nbytes: make([]int64, len(infos))}
	if err := checkMetadata(md, &l.align); err != nil {
		return nil, err
	}
	e := &encoder{}
	e.buf = append(e.buf, Magic...)
	e.u32(Version)
	e.u64(uint64(len(infos)))
	e.u64(uint64(len(md)))
	for _, kv := range md {
		e.str(kv.Key)
		if err := e.value(kv.Value, 0); err != nil {
			return nil, fmt.Errorf("key %q: %w", kv.Key, err)
		}
	}
	seen := make(map[string]bool, len(infos))
	var off int64
	for i, t := range infos {
		n, id, err := checkTensor(t)
		if err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("tensor %q: declared twice: %w", t.Name, format.ErrFormat)
		}
		seen[t.Name] = true
		l.nbytes[i] = n
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for j := len(t.Shape) - 1; j >= 0; j-- { // ne: innermost first
			e.u64(uint64(t.Shape[j]))
		}
		e.u32(uint32(id))
		e.u64(uint64(off))
		off += alignUp(n, l.align)
	}
	l.header = e.buf
	l.headerPad = alignUp(int64(len(e.buf)), l.align) - int64(len(e.buf))
	return l, nil
}

// checkMetadata rejects empty and duplicate keys and a general.alignment
// that is not a UINT32 power of two, which it stores in align.
func checkMetadata(md format.Metadata, align *int64) error {
	seen := make(map[string]bool, len(md))
	for _, kv := range md {
		if kv.Key == "" {
			return fmt.Errorf("empty metadata key: %w", format.ErrFormat)
		}
		if seen[kv.Key] {
			return fmt.Errorf("key %q: given twice: %w", kv.Key, format.ErrFormat)
		}
		seen[kv.Key] = true
		if kv.Key != KeyAlignment {
			continue
		}
		a, ok := kv.Value.(uint32)
		if !ok {
			return fmt.Errorf("key %q: has type %s, want UINT32 (uint32): %w", kv.Key, typeName(kv.Value), format.ErrFormat)
		}
		if !validAlignment(a) {
			return fmt.Errorf("key %q: alignment %d is not a power of two: %w", kv.Key, a, format.ErrFormat)
		}
		if a > MaxWriteAlignment {
			return fmt.Errorf("key %q: alignment %d is above the %d lorakit writes: %w", kv.Key, a, MaxWriteAlignment, format.ErrUnsupported)
		}
		*align = int64(a)
	}
	return nil
}

// checkTensor returns a tensor's data size and ggml type id, or why GGUF
// cannot hold it.
func checkTensor(t format.TensorInfo) (int64, int, error) {
	if len(t.Name) > MaxNameLen {
		return 0, 0, fmt.Errorf("tensor %q: name of %d bytes: %w", t.Name, len(t.Name), ErrNameTooLong)
	}
	id, ok := t.DType.GGMLType()
	if !ok {
		return 0, 0, fmt.Errorf("tensor %q: GGUF cannot store dtype %v: %w", t.Name, t.DType, format.ErrUnsupported)
	}
	if len(t.Shape) > MaxDims {
		return 0, 0, fmt.Errorf("tensor %q: shape %v has more than %d dimensions: %w", t.Name, t.Shape, MaxDims, format.ErrUnsupported)
	}
	n, err := t.NumBytes()
	if err != nil {
		return 0, 0, err
	}
	return n, id, nil
}

// bufferSize is the Writer's buffer: 1 MiB, or less for a smaller file.
func (l *layout) bufferSize() int {
	size := int64(len(l.header)) + l.headerPad
	for _, n := range l.nbytes {
		size += alignUp(n, l.align)
		if size >= 1<<20 {
			return 1 << 20
		}
	}
	return int(max(size, 4096))
}
