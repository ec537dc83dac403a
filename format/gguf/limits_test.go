package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// holeyFile writes head and extends the file with a hole to size bytes
// (zeros that take no disk).
func holeyFile(t *testing.T, head []byte, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sparse.gguf")
	if err := os.WriteFile(p, head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSparseMetadataBounded: a sparse 64 MiB file whose zeros read as
// millions of empty nested arrays, or that claims millions of entries, is
// refused before its values cost memory (it took gigabytes).
func TestSparseMetadataBounded(t *testing.T) {
	const size = 64 << 20
	const budget = 8 << 20
	for _, c := range []struct {
		name string
		head []byte
	}{
		// One key: an array of arrays, each zero element an empty UINT8 array.
		{"empty nested arrays", (&builder{}).header(3, 0, 1).str("a").u32(9).u32(9).u64((size - 64) / 12).Bytes()},
		{"2^21 entries", (&builder{}).header(3, 0, 1<<21).Bytes()},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := holeyFile(t, c.head, size)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Open(p)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, format.ErrUnsupported) {
				t.Errorf("Open = %v, want ErrUnsupported", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > budget {
				t.Errorf("allocated %d MiB, want at most %d MiB", got>>20, budget>>20)
			}
		})
	}
}

// TestWriterCapsAlignment: a general.alignment of 2^31 (as a crafted
// safetensors file's gguf: metadata can carry) is refused, not written as
// gigabytes of padding; 64 KiB is accepted.
func TestWriterCapsAlignment(t *testing.T) {
	infos := []format.TensorInfo{{Name: "w", DType: format.F32, Shape: []int64{2}}}
	for _, c := range []struct {
		align uint32
		want  error
	}{{1 << 31, format.ErrUnsupported}, {MaxWriteAlignment, nil}} {
		p := filepath.Join(t.TempDir(), "a.gguf")
		sink, err := format.Create("gguf", p, infos, format.Metadata{{Key: KeyAlignment, Value: c.align}}, format.CreateOptions{})
		if c.want != nil {
			if !errors.Is(err, c.want) {
				t.Errorf("alignment %d: Create = %v, want %v", c.align, err, c.want)
			}
			if err == nil {
				sink.Abort()
			}
			continue
		}
		if err != nil {
			t.Fatalf("alignment %d: %v", c.align, err)
		}
		if err := sink.WriteTensor("w", make([]byte, 8)); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
