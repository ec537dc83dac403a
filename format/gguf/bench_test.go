package gguf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// llamaLike returns the tensor infos and metadata of a Llama-shaped model
// of n F16 [4096 4096] matrices (32 MiB each) with a 32,000-token vocab.
func llamaLike(n int) ([]format.TensorInfo, format.Metadata) {
	infos := make([]format.TensorInfo, n)
	for i := range infos {
		infos[i] = format.TensorInfo{Name: fmt.Sprintf("blk.%d.ffn_up.weight", i), DType: format.F16, Shape: []int64{4096, 4096}}
	}
	tokens := make([]string, 32000)
	scores := make([]float32, len(tokens))
	types := make([]int32, len(tokens))
	for i := range tokens {
		tokens[i] = fmt.Sprintf("▁tok%d", i)
		scores[i], types[i] = -float32(i), 1
	}
	md := format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(32)},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: tokens},
		{Key: "tokenizer.ggml.scores", Value: scores},
		{Key: "tokenizer.ggml.token_type", Value: types},
	}
	return infos, md
}

// sparseFile writes the header of a model planned from infos and md and
// extends the file to its full size without writing data (a sparse file).
func sparseFile(b *testing.B, infos []format.TensorInfo, md format.Metadata) (string, int64) {
	b.Helper()
	l, err := plan(infos, md)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(l.header)) + l.headerPad
	for _, n := range l.nbytes {
		size += alignUp(n, l.align)
	}
	path := filepath.Join(b.TempDir(), "model.gguf")
	if err := os.WriteFile(path, l.header, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		b.Fatal(err)
	}
	return path, size
}

// BenchmarkOpenList2GB opens a 2 GiB file and lists its tensors; no tensor
// data is read (target: < 50 ms whatever the size).
func BenchmarkOpenList2GB(b *testing.B) {
	infos, md := llamaLike(64)
	path, size := sparseFile(b, infos, md)
	b.ReportAllocs()
	b.ReportMetric(float64(size)/(1<<30), "GiB/file")
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var total int64
		for _, info := range r.Tensors() {
			off, _ := r.TensorOffset(info.Name)
			total += off
		}
		if len(r.Tensors()) != len(infos) || total == 0 {
			b.Fatal("wrong listing")
		}
		r.Close()
	}
}

// BenchmarkReadAllTensors reads every tensor byte of a 256 MiB file written
// by the Writer, through the mmap of Open and through NewReader's ReadAt.
func BenchmarkReadAllTensors(b *testing.B) {
	infos, md := llamaLike(8)
	path := filepath.Join(b.TempDir(), "model.gguf")
	w, err := Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 4096*4096*2)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var total int64
	for _, info := range infos {
		if err := w.WriteTensor(info.Name, data); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	sink := make([]byte, len(data))
	b.Run("mmap", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			for _, info := range r.Tensors() {
				d, err := r.TensorData(info.Name)
				if err != nil {
					b.Fatal(err)
				}
				copy(sink, d)
			}
			r.Close()
		}
	})
	b.Run("ReadAt", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			st, _ := f.Stat()
			r, err := NewReader(f, st.Size())
			if err != nil {
				b.Fatal(err)
			}
			for _, info := range r.Tensors() {
				if _, err := r.TensorData(info.Name); err != nil {
					b.Fatal(err)
				}
			}
			f.Close()
		}
	})
}

// BenchmarkWrite streams a 256 MiB model through NewWriter to a discarding
// writer: it measures the Writer's own overhead, not a disk.
func BenchmarkWrite(b *testing.B) {
	infos, md := llamaLike(8)
	data := make([]byte, 4096*4096*2)
	b.SetBytes(int64(len(infos) * len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(discard{}, infos, md)
		if err != nil {
			b.Fatal(err)
		}
		for _, info := range infos {
			if err := w.WriteTensor(info.Name, data); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
