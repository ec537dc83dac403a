package gguf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// copyTo streams every tensor of src into w and closes w.
func copyTo(t testing.TB, w format.Sink, src format.Source) {
	t.Helper()
	for _, info := range src.Tensors() {
		data, err := src.TensorData(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensor(info.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRewriteByteForByte reads files written by gguf-py, llama-quantize
// and llama-export-lora and writes them back: the bytes must be the same.
// The llama.cpp vocab files are the exception: they were written by
// gguf-py's vocab-only path, which does not pad the header of a file
// without tensors, while ggml's gguf_write_out (and this Writer) always pad
// it to the alignment. Everything up to that padding must match.
func TestRewriteByteForByte(t *testing.T) {
	for _, path := range sharedGGUFs(t) {
		t.Run(stem(path), func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var buf bytes.Buffer
			w, err := NewWriter(&buf, r.Tensors(), r.Metadata())
			if err != nil {
				t.Fatal(err)
			}
			copyTo(t, w, r)
			got := buf.Bytes()
			if len(r.Tensors()) == 0 && len(orig)%r.Alignment() != 0 {
				padded := alignUp(int64(len(orig)), int64(r.Alignment()))
				if int64(len(got)) != padded || !bytes.Equal(got[:len(orig)], orig) || !allZero(got[len(orig):]) {
					t.Fatalf("rewrite of an unpadded tensor-less file: %d bytes, want the %d original bytes and zeros up to %d", len(got), len(orig), padded)
				}
				return
			}
			if !bytes.Equal(got, orig) {
				t.Fatalf("rewrite differs from the original: %d bytes vs %d, first difference at %d", len(got), len(orig), firstDiff(got, orig))
			}
		})
	}
}

func allZero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// allTypes is metadata holding every GGUF value type, arrays of each,
// and nested arrays.
func allTypes() format.Metadata {
	return format.Metadata{
		{Key: "general.architecture", Value: "test"},
		{Key: "u8", Value: uint8(200)}, {Key: "i8", Value: int8(-100)}, {Key: "u16", Value: uint16(60000)}, {Key: "i16", Value: int16(-30000)},
		{Key: "u32", Value: uint32(4000000000)}, {Key: "i32", Value: int32(-2000000000)}, {Key: "f32", Value: float32(1e-5)},
		{Key: "bool", Value: true}, {Key: "str", Value: "héllo\x00world"}, {Key: "u64", Value: uint64(1) << 63}, {Key: "i64", Value: int64(-1) << 62},
		{Key: "f64", Value: math.Pi},
		{Key: "a.u8", Value: []uint8{1, 2}}, {Key: "a.i8", Value: []int8{-1}}, {Key: "a.u16", Value: []uint16{}}, {Key: "a.i16", Value: []int16{-2, 3}},
		{Key: "a.u32", Value: []uint32{7}}, {Key: "a.i32", Value: []int32{-7}}, {Key: "a.f32", Value: []float32{float32(math.Inf(-1)), 0.5}},
		{Key: "a.bool", Value: []bool{true, false}}, {Key: "a.str", Value: []string{"", "b", "ĠΩ"}}, {Key: "a.u64", Value: []uint64{9}},
		{Key: "a.i64", Value: []int64{-9}}, {Key: "a.f64", Value: []float64{2.5}},
		{Key: "a.nested", Value: []any{[]uint32{1, 2}, []string{"x"}, []any{[]int8{-3}}, []float64{}}},
		{Key: "a.empty_nested", Value: []any{}},
	}
}

// TestCreateRoundTrip writes every value type and several dtypes with
// Create and reads them back.
func TestCreateRoundTrip(t *testing.T) {
	infos := []format.TensorInfo{
		{Name: "scalar", DType: format.F32, Shape: []int64{}},
		{Name: "vec", DType: format.F16, Shape: []int64{3}},
		{Name: "mat", DType: format.Q8_0, Shape: []int64{2, 64}},
		{Name: "cube", DType: format.I32, Shape: []int64{2, 3, 5}},
		{Name: "four", DType: format.BF16, Shape: []int64{1, 2, 1, 3}},
		{Name: "empty", DType: format.F32, Shape: []int64{0, 4}},
	}
	data := make([][]byte, len(infos))
	for i, info := range infos {
		n, err := info.NumBytes()
		if err != nil {
			t.Fatal(err)
		}
		data[i] = make([]byte, n)
		for j := range data[i] {
			data[i][j] = byte(i*31 + j)
		}
	}
	for _, align := range []uint32{0, 1, 8, 64} {
		md := allTypes()
		if align != 0 {
			md = append(md, format.KV{Key: KeyAlignment, Value: align})
		}
		path := filepath.Join(t.TempDir(), "out.gguf")
		w, err := Create(path, infos, md, format.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, info := range infos {
			if err := w.WriteTensor(info.Name, data[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		wantAlign := int(align)
		if align == 0 {
			wantAlign = DefaultAlignment
		}
		if r.Alignment() != wantAlign || r.Version() != Version || r.DataOffset()%int64(wantAlign) != 0 {
			t.Errorf("alignment %d: Alignment(), Version(), DataOffset() = %d, %d, %d", align, r.Alignment(), r.Version(), r.DataOffset())
		}
		if !reflect.DeepEqual(r.Metadata(), md) {
			t.Errorf("alignment %d: Metadata() = %v, want %v", align, r.Metadata(), md)
		}
		if !reflect.DeepEqual(r.Tensors(), infos) {
			t.Errorf("alignment %d: Tensors() = %v, want %v", align, r.Tensors(), infos)
		}
		var prevEnd int64
		for i, info := range infos {
			got, err := r.TensorData(info.Name)
			if err != nil || !bytes.Equal(got, data[i]) {
				t.Errorf("alignment %d: TensorData(%q) = %v, %v", align, info.Name, got, err)
			}
			// Layout as ggml requires it: each tensor at the next aligned offset.
			off, _ := r.TensorOffset(info.Name)
			if want := r.DataOffset() + alignUp(prevEnd, int64(wantAlign)); off != want {
				t.Errorf("alignment %d: TensorOffset(%q) = %d, want %d", align, info.Name, off, want)
			}
			prevEnd = off - r.DataOffset() + int64(len(data[i]))
		}
		st, _ := os.Stat(path)
		if want := r.DataOffset() + alignUp(prevEnd, int64(wantAlign)); st.Size() != want {
			t.Errorf("alignment %d: file size %d, want %d (last tensor padded)", align, st.Size(), want)
		}
		r.Close()
	}
}

// TestWriterLayout checks the Writer's bytes against a file assembled by
// hand from the GGUF spec.
func TestWriterLayout(t *testing.T) {
	want := (&builder{}).header(3, 2, 2).
		str("general.architecture").u32(8).str("llama").
		str("llama.block_count").u32(4).u32(2).
		tensor("a", 0, 0, 3, 2). // F32, row-major [2 3] is ne [3 2]
		tensor("b", 8, 32, 32).  // Q8_0 [32], after 24 bytes padded to 32
		pad(32)
	a := bytes.Repeat([]byte{1}, 24)
	b := bytes.Repeat([]byte{2}, 34)
	want.Write(a)
	want.zeros(8)
	want.Write(b)
	want.zeros(30)

	var buf bytes.Buffer
	md := format.Metadata{{Key: "general.architecture", Value: "llama"}}
	if err := SetCount(&md, "llama.block_count", 2); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(&buf, []format.TensorInfo{
		{Name: "a", DType: format.F32, Shape: []int64{2, 3}},
		{Name: "b", DType: format.Q8_0, Shape: []int64{32}},
	}, md)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("a", a); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("b", b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want.Bytes()) {
		t.Errorf("Writer bytes differ from the hand-built file at %d (%d vs %d bytes)", firstDiff(buf.Bytes(), want.Bytes()), buf.Len(), want.Len())
	}
}

// TestPlanErrors: what GGUF cannot hold is refused before any output.
func TestPlanErrors(t *testing.T) {
	f32 := func(name string, shape ...int64) format.TensorInfo {
		return format.TensorInfo{Name: name, DType: format.F32, Shape: shape}
	}
	tests := []struct {
		name  string
		infos []format.TensorInfo
		md    format.Metadata
		want  error
		names string // the message must contain this
	}{
		{"name 64 bytes", []format.TensorInfo{f32(strings.Repeat("n", 64), 1)}, nil, ErrNameTooLong, "nnnn"},
		{"name too long is ErrFormat", []format.TensorInfo{f32(strings.Repeat("n", 100), 1)}, nil, format.ErrFormat, "nnnn"},
		{"duplicate tensor", []format.TensorInfo{f32("x", 1), f32("x", 2)}, nil, format.ErrFormat, `"x"`},
		{"U16", []format.TensorInfo{{Name: "u", DType: format.U16, Shape: []int64{2}}}, nil, format.ErrUnsupported, `"u"`},
		{"F8", []format.TensorInfo{{Name: "f8", DType: format.F8_E4M3, Shape: []int64{2}}}, nil, format.ErrUnsupported, `"f8"`},
		{"BOOL", []format.TensorInfo{{Name: "b", DType: format.BOOL, Shape: []int64{2}}}, nil, format.ErrUnsupported, `"b"`},
		{"invalid dtype", []format.TensorInfo{{Name: "z", Shape: []int64{2}}}, nil, format.ErrUnsupported, `"z"`},
		{"five dims", []format.TensorInfo{f32("five", 1, 1, 1, 1, 1)}, nil, format.ErrUnsupported, `"five"`},
		{"negative dim", []format.TensorInfo{f32("neg", -1)}, nil, format.ErrFormat, `"neg"`},
		{"block row", []format.TensorInfo{{Name: "q", DType: format.Q4_0, Shape: []int64{33}}}, nil, format.ErrShape, `"q"`},
		{"duplicate key", nil, format.Metadata{{Key: "k", Value: uint8(1)}, {Key: "k", Value: uint8(2)}}, format.ErrFormat, `"k"`},
		{"empty key", nil, format.Metadata{{Key: "", Value: uint8(1)}}, format.ErrFormat, "empty"},
		{"Go int", nil, format.Metadata{{Key: "n", Value: 5}}, format.ErrUnsupported, `"n"`},
		{"Go []int", nil, format.Metadata{{Key: "n", Value: []int{5}}}, format.ErrUnsupported, `"n"`},
		{"scalar in nested", nil, format.Metadata{{Key: "n", Value: []any{uint8(1)}}}, format.ErrUnsupported, `"n"`},
		{"alignment type", nil, format.Metadata{{Key: KeyAlignment, Value: uint64(32)}}, format.ErrFormat, KeyAlignment},
		{"alignment zero", nil, format.Metadata{{Key: KeyAlignment, Value: uint32(0)}}, format.ErrFormat, KeyAlignment},
		{"alignment 48", nil, format.Metadata{{Key: KeyAlignment, Value: uint32(48)}}, format.ErrFormat, KeyAlignment},
		{"too deep", nil, format.Metadata{{Key: "deep", Value: nest(maxNesting + 1)}}, format.ErrUnsupported, `"deep"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.gguf")
			_, err := Create(path, tt.infos, tt.md, format.CreateOptions{})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.names) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Create() error = %v, want %v naming %s and the file", err, tt.want, tt.names)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("Create() failed but left %v", entries)
			}
			if _, err := NewWriter(&bytes.Buffer{}, tt.infos, tt.md); !errors.Is(err, tt.want) {
				t.Errorf("NewWriter() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// nest returns arrays nested depth deep around a []uint8.
func nest(depth int) any {
	var v any = []uint8{1}
	for range depth - 1 {
		v = []any{v}
	}
	return v
}

func TestNestingLimit(t *testing.T) {
	var buf bytes.Buffer
	for _, v := range []any{nest(maxNesting + 1), []any{nest(maxNesting)}} {
		if _, err := NewWriter(&buf, nil, format.Metadata{{Key: "deep", Value: v}}); !errors.Is(err, format.ErrUnsupported) {
			t.Fatalf("NewWriter(arrays nested %d deep) = %v, want ErrUnsupported", maxNesting+1, err)
		}
	}
	buf.Reset()
	w, err := NewWriter(&buf, nil, format.Metadata{{Key: "ok", Value: nest(maxNesting)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("reading arrays nested %d deep: %v", maxNesting, err)
	}
	if !reflect.DeepEqual(r.Metadata()[0].Value, nest(maxNesting)) {
		t.Errorf("nested value = %v, want %v", r.Metadata()[0].Value, nest(maxNesting))
	}
}

// TestWriterSequence: tensors must come in order with their exact size;
// the first error sticks; Close fails on a missing tensor and leaves no file.
func TestWriterSequence(t *testing.T) {
	infos := []format.TensorInfo{
		{Name: "a", DType: format.F32, Shape: []int64{2}},
		{Name: "b", DType: format.F32, Shape: []int64{3}},
	}
	tests := []struct {
		name  string
		steps func(w *Writer) error
		want  error
	}{
		{"undeclared", func(w *Writer) error { return w.WriteTensor("c", make([]byte, 8)) }, format.ErrNotFound},
		{"out of order", func(w *Writer) error { return w.WriteTensor("b", make([]byte, 12)) }, format.ErrFormat},
		{"short data", func(w *Writer) error { return w.WriteTensor("a", make([]byte, 7)) }, format.ErrShape},
		{"too many", func(w *Writer) error {
			w.WriteTensor("a", make([]byte, 8))
			w.WriteTensor("b", make([]byte, 12))
			return w.WriteTensor("a", make([]byte, 8))
		}, format.ErrNotFound},
		{"missing at close", func(w *Writer) error {
			w.WriteTensor("a", make([]byte, 8))
			return w.Close()
		}, format.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.gguf")
			w, err := Create(path, infos, nil, format.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.steps(w)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want %v naming the file", err, tt.want)
			}
			if again := w.WriteTensor("a", make([]byte, 8)); again == nil || again.Error() != err.Error() && !strings.Contains(again.Error(), "closed") {
				t.Errorf("WriteTensor after error = %v, want the sticky %v", again, err)
			}
			if cerr := w.Close(); cerr == nil {
				t.Error("Close() after an error = nil, want the error")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("failed write left %v", entries)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort() after Close = %v", err)
			}
		})
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, "out.gguf"), []format.TensorInfo{{Name: "a", DType: format.F32, Shape: []int64{2}}}, nil, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("a", make([]byte, 8)); err == nil {
		t.Error("WriteTensor after Abort = nil, want an error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Abort left %v", entries)
	}
}

func TestCreateExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.gguf")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, nil, nil, format.CreateOptions{}); !errors.Is(err, format.ErrExists) {
		t.Fatalf("Create(existing) = %v, want ErrExists", err)
	}
	w, err := Create(path, nil, nil, format.CreateOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path) // now an input of this process
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := Create(path, nil, nil, format.CreateOptions{Force: true}); !errors.Is(err, format.ErrExists) {
		t.Errorf("Create(input, Force) = %v, want ErrExists", err)
	}
}

func TestConventions(t *testing.T) {
	var md format.Metadata
	if err := SetCount(&md, "llama.block_count", 32); err != nil {
		t.Fatal(err)
	}
	if err := SetTokenID(&md, "tokenizer.ggml.bos_token_id", 1); err != nil {
		t.Fatal(err)
	}
	SetFloat32(&md, "llama.attention.layer_norm_rms_epsilon", 1e-5)
	want := format.Metadata{
		{Key: "llama.block_count", Value: uint32(32)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
	}
	if !reflect.DeepEqual(md, want) {
		t.Errorf("metadata = %v, want %v", md, want)
	}
	for _, n := range []int64{-1, 1 << 32} {
		if err := SetCount(&md, "x", n); !errors.Is(err, format.ErrFormat) {
			t.Errorf("SetCount(%d) = %v, want ErrFormat", n, err)
		}
	}
}
