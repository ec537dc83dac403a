package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/tokenizer"
)

func TestLlama2cToGGUFAndBack(t *testing.T) {
	for _, c := range []struct {
		bin            string
		heads, kvHeads int64
	}{
		{"data/models/stories260K/stories260K.bin", 8, 4},
		{"data/models/aidreams260K/aidreams260K.bin", 4, 4},
	} {
		t.Run(filepath.Base(c.bin), func(t *testing.T) {
			bin := sharedPath(t, c.bin)
			dir := t.TempDir()
			g1, hf, g2 := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "hf"), filepath.Join(dir, "b.gguf")
			mustModel(t, bin, g1, ModelOptions{})
			src, err := format.Open(g1)
			if err != nil {
				t.Fatal(err)
			}
			md := src.Metadata()
			v, err := tokenizer.FromMetadata(md)
			if err != nil || v.Len() != 512 || v.Model != tokenizer.ModelLlama {
				t.Fatalf("GGUF tokenizer: %v, %v", v, err)
			}
			tok, err := tokenizer.New(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Decode(tok.Encode("Once upon a time")); !strings.Contains(got, "Once upon a time") {
				t.Errorf("tokenizer round trip = %q", got)
			}
			if h, _ := md.Int("llama.attention.head_count"); h != c.heads {
				t.Errorf("head_count = %d, want %d", h, c.heads)
			}
			if h, _ := md.Int("llama.attention.head_count_kv"); h != c.kvHeads {
				t.Errorf("head_count_kv = %d, want %d", h, c.kvHeads)
			}
			src.Close()
			mustModel(t, g1, hf, ModelOptions{})
			mustModel(t, hf, g2, ModelOptions{})
			sameHashes(t, "llama2c -> GGUF -> HF -> GGUF", hashes(t, g2), hashes(t, g1))
		})
	}
}

func TestFixturesThroughHF(t *testing.T) {
	for _, stem := range []string{"gpt2-f32", "gpt2-f16", "llama-f32", "llama-merged-f32"} {
		t.Run(stem, func(t *testing.T) {
			in := sharedPath(t, "fixtures/"+stem+".gguf")
			dir := t.TempDir()
			hf, out := filepath.Join(dir, "hf"), filepath.Join(dir, "out.gguf")
			mustModel(t, in, hf, ModelOptions{})
			mustModel(t, hf, out, ModelOptions{})
			sameHashes(t, "GGUF -> HF -> GGUF", hashes(t, out), hashes(t, in))
		})
	}
}

// TestGPT2HFRoundTrip converts a real HF GPT-2 checkpoint to GGUF and back.
func TestGPT2HFRoundTrip(t *testing.T) {
	in := sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random")
	dir := t.TempDir()
	g, hf := filepath.Join(dir, "g.gguf"), filepath.Join(dir, "hf")
	mustModel(t, in, g, ModelOptions{})
	mustModel(t, g, hf, ModelOptions{})
	sameHashes(t, "HF -> GGUF -> HF", hashes(t, hf), hashes(t, filepath.Join(in, "model.safetensors")))

	// The GGUF carries the names llama.cpp's gpt2 loader wants: the same
	// set as the gguf-py-written gpt2 fixture (which has 3 layers).
	names := func(path string, layers int) []string {
		src, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var out []string
		for _, ti := range src.Tensors() {
			if l, ok := arch.LayerOf(ti.Name); ok && l >= layers {
				continue
			}
			out = append(out, ti.Name)
		}
		sort.Strings(out)
		return out
	}
	got, want := names(g, 1), names(sharedPath(t, "fixtures/gpt2-f32.gguf"), 1)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("GGUF names %v, llama.cpp's gpt2 %v", got, want)
	}
	// Conv1D weights were transposed: HF c_attn [2,6] is GGUF attn_qkv [6,2].
	src, _ := format.Open(g)
	defer src.Close()
	if qkv, _ := format.TensorIndex(src.Tensors(), "blk.0.attn_qkv.weight"); !format.SameShape(qkv.Shape, []int64{6, 2}) {
		t.Errorf("attn_qkv shape %v, want [6 2]", qkv.Shape)
	}
}

// TestRopePermutation checks the row order against the definition in
// llama.cpp's converter, written out independently: GGUF row index
// (h, i, j) of shape (heads, D/2, 2) holds HF row (h, j, i) of (heads, 2, D/2).
func TestRopePermutation(t *testing.T) {
	const heads, d, cols = 3, 8, 2
	rows := heads * d
	data := make([]byte, rows*cols*4)
	for r := range rows {
		for c := range cols {
			binary.LittleEndian.PutUint32(data[(r*cols+c)*4:], math.Float32bits(float32(100*r+c)))
		}
	}
	out, err := ropeRows(data, rows, cols*4, heads, true)
	if err != nil {
		t.Fatal(err)
	}
	for h := range heads {
		for i := range d / 2 {
			for j := range 2 {
				got := math.Float32frombits(binary.LittleEndian.Uint32(out[((h*d+i*2+j)*cols)*4:]))
				want := float32(100 * (h*d + j*(d/2) + i))
				if got != want {
					t.Fatalf("GGUF row (%d,%d,%d) = HF row %v, want %v", h, i, j, got/100, want/100)
				}
			}
		}
	}
	back, _ := ropeRows(out, rows, cols*4, heads, false)
	if string(back) != string(data) {
		t.Error("inverse permutation does not restore the HF rows")
	}
	if _, err := ropeRows(data, rows, cols*4, 5, true); !errors.Is(err, format.ErrShape) {
		t.Errorf("rows not divisible by heads: %v, want ErrShape", err)
	}
}

func TestHFBadInput(t *testing.T) {
	base := sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random")
	cfg, _ := os.ReadFile(filepath.Join(base, "config.json"))
	weights, _ := os.ReadFile(filepath.Join(base, "model.safetensors"))
	vocab, _ := os.ReadFile(filepath.Join(base, "vocab.json"))
	merges, _ := os.ReadFile(filepath.Join(base, "merges.txt"))
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(cfg, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	bigVocab := func() []byte {
		var m map[string]int
		json.Unmarshal(vocab, &m)
		for i := range 10 {
			m[string(rune('A'+i))+"zz"] = 21 + i
		}
		b, _ := json.Marshal(m)
		return b
	}
	for _, c := range []struct {
		name  string
		files map[string][]byte
		want  error
		say   string
	}{
		{"no n_embd", map[string][]byte{"config.json": edit(func(m map[string]any) { delete(m, "n_embd") })}, format.ErrFormat, "n_embd"},
		{"unknown arch", map[string][]byte{"config.json": edit(func(m map[string]any) { m["model_type"] = "mamba" })}, format.ErrUnsupported, "mamba"},
		{"bad json", map[string][]byte{"config.json": []byte("{")}, format.ErrFormat, "config.json"},
		{"tokenizer too big", map[string][]byte{"vocab.json": bigVocab()}, format.ErrShape, "31 tokens"},
		{"no weights", map[string][]byte{"model.safetensors": nil}, format.ErrNotFound, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string][]byte{"config.json": cfg, "model.safetensors": weights, "vocab.json": vocab, "merges.txt": merges}
			for k, v := range c.files {
				files[k] = v
			}
			for k, v := range files {
				if v != nil {
					os.WriteFile(filepath.Join(dir, k), v, 0o644)
				}
			}
			checkModelFails(t, dir, c.want, c.say)
		})
	}
}

// checkModelFails converts the directory dir and wants an error wrapping
// want that mentions say, and no output file left.
func checkModelFails(t *testing.T, dir string, want error, say string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.gguf")
	err := Model(t.Context(), dir, out, ModelOptions{})
	if !errors.Is(err, want) || !strings.Contains(err.Error(), say) {
		t.Errorf("Model = %v, want %v mentioning %q", err, want, say)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Error("failed conversion left an output file")
	}
}
