package quant

import (
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestDequantizeHandBuiltBlocks decodes blocks written byte by byte from
// the layouts of ggml-common.h and checks values worked out by hand from
// ggml's dequantize_row_* definitions (grid rows quoted from ggml-common.h
// in the comments). Values not listed are checked where a comment gives
// them for a whole range.
func TestDequantizeHandBuiltBlocks(t *testing.T) {
	type set struct {
		off   int
		bytes []byte
	}
	for _, tc := range []struct {
		name string
		dt   format.DType
		sets []set
		want map[int]float32
	}{{
		// TQ2_0: d = 0.5; qs[0] = 0x1e holds the fields 2, 3, 1, 0 (t+1) of
		// values 0, 32, 64, 96; qs[33] = 1: value 128+1 is t = 0; every
		// other field 0: t = -1.
		"TQ2_0", format.TQ2_0, []set{{64, []byte{0x00, 0x38}}, {0, []byte{0x1e}}, {33, []byte{0x01}}},
		map[int]float32{0: 0.5, 32: 1, 64: 0, 96: -0.5, 1: -0.5, 129: 0, 161: -0.5, 255: -0.5},
	}, {
		// TQ1_0: d = 1; qs[0] = ⌈178·256/243⌉ = 188 packs the digits t+1 =
		// 2,0,1,2,1 (178 in base 3) of values 0, 32, 64, 96, 128; qh[1] =
		// ⌈135·256/243⌉ = 143 packs 1,2,0,0 (and a zero fifth digit) of
		// values 241, 245, 249, 253; zero bytes decode to t = -1.
		"TQ1_0", format.TQ1_0, []set{{52, []byte{0x00, 0x3c}}, {0, []byte{188}}, {49, []byte{143}}},
		map[int]float32{0: 1, 32: -1, 64: 0, 96: 1, 128: 0, 1: -1, 160: -1, 241: 0, 245: 1, 249: -1, 253: -1, 240: -1},
	}, {
		// IQ4_XS: d = 0.25; block 0 code 10|2<<4 = 42 (dl 2.5), block 1
		// code 5|1<<4 = 21 (dl -2.75), the others 0 (dl -8);
		// kvalues_iq4nl[0, 15, 8, 9] = -127, 113, 1, 13.
		"IQ4_XS", format.IQ4_XS, []set{{0, []byte{0x00, 0x34, 0x06, 0x00, 0x5a}}, {8, []byte{0xf0}}, {24, []byte{0x98}}},
		map[int]float32{0: -317.5, 16: 282.5, 32: -2.75, 48: -35.75, 64: 1016, 255: 1016},
	}, {
		// IQ3_XXS: d = 1; block 0 scale code 3: db = (0.5+3)·0.5 = 1.75;
		// group 0 points iq3xxs_grid[1] = 0x04040414 and [0] = 0x04040404
		// with sign code 1 (ksigns 129: values 0 and 7 negative); group 1
		// points [255] = 0x3e341c04 and [0], sign code 0.
		"IQ3_XXS", format.IQ3_XXS, []set{{0, []byte{0x00, 0x3c, 1, 0, 255}}, {66, []byte{0x01, 0x00, 0x00, 0x30}}},
		map[int]float32{0: -35, 1: 7, 4: 7, 7: -7, 8: 7, 9: 49, 10: 91, 11: 108.5, 12: 7},
	}, {
		// IQ3_S: d = 0.5; scales[0] = 0x21: db 0.5·3 = 1.5 for block 0,
		// 0.5·5 = 2.5 for block 1. Group 0: iq3s_grid[1] = 0x01010103 and
		// [256] = 0x05090507 (qh bit 1), signs 0x81; block 1 group 0:
		// [511] = 0x0f0f0101 (qs 0xff, qh[1] bit 0), no signs.
		"IQ3_S", format.IQ3_S, []set{{0, []byte{0x00, 0x38, 1, 0}}, {10, []byte{0xff}}, {66, []byte{0x02, 0x01}}, {74, []byte{0x81}}, {106, []byte{0x21}}},
		map[int]float32{0: -4.5, 1: 1.5, 4: 10.5, 5: 7.5, 6: 13.5, 7: -7.5, 32: 2.5, 33: 2.5, 34: 37.5, 35: 37.5},
	}, {
		// IQ2_XXS: d = 1; block 0: points iq2xxs_grid[1] =
		// 0x080808080808082b and [255] = 0x2b2b2b1908081908, sign codes 1
		// (values 0 and 7 negative) and 0, scale code 1: db = 1.5·0.25.
		"IQ2_XXS", format.IQ2_XXS, []set{{0, []byte{0x00, 0x3c, 1, 255, 0, 0, 0x01, 0x00, 0x00, 0x10}}},
		map[int]float32{0: -16.125, 1: 3, 7: -3, 8: 3, 9: 9.375, 12: 9.375, 13: 16.125},
	}, {
		// IQ2_XS: d = 1; scales[0] = 0x31: db 1.5·0.25 for groups 0-1,
		// 3.5·0.25 for groups 2-3. qs[0] = 1 | 2<<9 (ksigns 130: values 1
		// and 7 negative); qs[2] = 300: iq2xs_grid[300] = 0x1908190808191908.
		"IQ2_XS", format.IQ2_XS, []set{{0, []byte{0x00, 0x3c, 0x01, 0x04, 0, 0, 0x2c, 0x01}}, {66, []byte{0x31}}},
		map[int]float32{0: 16.125, 1: -3, 7: -3, 16: 7, 17: 21.875, 18: 21.875, 19: 7, 23: 21.875},
	}, {
		// IQ2_S: d = 1; scales[0] = 0x10: db 0.125, then 0.375. Group 0:
		// qs 0xff, qh bits 0-1 = 3: iq2s_grid[1023] = 0x2b2b2b2b2b2b2b2b,
		// sign byte 0x01; group 2: iq2s_grid[1] = 0x080808080808082b.
		"IQ2_S", format.IQ2_S, []set{{0, []byte{0x00, 0x3c, 0xff, 0, 1}}, {34, []byte{0x01}}, {66, []byte{0x03}}, {74, []byte{0x10}}},
		map[int]float32{0: -5.375, 1: 5.375, 16: 16.125, 17: 3},
	}, {
		// IQ1_S: d = 1; qh[0] = 0xa00f: scale code 2 (dl 5), delta -0.125,
		// group 0 point 0x7ff (iq1s_grid[2047] = 0x0101010101010101),
		// group 1 point 0x123 (0xff0000ff01000100), groups 2-3 point 0
		// (all -1); block 1: qh 0, dl 1, delta +0.125, point 0.
		"IQ1_S", format.IQ1_S, []set{{0, []byte{0x00, 0x3c, 0xff, 0x23}}, {34, []byte{0x0f, 0xa0}}},
		map[int]float32{0: 4.375, 7: 4.375, 8: -0.625, 9: 4.375, 12: -5.625, 15: -5.625, 16: -5.625, 32: -0.875},
	}, {
		// IQ1_M: d = 2 (f16 0x4000, top nibble in the fourth u16); codes 1
		// (dl 6) and 0 (dl 2) for values 0-15 and 16-31; qh[0] = 0x97:
		// group 0 point 0x7ff with +δ, group 1 point 0x123 with -δ; values
		// 16-31 point 0 (all -1) with +δ.
		"IQ1_M", format.IQ1_M, []set{{0, []byte{0xff, 0x23}}, {32, []byte{0x97}}, {48, []byte{0x01}}, {55, []byte{0x40}}},
		map[int]float32{0: 6.75, 7: 6.75, 8: -0.75, 9: 5.25, 12: -6.75, 16: -1.75, 31: -1.75},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, tc.dt.BlockBytes())
			for _, s := range tc.sets {
				copy(b[s.off:], s.bytes)
			}
			y := make([]float32, tc.dt.BlockSize())
			if err := Dequantize(y, b, tc.dt); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if y[i] != w {
					t.Errorf("value %d = %v, want %v", i, y[i], w)
				}
			}
		})
	}
}
