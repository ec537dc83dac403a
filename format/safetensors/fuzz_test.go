package safetensors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// FuzzReader: no input panics; every error wraps ErrFormat or
// ErrUnsupported; what parses re-encodes through the Writer, re-parses to
// the same tensors, metadata and bytes, and re-encodes to the same file.
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.safetensors")
	if dir := testshared.Find(); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "data", "safetensors-samples", "*.safetensors"))
		seeds = append(seeds, more...)
	}
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, tc := range badInputs {
		f.Add(tc.file)
	}
	f.Add(rawFile(one, make([]byte, 12)))
	f.Add(rawFile(`{"__metadata__":{"a":"\u00e9","b":"\n"},"s":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]},"z":{"dtype":"BOOL","shape":[0,5],"data_offsets":[1,1]},"u":{"dtype":"U64","shape":[1],"data_offsets":[1,9]}}`, make([]byte, 9)))
	f.Add(rawFile(`{"a":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},"b":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[4,6]}}  `, []byte{1, 2, 3, 4, 5, 6}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
				t.Fatalf("NewReader error %v wraps no sentinel", err)
			}
			return
		}
		once := encode(t, r)
		r2, err := NewReader(bytes.NewReader(once), int64(len(once)))
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v\n%q", err, once)
		}
		if got, want := r2.Tensors(), r.Tensors(); !slices.EqualFunc(got, want, sameInfo) {
			t.Fatalf("re-parsed tensors %v, want %v", got, want)
		}
		if got, want := r2.Metadata(), r.Metadata(); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("re-parsed metadata %#v, want %#v", got, want)
		}
		for _, ti := range r.Tensors() {
			d1, err1 := r.TensorData(ti.Name)
			d2, err2 := r2.TensorData(ti.Name)
			if err1 != nil || err2 != nil || !bytes.Equal(d1, d2) {
				t.Fatalf("tensor %q: data differs after re-encoding (%v, %v)", ti.Name, err1, err2)
			}
		}
		if twice := encode(t, r2); !bytes.Equal(twice, once) {
			t.Fatalf("encoding is not stable:\n%q\n%q", once, twice)
		}
	})
}

func sameInfo(a, b format.TensorInfo) bool {
	return a.Name == b.Name && a.DType == b.DType && slices.Equal(a.Shape, b.Shape)
}

// encode writes every tensor of r, in r's order, with r's metadata.
func encode(t *testing.T, r *Reader) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, r.Tensors(), r.Metadata())
	if err != nil {
		t.Fatalf("NewWriter on a parsed file: %v", err)
	}
	for _, ti := range r.Tensors() {
		d, err := r.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensor(ti.Name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
