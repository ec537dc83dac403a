package quantize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
)

// fixtureRuns are the files llama-quantize made from the F32 fixture
// models, with the preset it was given (see fixtures/README.md).
var fixtureRuns = []struct{ stem, preset string }{
	{"gpt2-q8_0", "Q8_0"}, {"gpt2-q4_0", "Q4_0"}, {"gpt2-q4_1", "Q4_1"},
	{"gpt2-q5_0", "Q5_0"}, {"gpt2-q5_1", "Q5_1"}, {"gpt2-bf16", "BF16"},
	{"llama-q8_0", "Q8_0"}, {"llama-q2_k", "Q2_K"}, {"llama-q3_k_m", "Q3_K_M"},
	{"llama-q4_k_m", "Q4_K_M"}, {"llama-q5_k_m", "Q5_K_M"}, {"llama-q6_k", "Q6_K"},
}

// quantizeFixture quantizes the F32 source of stem with preset into a
// temporary file and returns its path.
func quantizeFixture(t *testing.T, dir, stem, preset string, opt Options) string {
	t.Helper()
	p, err := ParsePreset(preset)
	if err != nil {
		t.Fatal(err)
	}
	opt.Preset = p
	src := filepath.Join(dir, strings.SplitN(stem, "-", 2)[0]+"-f32.gguf")
	out := filepath.Join(t.TempDir(), stem+".gguf")
	if _, err := File(context.Background(), src, out, opt); err != nil {
		t.Fatalf("File(%s, %s) = %v", src, preset, err)
	}
	return out
}

// TestFixturesMatchLlamaQuantize: quantizing each F32 fixture model with
// the preset llama-quantize was given reproduces that tool's output: the
// KV list, the tensor order, the tensor types (gguf_dump.py listings), the
// bytes of every tensor (llama-gguf-hash listings), and the whole file.
func TestFixturesMatchLlamaQuantize(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	for _, run := range fixtureRuns {
		t.Run(run.stem, func(t *testing.T) {
			out := quantizeFixture(t, dir, run.stem, run.preset, Options{})
			checkQuantized(t, out, dir, "tensor-sha256", run.stem)
		})
	}
}

// checkQuantized checks the quantized file out against llama-quantize's
// DIR/STEM.gguf: its metadata and tensors against the dump
// DIR/dumps/STEM.dump.txt, its tensors' bytes against the hashes in
// DIR/SHADIR/STEM.txt, and the whole file byte for byte.
func checkQuantized(t *testing.T, out, dir, shaDir, stem string) {
	t.Helper()
	r, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kvs, tensors := readDump(t, filepath.Join(dir, "dumps", stem+".dump.txt"))
	checkKVs(t, r.Metadata(), kvs)
	checkTensors(t, r, tensors, testshared.TensorHashes(t, filepath.Join(dir, shaDir, stem+".txt")))
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, stem+".gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes that differ from llama-quantize's %s (%d)", out, len(got), stem+".gguf", len(want))
	}
}

// checkKVs compares metadata with a dump's KV list: keys in order, value
// types, and scalar values as gguf_dump.py prints them.
func checkKVs(t *testing.T, md format.Metadata, want []dumpKV) {
	t.Helper()
	if len(md) != len(want) {
		t.Errorf("%d metadata keys, want %d", len(md), len(want))
	}
	for i := range min(len(md), len(want)) {
		kv, w := md[i], want[i]
		if kv.Key != w.key || dumpTypeName(kv.Value) != w.typ {
			t.Errorf("key %d = %s %s, want %s %s", i, kv.Key, dumpTypeName(kv.Value), w.key, w.typ)
			continue
		}
		if n, ok := kv.Value.(uint32); ok && fmt.Sprint(n) != w.value {
			t.Errorf("%s = %d, want %s", kv.Key, n, w.value)
		}
		if s, ok := kv.Value.(string); ok && "'"+s+"'" != w.value {
			t.Errorf("%s = %q, want %s", kv.Key, s, w.value)
		}
	}
}

// checkTensors compares r's tensors with a dump (order, type, shape) and
// each tensor's data with its sha256 from llama-gguf-hash.
func checkTensors(t *testing.T, r *gguf.Reader, want []dumpTensor, hashes map[string]string) {
	t.Helper()
	got := r.Tensors()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for i, ti := range got {
		w := want[i]
		ne := make([]int64, len(ti.Shape))
		for j, d := range ti.Shape {
			ne[len(ne)-1-j] = d
		}
		if ti.Name != w.name || ti.DType.String() != w.typ || !format.SameShape(ne, w.ne) {
			t.Errorf("tensor %d = %s %v ne%v, want %s %s ne%v", i, ti.Name, ti.DType, ne, w.name, w.typ, w.ne)
			continue
		}
		data, err := r.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if h := hex.EncodeToString(sum[:]); h != hashes[ti.Name] {
			t.Errorf("sha256(%s) = %s, want %s", ti.Name, h, hashes[ti.Name])
		}
	}
}
