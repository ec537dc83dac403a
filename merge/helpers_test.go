package merge

import (
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared/<rel> beside the module root, skipping the
// test when the reference material is absent.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Path(t, rel)
}

// openSource opens a checkpoint, closing it at the end of the test.
func openSource(t testing.TB, path string) format.Source {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// floats decodes a tensor of src to float32 (dequantizing).
func floats(t testing.TB, src format.Source, name string) []float32 {
	t.Helper()
	info, ok := format.TensorIndex(src.Tensors(), name)
	if !ok {
		t.Fatalf("tensor %q missing", name)
	}
	data, err := src.TensorData(name)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := info.NumElements()
	out := make([]float32, n)
	if err := format.ToFloat32(out, data, info.DType); err != nil {
		t.Fatal(err)
	}
	return out
}

// maxAbsDiff returns max |a-b|.
func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// tensorSpec is a tensor for writeSafetensors.
type tensorSpec struct {
	name  string
	shape []int64
	vals  []float32
}

// writeSafetensors writes F32 tensors, in order, as a safetensors file.
func writeSafetensors(t testing.TB, path string, ts []tensorSpec) {
	t.Helper()
	infos := make([]format.TensorInfo, len(ts))
	for i, x := range ts {
		infos[i] = format.TensorInfo{Name: x.name, DType: format.F32, Shape: x.shape}
	}
	sink, err := format.Create("safetensors", path, infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		buf := make([]byte, 4*len(x.vals))
		if err := format.FromFloat32(buf, x.vals, format.F32); err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteTensor(x.name, buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}
