package format

import (
	"errors"
	"testing"
)

// ggmlLayout is ggml's own table (ggml.h type ids; ggml-common.h block
// structs), written out independently of the trait table it checks.
var ggmlLayout = []struct {
	dt                DType
	id, block, nbytes int
}{
	{F32, 0, 1, 4}, {F16, 1, 1, 2}, {Q4_0, 2, 32, 2 + 16}, {Q4_1, 3, 32, 2 + 2 + 16},
	{Q5_0, 6, 32, 2 + 4 + 16}, {Q5_1, 7, 32, 2 + 2 + 4 + 16}, {Q8_0, 8, 32, 2 + 32},
	{Q8_1, 9, 32, 2 + 2 + 32},
	{Q2_K, 10, 256, 16 + 64 + 2 + 2},       // scales, qs, d, dmin
	{Q3_K, 11, 256, 32 + 64 + 12 + 2},      // hmask, qs, scales, d
	{Q4_K, 12, 256, 2 + 2 + 12 + 128},      // d, dmin, scales, qs
	{Q5_K, 13, 256, 2 + 2 + 12 + 32 + 128}, // d, dmin, scales, qh, qs
	{Q6_K, 14, 256, 128 + 64 + 16 + 2},     // ql, qh, scales, d
	{Q8_K, 15, 256, 4 + 256 + 2*16},        // d (f32), qs, bsums
	{IQ2_XXS, 16, 256, 2 + 2*32}, {IQ2_XS, 17, 256, 2 + 2*32 + 8}, {IQ3_XXS, 18, 256, 2 + 3*256/8},
	{IQ1_S, 19, 256, 2 + 32 + 2*8}, {IQ4_NL, 20, 32, 2 + 16}, {IQ3_S, 21, 256, 2 + 64 + 8 + 32 + 4},
	{IQ2_S, 22, 256, 2 + 64 + 8 + 8}, {IQ4_XS, 23, 256, 2 + 2 + 4 + 128},
	{I8, 24, 1, 1}, {I16, 25, 1, 2}, {I32, 26, 1, 4}, {I64, 27, 1, 8}, {F64, 28, 1, 8},
	{IQ1_M, 29, 256, 32 + 16 + 8}, {BF16, 30, 1, 2},
	{TQ1_0, 34, 256, (256-4*256/64)/5 + 256/64 + 2}, {TQ2_0, 35, 256, 64 + 2}, {MXFP4, 39, 32, 1 + 16},
}

func TestGGMLTable(t *testing.T) {
	for _, c := range ggmlLayout {
		t.Run(c.dt.String(), func(t *testing.T) {
			if id, ok := c.dt.GGMLType(); !ok || id != c.id {
				t.Errorf("GGMLType() = %d, %v, want %d", id, ok, c.id)
			}
			if dt, ok := FromGGMLType(c.id); !ok || dt != c.dt {
				t.Errorf("FromGGMLType(%d) = %v, want %v", c.id, dt, c.dt)
			}
			if c.dt.BlockSize() != c.block || c.dt.BlockBytes() != c.nbytes {
				t.Errorf("block = %d/%d, want %d/%d", c.dt.BlockSize(), c.dt.BlockBytes(), c.block, c.nbytes)
			}
		})
	}
	for _, retired := range []int{4, 5, 31, 32, 33, 36, 37, 38, 40, 1000, -1} {
		if dt, ok := FromGGMLType(retired); ok {
			t.Errorf("FromGGMLType(%d) = %v, want not ok", retired, dt)
		}
	}
}

func TestSafetensorsNames(t *testing.T) {
	want := []string{"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"}
	var got []string
	for _, dt := range DTypes() {
		if dt.InSafetensors() {
			got = append(got, dt.String())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("safetensors dtypes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("safetensors dtype %d = %s, want %s", i, got[i], want[i])
		}
		dt, err := ParseDType(want[i])
		if err != nil || dt.String() != want[i] {
			t.Errorf("ParseDType(%q) = %v, %v", want[i], dt, err)
		}
	}
}

func TestParseDType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want DType
	}{{"f16", F16}, {"BF16", BF16}, {" q4_k ", Q4_K}, {"Q8_0", Q8_0}, {"iq4_nl", IQ4_NL}} {
		if got, err := ParseDType(c.in); err != nil || got != c.want {
			t.Errorf("ParseDType(%q) = %v, %v, want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "f17", "q4_k_m", "INVALID"} {
		if _, err := ParseDType(bad); !errors.Is(err, ErrUnsupported) {
			t.Errorf("ParseDType(%q) error = %v, want ErrUnsupported", bad, err)
		}
	}
}

func TestNumBytes(t *testing.T) {
	for _, c := range []struct {
		info TensorInfo
		want int64
		err  error
	}{
		{TensorInfo{"s", F32, nil}, 4, nil},
		{TensorInfo{"z", F16, []int64{3, 0}}, 0, nil},
		{TensorInfo{"m", BF16, []int64{2, 3}}, 12, nil},
		{TensorInfo{"q", Q4_0, []int64{2, 64}}, 2 * 2 * 18, nil},
		{TensorInfo{"k", Q6_K, []int64{256}}, 210, nil},
		{TensorInfo{"badrow", Q4_K, []int64{2, 128}}, 0, ErrShape},
		{TensorInfo{"neg", F32, []int64{-1}}, 0, ErrFormat},
		{TensorInfo{"huge", F32, []int64{1 << 40, 1 << 40}}, 0, ErrFormat},
		{TensorInfo{"huge2", F64, []int64{1 << 54}}, 0, ErrFormat},
	} {
		got, err := c.info.NumBytes()
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%v.NumBytes() error = %v, want %v", c.info, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v.NumBytes() = %d, %v, want %d", c.info, got, err, c.want)
		}
	}
}

func TestMetadata(t *testing.T) {
	var md Metadata
	md.Set("a", uint32(7))
	md.Set("b", float32(1e-5))
	md.Set("c", "x")
	md.Set("a", int64(-2))
	if n, ok := md.Int("a"); !ok || n != -2 || md[0].Key != "a" {
		t.Errorf("Set replaced in place: md = %v", md)
	}
	if f, ok := md.Float("b"); !ok || float32(f) != float32(1e-5) {
		t.Errorf("Float(b) = %v, %v", f, ok)
	}
	if s, ok := md.String("c"); !ok || s != "x" {
		t.Errorf("String(c) = %q, %v", s, ok)
	}
	if _, ok := md.String("a"); ok {
		t.Error("String(a) ok for an integer")
	}
	md.Delete("b")
	if _, ok := md.Get("b"); ok || len(md) != 2 {
		t.Errorf("Delete(b): md = %v", md)
	}
}
