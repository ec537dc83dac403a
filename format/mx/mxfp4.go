package mx

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// BlockSize is the number of elements one scale covers.
const BlockSize = 32

// ggmlBlockBytes is the size of ggml's block_mxfp4.
const ggmlBlockBytes = 1 + BlockSize/2

// e2m1 is the value of each 4-bit E2M1 code (sign in bit 3).
var e2m1 = func() [16]float32 {
	var t [16]float32
	for c := range 16 {
		e, m := c>>1&3, float64(c&1)
		v := m / 2 // subnormal: 0 or 0.5
		if e > 0 {
			v = math.Ldexp(1+m/2, e-1)
		}
		if c&8 != 0 {
			v = -v
		}
		t[c] = float32(v)
	}
	return t
}()

// E2M1 returns the value of a 4-bit E2M1 code (the low 4 bits of c).
func E2M1(c uint8) float32 { return e2m1[c&15] }

// E8M0 returns the value of an E8M0 scale code: 2^(c-127), NaN for 0xFF.
func E8M0(c uint8) float32 {
	if c == 0xFF {
		return float32(math.NaN())
	}
	return float32(math.Ldexp(1, int(c)-127))
}

// ggmlScale is ggml's GGML_E8M0_TO_FP32_HALF(e) doubled: 2^(e-127) for
// every e, 0xFF included (2^128 would overflow: ggml's half is 2^127 and
// its table doubled, so the product is E2M1·2^128 computed as
// (2·E2M1)·2^127).
func ggmlHalf(e uint8) float32 { return float32(math.Ldexp(1, int(e)-128)) }

// doubled is ggml's kvalues_mxfp4: 2·E2M1, exact small integers.
var doubled = func() [16]float32 {
	var t [16]float32
	for c := range 16 {
		t[c] = 2 * e2m1[c]
	}
	return t
}()

// DecodeGGML decodes len(src)/17 ggml MXFP4 blocks into dst (32 values a
// block), as ggml's dequantize_row_mxfp4 does:
//
//	dst[32i+j] = kvalues[qs[j]&15]·2^(e-128), dst[32i+j+16] = kvalues[qs[j]>>4]·2^(e-128)
func DecodeGGML(dst []float32, src []byte) error {
	if len(src)%ggmlBlockBytes != 0 || len(dst) != len(src)/ggmlBlockBytes*BlockSize {
		return fmt.Errorf("mx: %d bytes of MXFP4 blocks for %d values: %w", len(src), len(dst), format.ErrShape)
	}
	for i := 0; i < len(src)/ggmlBlockBytes; i++ {
		b := src[i*ggmlBlockBytes:][:ggmlBlockBytes]
		d := ggmlHalf(b[0])
		y := dst[i*BlockSize:][:BlockSize]
		for j, q := range b[1:] {
			y[j] = doubled[q&15] * d
			y[j+16] = doubled[q>>4] * d
		}
	}
	return nil
}

// EncodeGGML quantizes len(src) values (a multiple of 32) into ggml MXFP4
// blocks as ggml's quantize_row_mxfp4_ref does: e = floor(log2(amax)) - 2
// + 127 (0 for an all-zero block), then each value's nearest doubled-E2M1
// code times 2^(e-128), the first on ties.
func EncodeGGML(dst []byte, src []float32) error {
	if len(src)%BlockSize != 0 || len(dst) != len(src)/BlockSize*ggmlBlockBytes {
		return fmt.Errorf("mx: %d values into %d bytes of MXFP4 blocks: %w", len(src), len(dst), format.ErrShape)
	}
	for i := 0; i < len(src)/BlockSize; i++ {
		x := src[i*BlockSize:][:BlockSize]
		var amax float32
		for _, v := range x {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		var e uint8
		if amax > 0 {
			// ggml: (uint8_t)(floorf(log2f(amax)) - 2 + 127)
			e = uint8(int(math.Floor(float64(log2f(amax)))) - 2 + 127)
		}
		d := ggmlHalf(e)
		b := dst[i*ggmlBlockBytes:][:ggmlBlockBytes]
		b[0] = e
		for j := range BlockSize / 2 {
			b[1+j] = nearest(x[j], d) | nearest(x[j+16], d)<<4
		}
	}
	return nil
}

// log2f is C's log2f for the exponent ggml floors: exact for powers of two
// and never across an integer otherwise, as float64 log2 of a float32 is.
func log2f(x float32) float32 { return float32(math.Log2(float64(x))) }

// nearest is ggml's best_index_mxfp4: the code whose doubled value times d
// is closest to x in float32, the lowest code on ties.
func nearest(x, d float32) uint8 {
	best, bestErr := 0, float32(math.Abs(float64(doubled[0]*d-x)))
	for c := 1; c < 16; c++ {
		if err := float32(math.Abs(float64(doubled[c]*d - x))); err < bestErr {
			best, bestErr = c, err
		}
	}
	return uint8(best)
}

// DecodeHF decodes MXFP4 in the layout Hugging Face checkpoints store as
// X_blocks / X_scales: scales holds one E8M0 code per block and blocks 16
// bytes per block, byte j holding element 2j (low nibble) and 2j+1 (high
// nibble); dst gets 32 values per block, E2M1 · 2^(scale-127). A NaN scale
// (0xFF) is an error naming the block.
func DecodeHF(dst []float32, blocks, scales []byte) error {
	n := len(scales)
	if len(blocks) != n*BlockSize/2 || len(dst) != n*BlockSize {
		return fmt.Errorf("mx: %d block bytes and %d scales for %d values: %w", len(blocks), n, len(dst), format.ErrShape)
	}
	for i, s := range scales {
		if s == 0xFF {
			return fmt.Errorf("mx: block %d has the NaN scale 0xFF: %w", i, format.ErrFormat)
		}
		d := E8M0(s)
		y := dst[i*BlockSize:][:BlockSize]
		for j, q := range blocks[i*BlockSize/2:][:BlockSize/2] {
			y[2*j] = e2m1[q&15] * d
			y[2*j+1] = e2m1[q>>4] * d
		}
	}
	return nil
}

func init() {
	format.RegisterBlockCodec(format.MXFP4, format.BlockCodec{Decode: DecodeGGML, Encode: EncodeGGML})
}
