package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// encode writes src with NewWriter and returns the bytes.
func encode(t *testing.T, src format.Source) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, src.Tensors(), src.Metadata())
	if err != nil {
		t.Fatalf("NewWriter on a parsed file: %v", err)
	}
	copyTo(t, w, src)
	return buf.Bytes()
}

// maxFuzzAlignment bounds the alignment of files the fuzzer re-encodes: a
// valid file may ask for 2^31, which pads every tensor to 2 GiB; real
// files use 32 to 4096.
const maxFuzzAlignment = 1 << 12

// FuzzReader parses arbitrary bytes. What fails must fail with a format
// sentinel; what parses must re-encode with the Writer, re-parse to the
// same tensors, data and metadata, and re-encode to the same bytes.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.gguf"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(validFile())
	f.Add(oneKV(func(b *builder) { b.kvU32(KeyAlignment, 64) }))
	f.Add(oneKV(func(b *builder) { b.str("n").u32(9).u32(9).u64(1).u32(8).u64(1).str("x") }))
	var all bytes.Buffer
	if w, err := NewWriter(&all, []format.TensorInfo{{Name: "s", DType: format.F32}}, allTypes()); err == nil {
		w.WriteTensor("s", make([]byte, 4))
		w.Close()
		f.Add(all.Bytes())
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
				t.Fatalf("error wraps no format sentinel: %v", err)
			}
			return
		}
		if r.Alignment() > maxFuzzAlignment {
			return // valid, but re-encoding would write gigabytes of padding
		}
		enc := encode(t, r)
		r2, err := NewReader(bytes.NewReader(enc), int64(len(enc)))
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		if !reflect.DeepEqual(r2.Tensors(), r.Tensors()) {
			t.Fatalf("re-parsed Tensors() = %v, want %v", r2.Tensors(), r.Tensors())
		}
		for _, info := range r.Tensors() {
			a, _ := r.TensorData(info.Name)
			b, err := r2.TensorData(info.Name)
			if err != nil || !bytes.Equal(a, b) {
				t.Fatalf("re-parsed TensorData(%q) differs (%v)", info.Name, err)
			}
		}
		// Encoding is injective on typed values, so equal bytes mean equal
		// metadata, NaN payloads included.
		if enc2 := encode(t, r2); !bytes.Equal(enc2, enc) {
			t.Fatalf("second encoding differs from the first at byte %d", firstDiff(enc2, enc))
		}
		if len(r2.Metadata()) != len(r.Metadata()) {
			t.Fatalf("re-parsed %d metadata pairs, want %d", len(r2.Metadata()), len(r.Metadata()))
		}
	})
}
