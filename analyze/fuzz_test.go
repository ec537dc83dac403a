package analyze

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// fuzzMatrix takes rows×cols float64 values from data (raw bit patterns:
// NaN, ±Inf, subnormals and huge values included), zero-padded.
func fuzzMatrix(data []byte, rows, cols int) (*mat.Dense, []byte) {
	m := mat.NewDense(rows, cols, nil)
	for i := range rows {
		for j := range cols {
			var v float64
			if len(data) >= 8 {
				v = math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
			}
			m.Set(i, j, v)
		}
	}
	return m, data
}

// FuzzModule feeds arbitrary shapes and element bit patterns to every
// analysis: each must return a result whose JSON encodes, or an error
// wrapping a format sentinel; never panic.
func FuzzModule(f *testing.F) {
	f.Add([]byte{2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Add([]byte{1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 0x7f}) // NaN
	f.Add([]byte{3, 2, 5, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})                   // +Inf
	f.Add([]byte{4, 6, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f}) // MaxFloat64
	f.Add([]byte{2, 5, 3})                                                 // all zero
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		r, out, in := int(data[0]%5), int(data[1]%7)+1, int(data[2]%7)+1
		data = data[3:]
		var m Module
		m.Name, m.Scale = "fuzz", 1.5
		if r > 0 {
			m.A, data = fuzzMatrix(data, r, in)
			m.B, data = fuzzMatrix(data, out, r)
		} else {
			m.A, m.B = &mat.Dense{}, &mat.Dense{}
		}
		w, _ := fuzzMatrix(data, out, in)

		check := func(what string, v any, err error) {
			if err != nil {
				if !errors.Is(err, format.ErrShape) && !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
					t.Errorf("%s: error %v wraps no format sentinel", what, err)
				}
				return
			}
			if _, err := json.Marshal(v); err != nil {
				t.Errorf("%s: result does not encode: %v", what, err)
			}
		}
		s, err := SpectrumOf(m)
		check("SpectrumOf", s, err)
		sim, err := CompareModule(m, m)
		check("CompareModule", sim, err)
		for _, g := range append(sim.PhiRight, sim.PhiLeft...) {
			for _, v := range g {
				if !(v >= 0 && v <= 1) {
					t.Errorf("φ = %v outside [0, 1]", v)
				}
			}
		}
		a, err := AmplifyModule(m, w, AmplifyOptions{})
		check("AmplifyModule", a, err)
	})
}
