package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReleasing(t *testing.T) {
	defer func(n int) { writeChunk = n }(writeChunk)
	writeChunk = 3 * 4096
	want := make([]byte, 10*4096+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "in.bin")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	heap := bytes.Clone(want)
	for _, c := range []struct {
		name   string
		data   []byte
		mapped bool
	}{
		{"mapped, chunked", m.Bytes()[100:], true},
		{"mapped, one chunk", m.Bytes()[5000:9000], true},
		{"heap", heap[100:], false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := mappingOf(c.data); (got != nil) != c.mapped {
				t.Fatalf("mappingOf = %v, want mapped %v", got, c.mapped)
			}
			var buf bytes.Buffer
			n, err := WriteReleasing(&buf, c.data)
			if err != nil || n != len(c.data) {
				t.Fatalf("WriteReleasing = %d, %v; want %d, nil", n, err, len(c.data))
			}
			if !bytes.Equal(buf.Bytes(), c.data) {
				t.Errorf("written bytes differ from the input")
			}
			ReleaseMapped(c.data) // a no-op for heap memory
			if !EqualReleasing(c.data, buf.Bytes()) || EqualReleasing(c.data, buf.Bytes()[1:]) {
				t.Errorf("EqualReleasing disagrees with bytes.Equal")
			}
			// Released pages read back unchanged from the page cache.
			if !bytes.Equal(m.Bytes(), want) {
				t.Errorf("the mapping reads back changed after release")
			}
		})
	}
}
