package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared beside the module root, skipping the test
// when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testshared.Path(t, "")
}

// fixtures returns the .gguf files of ../shared/fixtures.
func fixtures(t testing.TB) []string {
	t.Helper()
	return testshared.Glob(t, "fixtures/*.gguf")
}

// sharedGGUFs returns every GGUF file of ../shared the package reads:
// fixtures, the llama.cpp vocab files and the tiny random Llama.
func sharedGGUFs(t testing.TB) []string {
	t.Helper()
	shared := sharedDir(t)
	files := fixtures(t)
	vocab, _ := filepath.Glob(filepath.Join(shared, "data", "llama.cpp-vocab", "*.gguf"))
	files = append(files, vocab...)
	return append(files, filepath.Join(shared, "data", "models", "llama-2-tiny-random.gguf"))
}

func stem(path string) string { return strings.TrimSuffix(filepath.Base(path), ".gguf") }

// tensorHash is one line of a llama-gguf-hash --sha256 listing.
type tensorHash struct{ name, hex string }

// readHashes parses fixtures/tensor-sha256/<stem>.txt: per-tensor lines
// "sha256  <hex>  <file>:<tensor>" in file order, then the whole-data line
// "sha256  <hex>  <file>".
func readHashes(t *testing.T, path string) (tensors []tensorHash, all string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[0] != "sha256" {
			t.Fatalf("%s: unexpected line %q", path, sc.Text())
		}
		if _, name, ok := strings.Cut(fields[2], ".gguf:"); ok {
			tensors = append(tensors, tensorHash{name, fields[1]})
		} else {
			all = fields[1]
		}
	}
	return tensors, all
}

// builder assembles GGUF bytes by hand, independently of the package's
// encoder, for tests of the reader and of the writer's layout.
type builder struct{ bytes.Buffer }

func (b *builder) u8(v uint8) *builder   { b.WriteByte(v); return b }
func (b *builder) u32(v uint32) *builder { b.Write(binary.LittleEndian.AppendUint32(nil, v)); return b }
func (b *builder) u64(v uint64) *builder { b.Write(binary.LittleEndian.AppendUint64(nil, v)); return b }
func (b *builder) str(s string) *builder { b.u64(uint64(len(s))); b.WriteString(s); return b }

// header writes magic, version and counts.
func (b *builder) header(version uint32, nTensors, nKV uint64) *builder {
	b.WriteString("GGUF")
	return b.u32(version).u64(nTensors).u64(nKV)
}

// kvU32 writes a UINT32 key/value pair.
func (b *builder) kvU32(key string, v uint32) *builder { return b.str(key).u32(4).u32(v) }

// tensor writes a tensor info with ne (innermost first).
func (b *builder) tensor(name string, typ uint32, off uint64, ne ...uint64) *builder {
	b.str(name).u32(uint32(len(ne)))
	for _, n := range ne {
		b.u64(n)
	}
	return b.u32(typ).u64(off)
}

// pad appends zeros up to a multiple of a.
func (b *builder) pad(a int) *builder {
	for b.Len()%a != 0 {
		b.WriteByte(0)
	}
	return b
}

// zeros appends n zero bytes.
func (b *builder) zeros(n int) *builder { b.Write(make([]byte, n)); return b }
