package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// ggml type ids used by the hand-built files.
const (
	idF32  = 0
	idQ4_0 = 2
	idQ8_0 = 8
)

// file builds a GGUF v3 file: header with the given counts, the KV pairs
// and tensor infos that kvs and tis write, padding to 32 and data zeros.
func file(nTensors, nKV uint64, kvs, tis func(*builder), data int) []byte {
	b := (&builder{}).header(3, nTensors, nKV)
	if kvs != nil {
		kvs(b)
	}
	if tis != nil {
		tis(b)
	}
	return b.pad(32).zeros(data).Bytes()
}

// validFile is a small well-formed file: two KVs, an F32 [2 3] tensor "a"
// at 0 and a Q8_0 [32] tensor "b" at 32, 66 data bytes (b unpadded).
func validFile() []byte {
	return file(2, 2, func(b *builder) {
		b.str("general.architecture").u32(8).str("llama")
		b.kvU32("llama.block_count", 2)
	}, func(b *builder) {
		b.tensor("a", idF32, 0, 3, 2)
		b.tensor("b", idQ8_0, 32, 32)
	}, 32+34)
}

// oneKV is a file with no tensors and the single KV pair kv writes.
func oneKV(kv func(*builder)) []byte { return file(0, 1, kv, nil, 0) }

// oneTensor is a file with one tensor info written by ti and data bytes.
func oneTensor(ti func(*builder), data int) []byte { return file(1, 0, nil, ti, data) }

func TestBadInput(t *testing.T) {
	huge := uint64(1) << 60
	tests := []struct {
		name  string
		data  []byte
		want  error
		names string // the key or tensor the message must name
	}{
		{"empty file", nil, format.ErrFormat, ""},
		{"bad magic", append([]byte("GGML"), validFile()[4:]...), format.ErrFormat, ""},
		{"version 0", (&builder{}).header(0, 0, 0).Bytes(), format.ErrFormat, ""},
		{"version 1", (&builder{}).header(1, 0, 0).Bytes(), format.ErrUnsupported, ""},
		{"version 4", (&builder{}).header(4, 0, 0).Bytes(), format.ErrUnsupported, ""},
		{"big-endian v3", (&builder{}).header(0x03000000, 0, 0).Bytes(), format.ErrUnsupported, ""},
		{"tensor count 2^60", file(huge, 0, nil, nil, 0), format.ErrFormat, "tensor count"},
		{"KV count 2^60", file(0, huge, nil, nil, 0), format.ErrFormat, "metadata count"},
		{"key length 2^40", oneKV(func(b *builder) { b.u64(1 << 40).WriteString("k") }), format.ErrFormat, ""},
		{"string length 2^40", oneKV(func(b *builder) { b.str("s").u32(8).u64(1 << 40) }), format.ErrFormat, `"s"`},
		{"UINT32 array count 2^61", oneKV(func(b *builder) { b.str("a").u32(9).u32(4).u64(1 << 61) }), format.ErrFormat, `"a"`},
		{"string array count 2^60", oneKV(func(b *builder) { b.str("a").u32(9).u32(8).u64(huge) }), format.ErrFormat, `"a"`},
		{"nested array count 2^60", oneKV(func(b *builder) { b.str("a").u32(9).u32(9).u64(huge) }), format.ErrFormat, `"a"`},
		{"string in array 2^40", oneKV(func(b *builder) { b.str("a").u32(9).u32(8).u64(1).u64(1 << 40) }), format.ErrFormat, `"a"`},
		{"value type 13", oneKV(func(b *builder) { b.str("v").u32(13).u32(0) }), format.ErrFormat, `"v"`},
		{"array of type 13", oneKV(func(b *builder) { b.str("v").u32(9).u32(13).u64(0) }), format.ErrFormat, `"v"`},
		{"nested too deep", oneKV(func(b *builder) {
			b.str("deep").u32(9)
			for range maxNesting {
				b.u32(9).u64(1)
			}
			b.u32(0).u64(0)
		}), format.ErrUnsupported, `"deep"`},
		{"empty key", oneKV(func(b *builder) { b.str("").u32(0).u8(1) }), format.ErrFormat, "key 0"},
		{"duplicate key", file(0, 2, func(b *builder) { b.kvU32("k", 1).kvU32("k", 2) }, nil, 0), format.ErrFormat, `"k"`},
		{"alignment UINT64", oneKV(func(b *builder) { b.str(KeyAlignment).u32(10).u64(32) }), format.ErrFormat, KeyAlignment},
		{"alignment 0", oneKV(func(b *builder) { b.kvU32(KeyAlignment, 0) }), format.ErrFormat, KeyAlignment},
		{"alignment 48", oneKV(func(b *builder) { b.kvU32(KeyAlignment, 48) }), format.ErrFormat, KeyAlignment},
		{"name 64 bytes", oneTensor(func(b *builder) { b.tensor(strings.Repeat("n", 64), idF32, 0, 1) }, 32), ErrNameTooLong, "nnnn"},
		{"duplicate tensor", file(2, 0, nil, func(b *builder) { b.tensor("t", idF32, 0, 1).tensor("t", idF32, 32, 1) }, 64), format.ErrFormat, `"t"`},
		{"5 dimensions", oneTensor(func(b *builder) { b.tensor("t", idF32, 0, 1, 1, 1, 1, 1) }, 32), format.ErrFormat, `"t"`},
		{"negative dimension", oneTensor(func(b *builder) { b.tensor("t", idF32, 0, 1<<63) }, 32), format.ErrFormat, `"t"`},
		{"element count overflows", oneTensor(func(b *builder) { b.tensor("t", idF32, 0, 1<<40, 1<<40) }, 32), format.ErrFormat, `"t"`},
		{"removed type id 4", oneTensor(func(b *builder) { b.tensor("t", 4, 0, 32) }, 32), format.ErrUnsupported, `"t"`},
		{"type id 99", oneTensor(func(b *builder) { b.tensor("t", 99, 0, 32) }, 32), format.ErrUnsupported, `"t"`},
		{"type id -1", oneTensor(func(b *builder) { b.tensor("t", 0xFFFFFFFF, 0, 32) }, 32), format.ErrUnsupported, `"t"`},
		{"row not whole blocks", oneTensor(func(b *builder) { b.tensor("t", idQ4_0, 0, 33) }, 64), format.ErrShape, `"t"`},
		{"row not whole blocks is ErrFormat", oneTensor(func(b *builder) { b.tensor("t", idQ4_0, 0, 33) }, 64), format.ErrFormat, `"t"`},
		{"misaligned offset", oneTensor(func(b *builder) { b.tensor("t", idF32, 4, 1) }, 64), format.ErrFormat, `"t"`},
		{"offset past the end", oneTensor(func(b *builder) { b.tensor("t", idF32, 64, 1) }, 32), format.ErrFormat, `"t"`},
		{"offset 2^63", oneTensor(func(b *builder) { b.tensor("t", idF32, 1<<63, 1) }, 32), format.ErrFormat, `"t"`},
		{"offset near 2^63", oneTensor(func(b *builder) { b.tensor("t", idF32, 1<<63-32, 1) }, 32), format.ErrFormat, `"t"`},
		{"data past the end", oneTensor(func(b *builder) { b.tensor("t", idF32, 0, 1000) }, 32), format.ErrFormat, `"t"`},
		{"overlap", file(2, 0, nil, func(b *builder) { b.tensor("t", idF32, 0, 16).tensor("u", idF32, 32, 8) }, 96), format.ErrFormat, `"u"`},
		{"data section past the end", (&builder{}).header(3, 1, 0).tensor("t", idF32, 0, 0).Bytes(), format.ErrFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.gguf")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err == nil {
				r.Close()
				t.Fatalf("Open(%s) succeeded, want %v", tt.name, tt.want)
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.names) {
				t.Fatalf("Open() error = %v, want %v naming the file and %s", err, tt.want, tt.names)
			}
			if _, err2 := NewReader(bytes.NewReader(tt.data), int64(len(tt.data))); !errors.Is(err2, tt.want) {
				t.Errorf("NewReader() error = %v, want %v", err2, tt.want)
			}
		})
	}
}

// TestValidFile makes sure the base of the bad-input table is itself valid.
func TestValidFile(t *testing.T) {
	data := validFile()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(r.Tensors()); got != 2 {
		t.Fatalf("len(Tensors()) = %d, want 2", got)
	}
	if off, _ := r.TensorOffset("b"); off+34 != int64(len(data)) {
		t.Errorf("TensorOffset(b) = %d, want %d", off, len(data)-34)
	}
}

// TestTruncated cuts files at many points: every cut before the end of the
// last tensor's data must fail with ErrFormat; cuts in the final padding
// are harmless.
func TestTruncated(t *testing.T) {
	lora, err := os.ReadFile(filepath.Join("testdata", "gpt2-lora-r4.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		data []byte
		step int
	}{
		{"hand-built", validFile(), 1},
		{"gpt2-lora-r4", lora, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			full, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			var end int64 // end of the last tensor's data
			for _, info := range full.Tensors() {
				off, _ := full.TensorOffset(info.Name)
				n, _ := info.NumBytes()
				end = max(end, off+n)
			}
			for cut := 0; cut < len(tt.data); cut += tt.step {
				_, err := NewReader(bytes.NewReader(tt.data[:cut]), int64(cut))
				if int64(cut) < end && !errors.Is(err, format.ErrFormat) {
					t.Fatalf("cut at %d of %d: error = %v, want ErrFormat", cut, len(tt.data), err)
				}
				if int64(cut) >= end && err != nil {
					t.Fatalf("cut at %d in the final padding: error = %v, want nil", cut, err)
				}
			}
		})
	}
}

// TestHugeCountsAllocateLittle: counts and lengths far beyond the file
// size fail before anything is allocated for them.
func TestHugeCountsAllocateLittle(t *testing.T) {
	const budget = 1 << 20 // bytes; parsing a 100-byte header needs far less
	inputs := map[string][]byte{
		"tensors 2^60":      file(1<<60, 0, nil, nil, 0),
		"KVs 2^60":          file(0, 1<<60, nil, nil, 0),
		"string 2^40":       oneKV(func(b *builder) { b.str("s").u32(8).u64(1 << 40) }),
		"u8 array 2^40":     oneKV(func(b *builder) { b.str("a").u32(9).u32(0).u64(1 << 40) }),
		"string array 2^60": oneKV(func(b *builder) { b.str("a").u32(9).u32(8).u64(1 << 60) }),
	}
	for name, data := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := NewReader(bytes.NewReader(data), int64(len(data)))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, format.ErrFormat) {
			t.Errorf("%s: error = %v, want ErrFormat", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > budget {
			t.Errorf("%s: allocated %d bytes, want at most %d", name, got, budget)
		}
	}
}
