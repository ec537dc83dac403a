package diff

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// memSource is an in-memory Source for tests.
type memSource struct {
	infos []format.TensorInfo
	data  map[string][]byte
}

func (m *memSource) Format() string               { return "mem" }
func (m *memSource) Tensors() []format.TensorInfo { return m.infos }
func (m *memSource) Metadata() format.Metadata    { return nil }
func (m *memSource) Close() error                 { return nil }
func (m *memSource) TensorData(name string) ([]byte, error) {
	return m.data[name], nil
}

func (m *memSource) addF32(name string, shape []int64, vals ...float32) {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	m.infos = append(m.infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[name] = raw
}

func TestCompare(t *testing.T) {
	var a, b memSource
	a.addF32("same", []int64{2}, 1, 2)
	b.addF32("same", []int64{2}, 1, 2)
	a.addF32("close", []int64{2}, 1, 2.001)
	b.addF32("close", []int64{2}, 1, 2)
	a.addF32("far", []int64{1}, 5)
	b.addF32("far", []int64{1}, 4)
	a.addF32("shape", []int64{2}, 1, 2)
	b.addF32("shape", []int64{1, 2}, 1, 2)
	a.addF32("nan", []int64{1}, float32(math.NaN()))
	b.addF32("nan", []int64{1}, float32(math.NaN()))
	a.addF32("onlya", nil, 1)
	b.addF32("onlyb", nil, 1)

	d, err := Compare(&a, &b, Tolerance{Abs: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{"same": Equal, "close": Within, "far": Differ, "shape": ShapeMismatch,
		"nan": Equal, "onlya": OnlyA, "onlyb": OnlyB}
	if len(d.Tensors) != len(want) {
		t.Fatalf("Compare listed %d tensors, want %d", len(d.Tensors), len(want))
	}
	for _, td := range d.Tensors {
		if td.Status != want[td.Name] {
			t.Errorf("Compare status of %s = %s, want %s", td.Name, td.Status, want[td.Name])
		}
	}
	if d.OK || d.MaxAbs != 1 {
		t.Errorf("Compare OK=%v MaxAbs=%v, want false, 1", d.OK, d.MaxAbs)
	}
	far := d.Tensors[2]
	if far.MaxRel != 0.25 {
		t.Errorf("far MaxRel = %v, want 0.25 (relative to B)", far.MaxRel)
	}
}
