package gguf

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// TestReadsVersion2: GGUF v2 (llama.cpp from August to October 2023) has
// v3's little-endian layout exactly (v3 only added big-endian files), so
// a llama.cpp fixture with its version field set to 2 must read the same:
// every tensor's bytes hash as llama-gguf-hash listed them for the v3 file.
func TestReadsVersion2(t *testing.T) {
	src := testshared.Path(t, "fixtures/llama-q4_k_m.gguf")
	want := testshared.TensorHashes(t, testshared.Path(t, "fixtures/tensor-sha256/llama-q4_k_m.txt"))
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(raw[4:], 2)
	p := filepath.Join(t.TempDir(), "v2.gguf")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatalf("reading a v2 file: %v", err)
	}
	defer r.Close()
	if r.Version() != 2 {
		t.Errorf("Version() = %d, want 2", r.Version())
	}
	if len(r.Tensors()) != len(want) {
		t.Fatalf("%d tensors, llama-gguf-hash lists %d", len(r.Tensors()), len(want))
	}
	for _, ti := range r.Tensors() {
		d, err := r.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(d)
		if got := hex.EncodeToString(sum[:]); got != want[ti.Name] {
			t.Errorf("tensor %s: sha256 %s, llama-gguf-hash %s", ti.Name, got, want[ti.Name])
		}
	}
}
