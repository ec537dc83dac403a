package format

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/lorakit/lorakit/format/half"
)

// BlockCodec converts whole blocks of a ggml block type. Decode turns
// len(src)/BlockBytes blocks into len(dst) = blocks*BlockSize float32s;
// Encode is the reverse and is nil where only decoding exists.
type BlockCodec struct {
	Decode func(dst []float32, src []byte) error
	Encode func(dst []byte, src []float32) error
}

var (
	codecsMu sync.RWMutex
	codecs   = map[DType]BlockCodec{}
)

// RegisterBlockCodec installs the codec for a block type (the ggml codecs
// package does this in its init).
func RegisterBlockCodec(dt DType, c BlockCodec) {
	codecsMu.Lock()
	codecs[dt] = c
	codecsMu.Unlock()
}

func codec(dt DType) BlockCodec {
	codecsMu.RLock()
	defer codecsMu.RUnlock()
	return codecs[dt]
}

// CanDecode reports whether ToFloat32 can decode dt.
func CanDecode(dt DType) bool {
	if dt.IsBlock() {
		return codec(dt).Decode != nil
	}
	return dt.Valid()
}

// CanEncode reports whether FromFloat32 can encode dt.
func CanEncode(dt DType) bool {
	if dt.IsBlock() {
		return codec(dt).Encode != nil
	}
	return dt.Valid()
}

// chunk bounds the scratch buffers used when input bytes are not aligned.
const chunk = 4096

// checkSize checks that nb bytes hold exactly n elements of dt; verb
// ("decoding", "encoding") starts the error, which wraps ErrShape.
func checkSize(verb string, n, nb int, dt DType) error {
	want, err := dt.RowBytes(int64(n))
	if err != nil {
		return err
	}
	if int64(nb) != want {
		return fmt.Errorf("%s %d %v elements: have %d bytes, want %d: %w", verb, n, dt, nb, want, ErrShape)
	}
	return nil
}

// ToFloat32 decodes len(dst) elements of type dt from src (little-endian
// bytes, exactly the elements' size) into dst. Integers are converted to the
// nearest float32; BOOL gives 0 or 1.
func ToFloat32(dst []float32, src []byte, dt DType) error {
	if err := checkSize("decoding", len(dst), len(src), dt); err != nil {
		return err
	}
	switch dt {
	case F32:
		if f, ok := asFloat32(src); ok {
			copy(dst, f)
			break
		}
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		forUint16(src, func(off int, u []uint16) { half.F16ToF32(dst[off:off+len(u)], u) })
	case BF16:
		forUint16(src, func(off int, u []uint16) { half.BF16ToF32(dst[off:off+len(u)], u) })
	case F8_E4M3:
		half.F8E4M3ToF32(dst, src)
	case F8_E5M2:
		half.F8E5M2ToF32(dst, src)
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	default:
		if decodeInts(dst, src, dt) {
			break
		}
		c := codec(dt)
		if c.Decode == nil {
			return fmt.Errorf("decoding %v: no codec: %w", dt, ErrUnsupported)
		}
		return c.Decode(dst, src)
	}
	return nil
}

// decodeInts decodes the integer element types (I8 ... U64) and BOOL (0 or
// 1) into dst, each value rounded to the nearest F, and reports whether dt
// was one of them. src holds exactly len(dst) elements.
func decodeInts[F float32 | float64](dst []F, src []byte, dt DType) bool {
	switch dt {
	case I8:
		for i := range dst {
			dst[i] = F(int8(src[i]))
		}
	case U8:
		for i := range dst {
			dst[i] = F(src[i])
		}
	case BOOL:
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	case I16:
		for i := range dst {
			dst[i] = F(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	case U16:
		for i := range dst {
			dst[i] = F(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case I32:
		for i := range dst {
			dst[i] = F(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case U32:
		for i := range dst {
			dst[i] = F(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case I64:
		for i := range dst {
			dst[i] = F(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case U64:
		for i := range dst {
			dst[i] = F(binary.LittleEndian.Uint64(src[8*i:]))
		}
	default:
		return false
	}
	return true
}

// FromFloat32 encodes src as type dt into dst (exactly the elements' size).
// Floats round to nearest even; integers truncate toward zero and saturate,
// NaN giving 0; BOOL is 1 for any non-zero value.
func FromFloat32(dst []byte, src []float32, dt DType) error {
	if err := checkSize("encoding", len(src), len(dst), dt); err != nil {
		return err
	}
	switch dt {
	case F32:
		if f, ok := asFloat32(dst); ok {
			copy(f, src)
			break
		}
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		putUint16(dst, len(src), func(off int, u []uint16) { half.F32ToF16(u, src[off:off+len(u)]) })
	case BF16:
		putUint16(dst, len(src), func(off int, u []uint16) { half.F32ToBF16(u, src[off:off+len(u)]) })
	case F8_E4M3:
		half.F32ToF8E4M3(dst, src)
	case F8_E5M2:
		half.F32ToF8E5M2(dst, src)
	case F64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(float64(v)))
		}
	case BOOL:
		for i, v := range src {
			dst[i] = 0
			if v != 0 {
				dst[i] = 1
			}
		}
	case I8:
		for i, v := range src {
			dst[i] = uint8(satInt(v, 8))
		}
	case U8:
		for i, v := range src {
			dst[i] = uint8(satUint(v, 8))
		}
	case I16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(satInt(v, 16)))
		}
	case U16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(satUint(v, 16)))
		}
	case I32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], uint32(satInt(v, 32)))
		}
	case U32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], uint32(satUint(v, 32)))
		}
	case I64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], uint64(satInt(v, 64)))
		}
	case U64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], satUint(v, 64))
		}
	default:
		c := codec(dt)
		if c.Encode == nil {
			return fmt.Errorf("encoding %v: no quantizer: %w", dt, ErrUnsupported)
		}
		return c.Encode(dst, src)
	}
	return nil
}

// satInt truncates v toward zero and clamps it to a signed integer of the
// given width; NaN gives 0.
func satInt(v float32, bits uint) int64 {
	f := math.Trunc(float64(v))
	lim := math.Ldexp(1, int(bits)-1) // 2^(bits-1), exact in float64
	switch {
	case f != f:
		return 0
	case f >= lim:
		return int64(uint64(1)<<(bits-1) - 1)
	case f < -lim:
		return -int64(uint64(1) << (bits - 1))
	}
	return int64(f)
}

// satUint truncates v toward zero and clamps it to an unsigned integer of
// the given width; NaN and negatives give 0.
func satUint(v float32, bits uint) uint64 {
	f := math.Trunc(float64(v))
	lim := math.Ldexp(1, int(bits)) // 2^bits
	switch {
	case !(f > 0):
		return 0
	case f >= lim:
		return uint64(1)<<(bits-1)<<1 - 1
	}
	return uint64(f)
}

// forUint16 calls fn over src viewed as little-endian uint16s, in place
// when src is aligned, otherwise through a bounded scratch buffer.
func forUint16(src []byte, fn func(off int, u []uint16)) {
	n := len(src) / 2
	if n == 0 {
		return
	}
	if uintptr(unsafe.Pointer(&src[0]))%2 == 0 && littleEndian {
		fn(0, unsafe.Slice((*uint16)(unsafe.Pointer(&src[0])), n))
		return
	}
	var tmp [chunk]uint16
	for off := 0; off < n; off += chunk {
		m := min(chunk, n-off)
		for i := range m {
			tmp[i] = binary.LittleEndian.Uint16(src[2*(off+i):])
		}
		fn(off, tmp[:m])
	}
}

// putUint16 lets fn fill n uint16s that end up little-endian in dst.
func putUint16(dst []byte, n int, fn func(off int, u []uint16)) {
	if n == 0 {
		return
	}
	if uintptr(unsafe.Pointer(&dst[0]))%2 == 0 && littleEndian {
		fn(0, unsafe.Slice((*uint16)(unsafe.Pointer(&dst[0])), n))
		return
	}
	var tmp [chunk]uint16
	for off := 0; off < n; off += chunk {
		m := min(chunk, n-off)
		fn(off, tmp[:m])
		for i := range m {
			binary.LittleEndian.PutUint16(dst[2*(off+i):], tmp[i])
		}
	}
}

// asFloat32 views b as float32s when the host is little-endian and b is
// 4-byte aligned (always, for buffers lorakit allocates and for tensors at
// aligned file offsets).
func asFloat32(b []byte) ([]float32, bool) {
	if len(b) < 4 || !littleEndian || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4), true
}

// Float32s views little-endian float32 bytes as a []float32 without
// copying when the host and alignment allow (ok false otherwise). The
// view aliases b.
func Float32s(b []byte) (f []float32, ok bool) { return asFloat32(b) }

// littleEndian reports the host byte order.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// ToFloat64 decodes like ToFloat32 but keeps F64 and 64-bit integers at
// full precision (for comparisons).
func ToFloat64(dst []float64, src []byte, dt DType) error {
	if err := checkSize("decoding", len(dst), len(src), dt); err != nil {
		return err
	}
	if dt == F64 {
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
		return nil
	}
	if decodeInts(dst, src, dt) {
		return nil
	}
	// Everything else is exact in float32: decode in block-aligned pieces.
	step := int64(dt.BlockSize()) * 1024
	tmp := make([]float32, min(int64(len(dst)), step))
	bytesPerStep, _ := dt.RowBytes(step)
	for off := int64(0); off < int64(len(dst)); off += step {
		m := min(step, int64(len(dst))-off)
		nb, _ := dt.RowBytes(m)
		b0 := off / step * bytesPerStep
		if err := ToFloat32(tmp[:m], src[b0:b0+nb], dt); err != nil {
			return err
		}
		for i, v := range tmp[:m] {
			dst[off+int64(i)] = float64(v)
		}
	}
	return nil
}
