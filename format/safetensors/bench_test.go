package safetensors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// sparseCheckpoint writes a header for nTensors F16 tensors of rows×cols and
// extends the file to its full size with os.Truncate, so the data is a hole
// that costs no disk and no time to make.
func sparseCheckpoint(b *testing.B, nTensors int, rows, cols int64) (string, int64) {
	b.Helper()
	var infos []format.TensorInfo
	for i := range nTensors {
		infos = append(infos, format.TensorInfo{Name: fmt.Sprintf("model.layers.%d.mlp.weight", i), DType: format.F16, Shape: []int64{rows, cols}})
	}
	var hdr bytes.Buffer
	w, err := NewWriter(&hdr, infos, format.Metadata{{Key: "format", Value: "pt"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.writeHeader(); err != nil {
		b.Fatal(err)
	}
	size := int64(hdr.Len()) + int64(nTensors)*rows*cols*2
	path := filepath.Join(b.TempDir(), "sparse.safetensors")
	if err := os.WriteFile(path, hdr.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		b.Fatal(err)
	}
	return path, size
}

// BenchmarkOpenList opens a large (sparse) file, lists its tensors and
// metadata and closes it, reading no tensor data: the time must not grow
// with the file size (target < 50 ms). MB/s counts the file's size.
func BenchmarkOpenList(b *testing.B) {
	for _, gib := range []int64{2, 32} {
		// 4096×4096 F16 tensors: 32 MiB each.
		n := int(gib << 30 / (32 << 20))
		for _, mode := range []string{"Open", "NewReader"} {
			b.Run(fmt.Sprintf("%dGiB/%d-tensors/%s", gib, n, mode), func(b *testing.B) {
				path, size := sparseCheckpoint(b, n, 4096, 4096)
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					var src format.Source
					var f *os.File
					var err error
					if mode == "Open" {
						src, err = Open(path)
					} else {
						if f, err = os.Open(path); err == nil {
							src, err = NewReader(f, size)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					if len(src.Tensors()) != n || src.Metadata() == nil {
						b.Fatal("wrong listing")
					}
					src.Close()
					if f != nil {
						f.Close()
					}
				}
			})
		}
	}
}

// BenchmarkReadAll opens a 256 MiB file of real (non-sparse) data and reads
// every tensor's bytes, copying them into a buffer as a consumer would.
// The file is in the page cache after the first pass.
func BenchmarkReadAll(b *testing.B) {
	const nTensors, rows, cols = 32, 2048, 1024 // 32 F32 tensors of 8 MiB
	var infos []format.TensorInfo
	for i := range nTensors {
		infos = append(infos, format.TensorInfo{Name: fmt.Sprintf("t%03d", i), DType: format.F32, Shape: []int64{rows, cols}})
	}
	path := filepath.Join(b.TempDir(), "real.safetensors")
	w, err := Create(path, infos, nil, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, rows*cols*4)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for _, t := range infos {
		if err := w.WriteTensor(t.Name, chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	total := int64(nTensors * len(chunk))
	buf := make([]byte, len(chunk))
	for _, mode := range []string{"Open-mmap", "NewReader-ReadAt"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				var src format.Source
				var f *os.File
				if mode == "Open-mmap" {
					src, err = Open(path)
				} else {
					f, _ = os.Open(path)
					st, _ := f.Stat()
					src, err = NewReader(f, st.Size())
				}
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range src.Tensors() {
					d, err := src.TensorData(t.Name)
					if err != nil {
						b.Fatal(err)
					}
					copy(buf, d)
				}
				src.Close()
				if f != nil {
					f.Close()
				}
			}
		})
	}
}
