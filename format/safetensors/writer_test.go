package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	nst "github.com/nlpodyssey/safetensors"
)

// f32bytes encodes values as little-endian float32.
func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// writeAll writes tensors (infos order) with data to a buffer.
func writeAll(t *testing.T, infos []format.TensorInfo, md format.Metadata, data map[string][]byte, padding int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, infos, md)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if padding != 0 {
		if err := w.SetHeaderPadding(padding); err != nil {
			t.Fatal(err)
		}
	}
	for _, ti := range infos {
		if err := w.WriteTensor(ti.Name, data[ti.Name]); err != nil {
			t.Fatalf("WriteTensor(%s): %v", ti.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// TestReferenceVectors reproduces the byte vectors of the Hugging Face
// crate's own unit tests (safetensors/src/tensor.rs: test_serialization,
// test_empty, test_serialization_forced_alignement).
func TestReferenceVectors(t *testing.T) {
	six := f32bytes(0, 1, 2, 3, 4, 5)
	for _, tc := range []struct {
		name  string
		infos []format.TensorInfo
		md    format.Metadata
		data  map[string][]byte
		want  []byte
	}{
		{
			name:  "serialization",
			infos: []format.TensorInfo{{Name: "attn.0", DType: format.F32, Shape: []int64{1, 2, 3}}},
			data:  map[string][]byte{"attn.0": six},
			want: append([]byte{64, 0, 0, 0, 0, 0, 0, 0},
				append([]byte(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`), six...)...),
		},
		{
			name: "empty",
			want: []byte{8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32},
		},
		{
			name: "empty with metadata",
			md:   format.Metadata{{Key: "framework", Value: "pt"}},
			want: append([]byte{40, 0, 0, 0, 0, 0, 0, 0}, `{"__metadata__":{"framework":"pt"}}     `...),
		},
		{
			name:  "forced alignment",
			infos: []format.TensorInfo{{Name: "attn0", DType: format.F32, Shape: []int64{1, 1, 2, 3}}},
			data:  map[string][]byte{"attn0": six},
			want: append([]byte{72, 0, 0, 0, 0, 0, 0, 0},
				append([]byte(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `), six...)...),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := writeAll(t, tc.infos, tc.md, tc.data, 0); !bytes.Equal(got, tc.want) {
				t.Errorf("Writer output =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestRewriteIsByteIdentical reads files written by others and writes them
// back: the samples (late-2022 writer: no header padding) with padding 1,
// files of the current reference writer (transformers, PEFT) with the
// default padding and in SortLikeReference order.
func TestRewriteIsByteIdentical(t *testing.T) {
	type file struct {
		path    string
		padding int
		sort    bool
	}
	files := []file{{"testdata/overall.safetensors", 1, false}}
	if shared := testshared.Find(); shared != "" {
		// With ../shared present, a missing reference fails (testshared).
		for _, p := range testshared.Glob(t, "data/safetensors-samples/*.safetensors") {
			files = append(files, file{p, 1, false})
		}
		for _, rel := range []string{
			"models/lm-buddy-tiny-gpt2-random/model.safetensors",
			"adapters/gpt2-tigrinya-peft-lora/adapter_model.safetensors",
		} {
			files = append(files, file{testshared.Path(t, filepath.Join("data", rel)), 8, true})
		}
	} else {
		t.Log("../shared is absent: checking testdata/overall.safetensors only")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f.path))+"/"+filepath.Base(f.path), func(t *testing.T) {
			orig, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(f.path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			infos := r.Tensors()
			if f.sort {
				SortLikeReference(infos)
			}
			data := map[string][]byte{}
			for _, ti := range infos {
				data[ti.Name], _ = r.TensorData(ti.Name)
			}
			got := writeAll(t, infos, r.Metadata(), data, f.padding)
			if !bytes.Equal(got, orig) {
				t.Errorf("rewrite of %s differs: %d bytes, want %d\n got header %q\nwant header %q",
					f.path, len(got), len(orig), headerOf(got), headerOf(orig))
			}
		})
	}
}

func headerOf(b []byte) []byte {
	if len(b) < 8 {
		return nil
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil
	}
	return b[8 : 8+n]
}

// TestSamplesDefaultPadding documents why the samples need padding 1: with
// the default padding the rewrite differs only by the spaces.
func TestSamplesDefaultPadding(t *testing.T) {
	path := filepath.Join(filepath.Dir(sampleFiles(t)[0]), "f.safetensors")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, _ := r.TensorData("f")
	got := writeAll(t, r.Tensors(), r.Metadata(), map[string][]byte{"f": d}, 0)
	oh, gh := headerOf(orig), headerOf(got)
	if len(oh)%8 == 0 {
		t.Fatalf("sample header is %d bytes, a multiple of 8; expected an unpadded one", len(oh))
	}
	if !bytes.Equal(bytes.TrimRight(gh, " "), oh) || len(gh)%8 != 0 {
		t.Errorf("padded header = %q, want %q plus spaces to a multiple of 8", gh, oh)
	}
}

// TestMatchesNlpodyssey checks the writer against the independent Go port:
// same layout (order, offsets, data) for a mix of dtypes sorted like the
// reference, and the same bytes where its encoding/json header agrees (one
// dtype, lower-case names, so map-sorted keys coincide with offset order).
func TestMatchesNlpodyssey(t *testing.T) {
	names := []string{"w.b", "w.a", "ln.weight", "z", "emb", "q.0", "q.10", "q.2"}
	dtypes := []format.DType{format.F32, format.F16, format.BF16, format.I64, format.U8, format.BOOL, format.U16, format.F64}
	for _, mixed := range []bool{false, true} {
		var infos []format.TensorInfo
		views := map[string]nst.TensorView{}
		data := map[string][]byte{}
		for i, name := range names {
			dt := format.F32
			if mixed {
				dt = dtypes[i]
			}
			shape := []int64{int64(i + 1), 3}
			n := int(shape[0]*shape[1]) * dt.BlockBytes()
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(i*31 + j)
			}
			infos = append(infos, format.TensorInfo{Name: name, DType: dt, Shape: shape})
			data[name] = b
			odt, err := nst.ParseDType(dt.String())
			if err != nil {
				t.Fatal(err)
			}
			v, err := nst.NewTensorView(odt, []uint64{uint64(shape[0]), uint64(shape[1])}, b)
			if err != nil {
				t.Fatal(err)
			}
			views[name] = v
		}
		md := format.Metadata{{Key: "format", Value: "pt"}}
		want, err := nst.Serialize(views, map[string]string{"format": "pt"})
		if err != nil {
			t.Fatal(err)
		}
		SortLikeReference(infos)
		got := writeAll(t, infos, md, data, 0)
		if !mixed && !bytes.Equal(got, want) {
			t.Errorf("all-F32 output differs from nlpodyssey's:\n got %q\nwant %q", headerOf(got), headerOf(want))
		}
		// Layout: parse both with the oracle and compare offsets and data.
		gotST, err := nst.Deserialize(got)
		if err != nil {
			t.Fatalf("nlpodyssey cannot read our output: %v", err)
		}
		wantST, _ := nst.Deserialize(want)
		gd, wd := got[8+len(headerOf(got)):], want[8+len(headerOf(want)):]
		if !bytes.Equal(gd, wd) {
			t.Errorf("mixed=%v: data sections differ", mixed)
		}
		for _, nv := range wantST.Tensors() {
			g, ok := gotST.Tensor(nv.Name)
			if !ok || !bytes.Equal(g.Data(), nv.TensorView.Data()) || !slices.Equal(g.Shape(), nv.TensorView.Shape()) {
				t.Errorf("mixed=%v: tensor %s differs", mixed, nv.Name)
			}
		}
		if len(headerOf(got)) != len(headerOf(want)) {
			t.Errorf("mixed=%v: header length %d, nlpodyssey %d", mixed, len(headerOf(got)), len(headerOf(want)))
		}
	}
}

// TestSortLikeReference checks the order against the reference enum,
// worked out by hand.
func TestSortLikeReference(t *testing.T) {
	infos := []format.TensorInfo{
		{Name: "b", DType: format.U8}, {Name: "a", DType: format.BOOL}, {Name: "c", DType: format.F8_E4M3},
		{Name: "d", DType: format.F8_E5M2}, {Name: "e", DType: format.I8}, {Name: "B", DType: format.F32},
		{Name: "a", DType: format.F32}, {Name: "f", DType: format.BF16}, {Name: "g", DType: format.F16},
		{Name: "h", DType: format.U64}, {Name: "i", DType: format.I64}, {Name: "j", DType: format.F64},
		{Name: "k", DType: format.U16}, {Name: "l", DType: format.I16}, {Name: "m", DType: format.U32},
		{Name: "n", DType: format.I32},
	}
	SortLikeReference(infos)
	var got []string
	for _, ti := range infos {
		got = append(got, ti.Name+":"+ti.DType.String())
	}
	want := []string{"h:U64", "i:I64", "j:F64", "B:F32", "a:F32", "m:U32", "n:I32", "f:BF16", "g:F16",
		"k:U16", "l:I16", "c:F8_E4M3", "d:F8_E5M2", "e:I8", "b:U8", "a:BOOL"}
	if !slices.Equal(got, want) {
		t.Errorf("SortLikeReference = %v, want %v", got, want)
	}
}

// TestAppendString checks serde_json's escaping, by its rules.
func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f<>&/", "\"\x7f<>&/\""},
		{"é€😀", `"é€😀"`},
	} {
		if got := string(appendString(nil, tc.in)); got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestWriterErrors: bad plans and bad streams fail with the right sentinel,
// and errors are sticky.
func TestWriterErrors(t *testing.T) {
	two := []format.TensorInfo{{Name: "a", DType: format.F32, Shape: []int64{2}}, {Name: "b", DType: format.U8, Shape: []int64{1}}}
	planCases := []struct {
		name  string
		infos []format.TensorInfo
		md    format.Metadata
		want  error
	}{
		{"block dtype", []format.TensorInfo{{Name: "q", DType: format.Q4_0, Shape: []int64{32}}}, nil, format.ErrUnsupported},
		{"invalid dtype", []format.TensorInfo{{Name: "q", Shape: []int64{1}}}, nil, format.ErrUnsupported},
		{"duplicate name", []format.TensorInfo{two[0], two[0]}, nil, format.ErrFormat},
		{"metadata name", []format.TensorInfo{{Name: "__metadata__", DType: format.U8}}, nil, format.ErrFormat},
		{"bad UTF-8 name", []format.TensorInfo{{Name: "\xff", DType: format.U8}}, nil, format.ErrFormat},
		{"negative dim", []format.TensorInfo{{Name: "n", DType: format.U8, Shape: []int64{-1}}}, nil, format.ErrFormat},
		{"non-string metadata", two, format.Metadata{{Key: "k", Value: uint32(1)}}, format.ErrUnsupported},
		{"duplicate metadata", two, format.Metadata{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}, format.ErrFormat},
	}
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewWriter(&bytes.Buffer{}, tc.infos, tc.md); !errors.Is(err, tc.want) {
				t.Errorf("NewWriter = %v, want %v", err, tc.want)
			}
		})
	}
	streamCases := []struct {
		name  string
		write func(w *Writer) error
		want  error
	}{
		{"wrong order", func(w *Writer) error { return w.WriteTensor("b", []byte{1}) }, format.ErrFormat},
		{"undeclared", func(w *Writer) error { return w.WriteTensor("c", []byte{1}) }, format.ErrNotFound},
		{"short data", func(w *Writer) error { return w.WriteTensor("a", make([]byte, 7)) }, format.ErrShape},
		{"missing at Close", func(w *Writer) error {
			w.WriteTensor("a", make([]byte, 8))
			return w.Close()
		}, format.ErrNotFound},
		{"written twice", func(w *Writer) error {
			w.WriteTensor("a", make([]byte, 8))
			return w.WriteTensor("a", make([]byte, 8))
		}, format.ErrFormat},
	}
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, two, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.write(w)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			// Sticky: a correct call now fails with the same error.
			if err2 := w.WriteTensor("a", make([]byte, 8)); !errors.Is(err2, tc.want) {
				t.Errorf("after failure, WriteTensor = %v, want the sticky %v", err2, tc.want)
			}
			if err3 := w.Close(); !errors.Is(err3, tc.want) {
				t.Errorf("after failure, Close = %v, want the sticky %v", err3, tc.want)
			}
		})
	}
}

// TestCreateAtomic: outputs appear only on a successful Close, never over
// an existing file without Force, never over an input.
func TestCreateAtomic(t *testing.T) {
	infos := []format.TensorInfo{{Name: "x", DType: format.F32, Shape: []int64{2}}}
	x := f32bytes(1, 2)
	write := func(path string, force bool) error {
		w, err := Create(path, infos, nil, format.CreateOptions{Force: force})
		if err != nil {
			return err
		}
		if err := w.WriteTensor("x", x); err != nil {
			return err
		}
		return w.Close()
	}
	t.Run("commit", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.safetensors")
		if err := write(path, false); err != nil {
			t.Fatal(err)
		}
		if got := dirEntries(t, dir); !slices.Equal(got, []string{"out.safetensors"}) {
			t.Errorf("dir holds %v, want only out.safetensors", got)
		}
		if err := write(path, false); !errors.Is(err, format.ErrExists) {
			t.Errorf("Create over an existing file = %v, want ErrExists", err)
		}
		if err := write(path, true); err != nil {
			t.Errorf("Create with Force = %v", err)
		}
	})
	t.Run("abort and failed close leave nothing", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.safetensors")
		w, err := Create(path, infos, nil, format.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteTensor("x", x)
		w.Abort()
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("after Abort dir holds %v", got)
		}
		w, _ = Create(path, infos, nil, format.CreateOptions{})
		if err := w.Close(); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("Close without tensors = %v, want ErrNotFound", err)
		}
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("after failed Close dir holds %v", got)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Close = %v", err)
		}
	})
	t.Run("input never overwritten", func(t *testing.T) {
		path := writeTemp(t, "in.safetensors", rawFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(3, 4)))
		before, _ := os.ReadFile(path)
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := write(path, true); !errors.Is(err, format.ErrExists) {
			t.Errorf("Create over an input with Force = %v, want ErrExists", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("input file was modified")
		}
	})
}

// TestWriteReadRoundTrip writes every dtype, a scalar and an empty tensor,
// and reads them back.
func TestWriteReadRoundTrip(t *testing.T) {
	var infos []format.TensorInfo
	data := map[string][]byte{}
	for i, dt := range referenceOrder {
		ti := format.TensorInfo{Name: "t" + dt.String(), DType: dt, Shape: []int64{int64(i % 3), 2}}
		n, _ := ti.NumBytes()
		infos = append(infos, ti)
		data[ti.Name] = bytes.Repeat([]byte{byte(i)}, int(n))
	}
	infos = append(infos, format.TensorInfo{Name: "scalar\n\"quoted\"", DType: format.F64, Shape: nil})
	data["scalar\n\"quoted\""] = make([]byte, 8)
	md := format.Metadata{{Key: "b", Value: "x"}, {Key: "a", Value: "\u0001y"}}
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	w, err := Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		if err := w.WriteTensor(ti.Name, data[ti.Name]); err != nil {
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
	defer r.Close()
	got := r.Tensors()
	if len(got) != len(infos) {
		t.Fatalf("Tensors() = %d, want %d", len(got), len(infos))
	}
	for i, ti := range infos {
		// Zero-size tensors share an offset; they stay in written order.
		if got[i].Name != ti.Name || got[i].DType != ti.DType || !slices.Equal(got[i].Shape, ti.Shape) && len(ti.Shape) > 0 {
			t.Errorf("Tensors()[%d] = %v, want %v", i, got[i], ti)
		}
		if d, _ := r.TensorData(ti.Name); !bytes.Equal(d, data[ti.Name]) {
			t.Errorf("TensorData(%q) differs", ti.Name)
		}
	}
	if !slices.Equal(r.Metadata(), md) {
		t.Errorf("Metadata() = %v, want %v", r.Metadata(), md)
	}
	if off := r.DataOffset(); off%8 != 0 {
		t.Errorf("data starts at %d, want a multiple of 8", off)
	}
}
