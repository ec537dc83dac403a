package half

import (
	"fmt"
	"math"
	"sort"
	"testing"
)

// f8Format describes one 8-bit format for the reference computations.
type f8Format struct {
	name     string
	man      int  // mantissa bits
	bias     int  // exponent bias
	ieee     bool // exponent all ones means Inf/NaN (E5M2); else only S.1111.111 is NaN (E4M3fn)
	decode   func(uint8) float32
	encode   func(float32) uint8
	decodeS  func([]float32, []uint8)
	encodeS  func([]uint8, []float32)
	nan      uint8   // the NaN code an encoder gives (sign added)
	overflow float64 // the virtual value of the code after the largest finite one
}

var f8Formats = []f8Format{
	{"E4M3", 3, 7, false, F8E4M3Float32, F8E4M3, F8E4M3ToF32, F32ToF8E4M3, 0x7f, 480},
	{"E5M2", 2, 15, true, F8E5M2Float32, F8E5M2, F8E5M2ToF32, F32ToF8E5M2, 0x7f, 65536},
}

// value is the reference decoding: (-1)^s 2^(e-bias) (1 + m/2^man), and
// 2^(1-bias) m/2^man for e = 0.
func (f f8Format) value(b uint8) float64 {
	emax := 1<<(7-f.man) - 1
	s, e, m := b>>7, int(b>>f.man)&emax, int(b)&(1<<f.man-1)
	var v float64
	switch {
	case f.ieee && e == emax && m == 0:
		v = math.Inf(1)
	case f.ieee && e == emax, !f.ieee && e == emax && m == 1<<f.man-1:
		v = math.NaN()
	case e == 0:
		v = math.Ldexp(float64(m), 1-f.bias-f.man)
	default:
		v = math.Ldexp(1+float64(m)/float64(int(1)<<f.man), e-f.bias)
	}
	if s == 1 {
		v = -v
	}
	return v
}

func TestF8DecodeAllCodes(t *testing.T) {
	for _, f := range f8Formats {
		t.Run(f.name, func(t *testing.T) {
			src := make([]uint8, 256)
			for i := range src {
				src[i] = uint8(i)
			}
			bulk := make([]float32, 256)
			f.decodeS(bulk, src)
			for _, b := range src {
				want := f.value(b)
				if got := f.decode(b); !sameFloat(got, want) {
					t.Errorf("%s decode(%#02x) = %v, want %v", f.name, b, got, want)
				}
				if math.Float32bits(bulk[b]) != math.Float32bits(f.decode(b)) {
					t.Errorf("%s bulk decode(%#02x) = %#08x, want %#08x", f.name, b, math.Float32bits(bulk[b]), math.Float32bits(f.decode(b)))
				}
			}
		})
	}
}

func TestF8DecodeValues(t *testing.T) {
	// Hand-computed from the OCP 8-bit floating point specification.
	tests := []struct {
		name string
		fn   func(uint8) float32
		in   uint8
		want uint32
	}{
		{"E4M3 one", F8E4M3Float32, 0x38, 0x3f800000},
		{"E4M3 max 448", F8E4M3Float32, 0x7e, 0x43e00000},
		{"E4M3 -448", F8E4M3Float32, 0xfe, 0xc3e00000},
		{"E4M3 min normal 2^-6", F8E4M3Float32, 0x08, 0x3c800000},
		{"E4M3 min subnormal 2^-9", F8E4M3Float32, 0x01, 0x3b000000},
		{"E4M3 max subnormal 7*2^-9", F8E4M3Float32, 0x07, 0x3c600000},
		{"E4M3 -0", F8E4M3Float32, 0x80, 0x80000000},
		{"E4M3 NaN", F8E4M3Float32, 0x7f, 0x7ff00000},
		{"E4M3 -NaN", F8E4M3Float32, 0xff, 0xfff00000},
		{"E4M3 240 (exponent 1111 is finite)", F8E4M3Float32, 0x77, 0x43700000},
		{"E5M2 one", F8E5M2Float32, 0x3c, 0x3f800000},
		{"E5M2 max 57344", F8E5M2Float32, 0x7b, 0x47600000},
		{"E5M2 min subnormal 2^-16", F8E5M2Float32, 0x01, 0x37800000},
		{"E5M2 +Inf", F8E5M2Float32, 0x7c, 0x7f800000},
		{"E5M2 -Inf", F8E5M2Float32, 0xfc, 0xff800000},
		{"E5M2 NaN quieted", F8E5M2Float32, 0x7d, 0x7fe00000},
		{"E5M2 -NaN", F8E5M2Float32, 0xff, 0xffe00000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := math.Float32bits(tt.fn(tt.in)); got != tt.want {
				t.Errorf("decode(%#02x) = %#08x, want %#08x", tt.in, got, tt.want)
			}
		})
	}
}

func TestF8EncodeEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tests := []struct {
		name string
		fn   func(float32) uint8
		in   float32
		want uint8
	}{
		{"E4M3 one", F8E4M3, 1, 0x38},
		{"E4M3 448", F8E4M3, 448, 0x7e},
		{"E4M3 460 rounds to 448", F8E4M3, 460, 0x7e},
		{"E4M3 464 ties to even 448", F8E4M3, 464, 0x7e},
		{"E4M3 just above 464 is NaN", F8E4M3, math.Nextafter32(464, 500), 0x7f},
		{"E4M3 480 is NaN", F8E4M3, 480, 0x7f},
		{"E4M3 1e6 is NaN", F8E4M3, 1e6, 0x7f},
		{"E4M3 -1e6 is -NaN", F8E4M3, -1e6, 0xff},
		{"E4M3 +Inf is NaN", F8E4M3, inf, 0x7f},
		{"E4M3 -Inf is -NaN", F8E4M3, -inf, 0xff},
		{"E4M3 NaN", F8E4M3, nan, 0x7f},
		{"E4M3 -NaN", F8E4M3, float32(math.Copysign(math.NaN(), -1)), 0xff},
		{"E4M3 -0", F8E4M3, float32(math.Copysign(0, -1)), 0x80},
		{"E4M3 2^-10 ties to 0", F8E4M3, 0x1p-10, 0x00},
		{"E4M3 above 2^-10", F8E4M3, math.Nextafter32(0x1p-10, 1), 0x01},
		{"E4M3 3*2^-10 ties to 2*2^-9", F8E4M3, 3 * 0x1p-10, 0x02},
		{"E4M3 1.0625 ties to 1", F8E4M3, 1.0625, 0x38},
		{"E4M3 1.1875 ties to 1.25", F8E4M3, 1.1875, 0x3a},
		{"E4M3 tiny", F8E4M3, 1e-30, 0x00},
		{"E5M2 one", F8E5M2, 1, 0x3c},
		{"E5M2 57344", F8E5M2, 57344, 0x7b},
		{"E5M2 below 61440", F8E5M2, math.Nextafter32(61440, 0), 0x7b},
		{"E5M2 61440 ties to Inf", F8E5M2, 61440, 0x7c},
		{"E5M2 65536 is Inf", F8E5M2, 65536, 0x7c},
		{"E5M2 +Inf", F8E5M2, inf, 0x7c},
		{"E5M2 -Inf", F8E5M2, -inf, 0xfc},
		{"E5M2 NaN", F8E5M2, nan, 0x7f},
		{"E5M2 2^-17 ties to 0", F8E5M2, 0x1p-17, 0x00},
		{"E5M2 min subnormal", F8E5M2, 0x1p-16, 0x01},
		{"E5M2 1.125 ties to 1", F8E5M2, 1.125, 0x3c},
		{"E5M2 1.375 ties to 1.5", F8E5M2, 1.375, 0x3e},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("encode(%v) = %#02x, want %#02x", tt.in, got, tt.want)
			}
		})
	}
}

func TestF8EncodeRoundTrip(t *testing.T) {
	for _, f := range f8Formats {
		t.Run(f.name, func(t *testing.T) {
			for c := range 256 {
				b := uint8(c)
				if math.IsNaN(f.value(b)) {
					continue
				}
				if got := f.encode(f.decode(b)); got != b {
					t.Errorf("%s encode(decode(%#02x)) = %#02x, want %#02x", f.name, b, got, b)
				}
			}
		})
	}
}

// f8Range is the first positive float32 pattern that encodes as code.
type f8Range struct {
	first uint32
	code  uint8
}

// ranges computes, from the reference values alone, which positive
// float32 patterns encode to which code: between two neighbouring codes
// the midpoint (exact in float32) goes to the even code; past the largest
// finite code lies the overflow code (E4M3 NaN, E5M2 Inf), whose virtual
// value sets the last midpoint; NaN patterns give the NaN code.
func (f f8Format) ranges() []f8Range {
	type cv struct {
		code uint8
		v    float64
	}
	var cvs []cv
	for c := range 0x80 {
		if v := f.value(uint8(c)); !math.IsNaN(v) && !math.IsInf(v, 0) {
			cvs = append(cvs, cv{uint8(c), v})
		}
	}
	sort.Slice(cvs, func(i, j int) bool { return cvs[i].v < cvs[j].v })
	top := cvs[len(cvs)-1].code + 1 // E4M3: 0x7f (NaN), E5M2: 0x7c (Inf)
	cvs = append(cvs, cv{top, f.overflow})
	rs := []f8Range{{0, cvs[0].code}}
	for i := 1; i < len(cvs); i++ {
		mid := float32((cvs[i-1].v + cvs[i].v) / 2)
		first := math.Float32bits(mid)
		if cvs[i].code&1 == 1 { // the tie goes to the even lower code
			first++
		}
		rs = append(rs, f8Range{first, cvs[i].code})
	}
	if f.ieee { // NaN patterns after Inf
		rs = append(rs, f8Range{0x7f800001, f.nan})
	}
	return rs
}

// want returns the expected code of positive pattern u.
func want(rs []f8Range, u uint32) uint8 {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].first > u }) - 1
	return rs[i].code
}

func TestF8EncodeBoundaries(t *testing.T) {
	for _, f := range f8Formats {
		t.Run(f.name, func(t *testing.T) {
			rs := f.ranges()
			var us []uint32
			for _, r := range rs {
				for d := -2; d <= 2; d++ {
					if u := r.first + uint32(d); u < 1<<31 { // no wrap below 0
						us = append(us, u)
					}
				}
			}
			us = append(us, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff, 0x00000001, 0x007fffff)
			src := make([]float32, 0, 2*len(us))
			var exp []uint8
			for _, u := range us {
				w := want(rs, u)
				src = append(src, math.Float32frombits(u), math.Float32frombits(u|1<<31))
				exp = append(exp, w, w|0x80)
			}
			got := make([]uint8, len(src))
			f.encodeS(got, src)
			for i := range src {
				if got[i] != exp[i] {
					t.Errorf("%s encode(%#08x) = %#02x, want %#02x", f.name, math.Float32bits(src[i]), got[i], exp[i])
				}
			}
		})
	}
}

func TestF8EncodeExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("all 2^32 float32 patterns: skipped with -short (TestF8EncodeBoundaries covers every rounding edge)")
	}
	for _, f := range f8Formats {
		t.Run(f.name, func(t *testing.T) {
			rs := f.ranges()
			scanUint32(t, func() func(uint32, []uint32) error {
				got := make([]uint8, scanChunk)
				return func(lo uint32, bits []uint32) error {
					f.encodeS(got, f32sOf(bits))
					abs := lo &^ (1 << 31)
					k := sort.Search(len(rs), func(i int) bool { return rs[i].first > abs }) - 1
					for i, u := range bits {
						a := u &^ (1 << 31)
						for k+1 < len(rs) && a >= rs[k+1].first {
							k++
						}
						w := rs[k].code | uint8(u>>24)&0x80
						if got[i] != w {
							return fmt.Errorf("%s encode(%#08x) = %#02x, want %#02x", f.name, u, got[i], w)
						}
					}
					return nil
				}
			})
		})
	}
}
