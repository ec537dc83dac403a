package gguf

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// Least encoded sizes, used to bound counts read from a file before
// anything is allocated for them.
const (
	minKVBytes     = 8 + 4 + 1     // empty key, type, one-byte value
	minTensorBytes = 8 + 4 + 4 + 8 // empty name, n_dims 0, type, offset
	headerBytes    = 4 + 4 + 8 + 8 // magic, version, tensor count, KV count
)

// parse reads and validates the header of a GGUF file of size bytes.
func parse(name string, ra io.ReaderAt, size int64) (*Reader, error) {
	r := &Reader{name: name, ra: ra, size: size}
	d := newDecoder(ra, size)
	nTensors, nKV, err := r.readPreamble(d)
	if err != nil {
		return nil, err
	}
	if err := r.readMetadata(d, nKV); err != nil {
		return nil, err
	}
	if err := r.readTensorInfos(d, nTensors); err != nil {
		return nil, err
	}
	r.dataStart = alignUp(d.pos, r.alignment)
	if err := r.checkLayout(); err != nil {
		return nil, err
	}
	return r, nil
}

// fail wraps err with the file name and context.
func (r *Reader) fail(context string, err error) error {
	if errors.Is(err, errTruncated) {
		err = fmt.Errorf("truncated: %w", format.ErrFormat)
	}
	if context != "" {
		return fmt.Errorf("gguf: %s: %s: %w", r.name, context, err)
	}
	return fmt.Errorf("gguf: %s: %w", r.name, err)
}

// readPreamble reads magic, version and the two counts.
func (r *Reader) readPreamble(d *decoder) (nTensors, nKV int64, err error) {
	magic, err := d.next(4)
	if err != nil || string(magic) != Magic {
		return 0, 0, r.fail("", fmt.Errorf("not a GGUF file (no %q magic): %w", Magic, format.ErrFormat))
	}
	v, err := d.u32()
	if err != nil {
		return 0, 0, r.fail("version", err)
	}
	switch {
	case v == 0:
		return 0, 0, r.fail("", fmt.Errorf("bad GGUF version 0: %w", format.ErrFormat))
	case v&0xFFFF == 0:
		return 0, 0, r.fail("", fmt.Errorf("version field %#x: a big-endian file, which lorakit does not read: %w", v, format.ErrUnsupported))
	case v == 1:
		return 0, 0, r.fail("", fmt.Errorf("GGUF version 1 is obsolete and not supported (ggml no longer reads it either): %w", format.ErrUnsupported))
	case v > Version:
		return 0, 0, r.fail("", fmt.Errorf("GGUF version %d is newer than the supported %d: %w", v, Version, format.ErrUnsupported))
	}
	r.version = int(v)
	if nTensors, err = d.count(minTensorBytes); err != nil {
		return 0, 0, r.fail("tensor count", err)
	}
	if nKV, err = d.count(minKVBytes); err != nil {
		return 0, 0, r.fail("metadata count", err)
	}
	if nKV > maxKVs {
		return 0, 0, r.fail("metadata count", fmt.Errorf("%d entries, more than the %d lorakit reads: %w", nKV, maxKVs, format.ErrUnsupported))
	}
	return nTensors, nKV, nil
}

// readMetadata reads nKV key/value pairs and the alignment.
func (r *Reader) readMetadata(d *decoder, nKV int64) error {
	r.md = make(format.Metadata, 0, min(nKV, 1<<10))
	seen := make(map[string]bool, min(nKV, 1<<10))
	for i := range nKV {
		key, err := d.str()
		if err != nil {
			return r.fail(fmt.Sprintf("metadata key %d", i), err)
		}
		ctx := fmt.Sprintf("key %q", key)
		if key == "" {
			return r.fail(fmt.Sprintf("metadata key %d", i), fmt.Errorf("empty key: %w", format.ErrFormat))
		}
		if seen[key] {
			return r.fail(ctx, fmt.Errorf("duplicate key: %w", format.ErrFormat))
		}
		seen[key] = true
		t, err := d.u32()
		if err != nil {
			return r.fail(ctx, err)
		}
		if valueType(t) >= numValueTypes {
			return r.fail(ctx, fmt.Errorf("invalid value type %d: %w", t, format.ErrFormat))
		}
		v, err := d.value(valueType(t), 0)
		if err != nil {
			return r.fail(ctx, err)
		}
		r.md = append(r.md, format.KV{Key: key, Value: v})
	}
	r.alignment = DefaultAlignment
	if v, ok := r.md.Get(KeyAlignment); ok {
		a, isU32 := v.(uint32)
		if !isU32 {
			return r.fail(fmt.Sprintf("key %q", KeyAlignment), fmt.Errorf("has type %s, want UINT32: %w", typeName(v), format.ErrFormat))
		}
		if !validAlignment(a) {
			return r.fail(fmt.Sprintf("key %q", KeyAlignment), fmt.Errorf("alignment %d is not a power of two: %w", a, format.ErrFormat))
		}
		r.alignment = int64(a)
	}
	return nil
}

// readTensorInfos reads nTensors tensor infos: name, dims, type, offset.
func (r *Reader) readTensorInfos(d *decoder, nTensors int64) error {
	r.infos = make([]format.TensorInfo, 0, nTensors) // bounded: count checked against the file
	r.offsets = make([]int64, 0, nTensors)
	r.nbytes = make([]int64, 0, nTensors)
	r.index = make(map[string]int, nTensors)
	for i := range nTensors {
		name, err := d.str()
		if err != nil {
			return r.fail(fmt.Sprintf("tensor %d name", i), err)
		}
		ctx := fmt.Sprintf("tensor %q", name)
		if len(name) > MaxNameLen {
			return r.fail(fmt.Sprintf("tensor %d %q", i, name[:MaxNameLen]+"..."), fmt.Errorf("name of %d bytes: %w", len(name), ErrNameTooLong))
		}
		if _, dup := r.index[name]; dup {
			return r.fail(ctx, fmt.Errorf("duplicate tensor name: %w", format.ErrFormat))
		}
		info, off, err := readTensorInfo(d, name)
		if err != nil {
			return r.fail(ctx, err)
		}
		n, err := info.NumBytes()
		if err != nil { // names the tensor already
			if !errors.Is(err, format.ErrFormat) {
				err = fmt.Errorf("%w (%w)", err, format.ErrFormat)
			}
			return r.fail("", err)
		}
		r.index[name] = len(r.infos)
		r.infos = append(r.infos, info)
		r.offsets = append(r.offsets, off)
		r.nbytes = append(r.nbytes, n)
	}
	return nil
}

// readTensorInfo reads one tensor's dims, type and relative offset, after
// its name. Shape is ne reversed: outermost first.
func readTensorInfo(d *decoder, name string) (format.TensorInfo, int64, error) {
	info := format.TensorInfo{Name: name}
	nDims, err := d.u32()
	if err != nil {
		return info, 0, err
	}
	if nDims > MaxDims {
		return info, 0, fmt.Errorf("%d dimensions, more than %d: %w", nDims, MaxDims, format.ErrFormat)
	}
	info.Shape = make([]int64, nDims)
	for j := range int(nDims) {
		ne, err := d.u64()
		if err != nil {
			return info, 0, err
		}
		if int64(ne) < 0 {
			return info, 0, fmt.Errorf("dimension %d is %d: %w", j, int64(ne), format.ErrFormat)
		}
		info.Shape[int(nDims)-1-j] = int64(ne)
	}
	typ, err := d.u32()
	if err != nil {
		return info, 0, err
	}
	dt, ok := format.FromGGMLType(int(int32(typ)))
	if !ok {
		return info, 0, fmt.Errorf("ggml type %d is not one lorakit knows: %w", int32(typ), format.ErrUnsupported)
	}
	info.DType = dt
	off, err := d.u64()
	if err != nil {
		return info, 0, err
	}
	if int64(off) < 0 {
		return info, 0, fmt.Errorf("data offset %d out of range: %w", off, format.ErrFormat)
	}
	return info, int64(off), nil
}

// checkLayout turns relative offsets into absolute ones and checks that
// every tensor is aligned, lies inside the file and overlaps no other.
// (ggml also insists that tensors follow each other in declaration order;
// like gguf-py's reader, lorakit accepts any order and gaps.)
func (r *Reader) checkLayout() error {
	if len(r.infos) > 0 && r.dataStart > r.size {
		return r.fail("", fmt.Errorf("data section at %d starts past the end of the %d-byte file: %w", r.dataStart, r.size, format.ErrFormat))
	}
	for i, info := range r.infos {
		off := r.offsets[i]
		if off%r.alignment != 0 {
			return r.fail(fmt.Sprintf("tensor %q", info.Name), fmt.Errorf("data offset %d is not a multiple of the alignment %d: %w", off, r.alignment, format.ErrFormat))
		}
		if off > r.size-r.dataStart || r.nbytes[i] > r.size-r.dataStart-off {
			return r.fail(fmt.Sprintf("tensor %q", info.Name), fmt.Errorf("data [%d, +%d) runs past the end of the file (%d data bytes): %w",
				off, r.nbytes[i], r.size-r.dataStart, format.ErrFormat))
		}
		r.offsets[i] = r.dataStart + off
	}
	order := make([]int, len(r.infos))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return r.offsets[order[a]] < r.offsets[order[b]] })
	last := -1 // the non-empty tensor that ends furthest so far
	for _, cur := range order {
		if r.nbytes[cur] == 0 {
			continue
		}
		if last >= 0 && r.offsets[last]+r.nbytes[last] > r.offsets[cur] {
			return r.fail(fmt.Sprintf("tensor %q", r.infos[cur].Name), fmt.Errorf("data overlaps tensor %q: %w", r.infos[last].Name, format.ErrFormat))
		}
		last = cur
	}
	return nil
}
