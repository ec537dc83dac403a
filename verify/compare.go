package verify

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
)

// Tolerances of "equal within the dtype's rounding".
const (
	// accumUlps: two correct merges may sum the r products of B·A in
	// float32 in different orders (llama-export-lora's order is a kernel
	// detail, fixtures README quirk 10); measured on the fixtures: at most
	// 2 float32 ulps of the tensor's largest value. Allowed: 8.
	accumUlps = 8
	// requantSlack: a block quantized from values a few float32 ulps away
	// may round a value or its scale the other way; its error against the
	// exact values then exceeds ours by at most a scale rounding (F16 scale:
	// 127·2⁻¹¹ ≈ 6% of a Q8_0 step). Allowed: 12.5%.
	requantSlack = 0.125
)

// mantissaBits is the stored fraction width and minimum normal exponent of
// each float dtype (for ulp).
var mantissaBits = map[format.DType]struct{ bits, minExp int }{
	format.F64:  {52, -1022},
	format.F32:  {23, -126},
	format.F16:  {10, -14},
	format.BF16: {7, -126},
}

// ulp is the spacing of dt's values at |x| (the subnormal spacing below the
// normal range).
func ulp(dt format.DType, x float64) float64 {
	m, ok := mantissaBits[dt]
	if !ok {
		return 0
	}
	x = math.Abs(x)
	e := m.minExp
	if x > 0 {
		_, exp := math.Frexp(x) // x = f·2^exp, f in [0.5, 1)
		e = max(exp-1, m.minExp)
	}
	return math.Ldexp(1, e-m.bits)
}

// comparison is how a release tensor relates to what it should be.
type comparison struct {
	exact  bool
	within bool    // within the dtype's rounding (or requantization)
	maxAbs float64 // max |release - derived|
	maxRel float64 // max |release - derived| / max |derived|
	note   string  // how "within" was judged
}

// chunkElems is how many values a comparison decodes at a time (8 MiB of
// float64 per side): memory stays bounded whatever the tensor's size.
const chunkElems = 1 << 20

// chunks calls f on successive ranges [lo, hi) of n values, each a whole
// number of unit values (rows or blocks), decoding both tensors' values of
// the range into x and y.
func chunks(info format.TensorInfo, a, b []byte, unit int, f func(lo int, x, y []float64)) error {
	n, err := info.NumElements()
	if err != nil {
		return err
	}
	step := max(unit, chunkElems/unit*unit)
	x, y := make([]float64, min(int64(step), n)), make([]float64, min(int64(step), n))
	for lo := int64(0); lo < n; lo += int64(step) {
		hi := min(n, lo+int64(step))
		bl, err := info.DType.RowBytes(lo)
		if err != nil {
			return err
		}
		bh, err := info.DType.RowBytes(hi)
		if err != nil {
			return err
		}
		xs, ys := x[:hi-lo], y[:hi-lo]
		if err := format.ToFloat64(xs, a[bl:bh], info.DType); err != nil {
			return fmt.Errorf("tensor %q: %w", info.Name, err)
		}
		if err := format.ToFloat64(ys, b[bl:bh], info.DType); err != nil {
			return fmt.Errorf("tensor %q: %w", info.Name, err)
		}
		mmap.ReleaseMapped(a[bl:bh]) // mapped tensors cost a chunk of RSS
		mmap.ReleaseMapped(b[bl:bh])
		f(int(lo), xs, ys)
	}
	return nil
}

// compareFloat compares release with derived, both raw tensors of info's
// float dtype, a chunk at a time (two passes: the largest value first).
func compareFloat(info format.TensorInfo, release, derived []byte) (comparison, error) {
	if mmap.EqualReleasing(release, derived) {
		return comparison{exact: true, within: true}, nil
	}
	var largest float64
	if err := chunks(info, release, derived, 1, func(_ int, _, d []float64) {
		for _, v := range d {
			largest = math.Max(largest, math.Abs(v))
		}
	}); err != nil {
		return comparison{}, err
	}
	slack := accumUlps * ulp(format.F32, largest)
	c := comparison{within: true}
	err := chunks(info, release, derived, 1, func(_ int, r, d []float64) {
		for i := range r {
			diff := math.Abs(r[i] - d[i])
			if math.IsNaN(diff) {
				diff = math.Inf(1)
			}
			c.maxAbs = math.Max(c.maxAbs, diff)
			if diff > ulp(info.DType, math.Max(math.Abs(r[i]), math.Abs(d[i])))+slack {
				c.within = false
			}
		}
	})
	if err != nil {
		return comparison{}, err
	}
	if largest > 0 {
		c.maxRel = c.maxAbs / largest
	}
	c.note = fmt.Sprintf("within %v rounding: max |diff| %.3g <= one %v ulp + %d float32 ulps of the largest value %.3g (float32 sums of B·A in another order)",
		info.DType, c.maxAbs, info.DType, accumUlps, largest)
	return c, nil
}

// compareBlocks compares a quantized release with lorakit's requantization
// derived of the exact float32 values x. Bytes equal: bit-exact. Otherwise
// each block of the release must be as close to x as lorakit's own block
// is (up to requantSlack): the quantization of values within float32
// rounding of x.
func compareBlocks(info format.TensorInfo, release, derived []byte, x []float32) (comparison, error) {
	if mmap.EqualReleasing(release, derived) {
		return comparison{exact: true, within: true}, nil
	}
	var largest float64
	for _, v := range x {
		largest = math.Max(largest, math.Abs(float64(v)))
	}
	slack := accumUlps * ulp(format.F32, largest)
	bs := info.DType.BlockSize()
	c := comparison{within: true}
	differing, blocks := 0, 0
	err := chunks(info, release, derived, bs, func(off int, r, d []float64) {
		for lo := 0; lo < len(r); lo += bs {
			hi := min(lo+bs, len(r))
			var errQ, errR, diff float64
			for i := lo; i < hi; i++ {
				xi := float64(x[off+i])
				errQ = math.Max(errQ, math.Abs(d[i]-xi))
				errR = math.Max(errR, math.Abs(r[i]-xi))
				diff = math.Max(diff, math.Abs(r[i]-d[i]))
			}
			if math.IsNaN(errR) {
				errR = math.Inf(1)
			}
			blocks++
			if diff > 0 {
				differing++
			}
			c.maxAbs = math.Max(c.maxAbs, diff)
			if errR > (1+requantSlack)*errQ+slack {
				c.within = false
			}
		}
	})
	if err != nil {
		return comparison{}, err
	}
	if largest > 0 {
		c.maxRel = c.maxAbs / largest
	}
	c.note = fmt.Sprintf("within %v requantization: %d of %d blocks differ from lorakit's, each as close to the merged values as lorakit's own (+%.1f%%)",
		info.DType, differing, blocks, 100*requantSlack)
	return c, nil
}
