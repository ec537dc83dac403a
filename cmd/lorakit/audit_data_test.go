package main

// The audit's bad-data cases: files that parse but say something a
// converted model cannot be, which must fail rather than succeed silently.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestAuditHFConfigValidated: HF → GGUF checks config.json as model.Load
// checks a GGUF (absurd counts, zero heads, a non-numeric epsilon that
// used to become the default) and refuses an index that names part of the
// checkpoint.
func TestAuditHFConfigValidated(t *testing.T) {
	src := sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random")
	for _, c := range []struct {
		name, field string
		value       any
		mention     string
	}{
		{"a billion layers", "n_layer", 1e9, "block_count"},
		{"zero heads", "n_head", 0, "n_head"},
		{"non-numeric epsilon", "layer_norm_epsilon", "abc", "layer_norm_epsilon"},
		{"two layers, one stored", "n_layer", 2, "layer 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
				copyFile(t, d, "data/models/lm-buddy-tiny-gpt2-random/"+f)
			}
			var cfg map[string]any
			raw, _ := os.ReadFile(filepath.Join(src, "config.json"))
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			cfg[c.field] = c.value
			raw, _ = json.Marshal(cfg)
			os.WriteFile(filepath.Join(d, "config.json"), raw, 0o644)
			out := filepath.Join(t.TempDir(), "out.gguf")
			args := []string{"convert", d, "-o", out}
			_, errs, code := lorakit(t, args...)
			checkFailure(t, args, errs, code, exitFail, c.mention)
			if _, err := os.Stat(out); err == nil {
				t.Error("a GGUF was written")
			}
		})
	}

	t.Run("index names one shard of several", func(t *testing.T) {
		hf := filepath.Join(t.TempDir(), "hf")
		if _, errs, code := lorakit(t, "convert", sharedPath(t, "fixtures/llama-f32.gguf"), "-o", hf, "--to", "hf", "--max-shard-size", "200000"); code != 0 {
			t.Fatalf("making shards: %s", errs)
		}
		idxPath := filepath.Join(hf, "model.safetensors.index.json")
		var idx struct {
			Metadata  map[string]any    `json:"metadata"`
			WeightMap map[string]string `json:"weight_map"`
		}
		raw, err := os.ReadFile(idxPath)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(raw, &idx)
		shards := map[string]bool{}
		for _, f := range idx.WeightMap {
			shards[f] = true
		}
		if len(shards) < 2 {
			t.Fatalf("only %d shard(s) made", len(shards))
		}
		first := idx.WeightMap["model.embed_tokens.weight"]
		for name, f := range idx.WeightMap {
			if f != first {
				delete(idx.WeightMap, name)
			}
		}
		raw, _ = json.Marshal(idx)
		os.WriteFile(idxPath, raw, 0o644)
		out := filepath.Join(t.TempDir(), "out.gguf")
		args := []string{"convert", hf, "-o", out}
		_, errs, code := lorakit(t, args...)
		checkFailure(t, args, errs, code, exitFail, "layer")
		if !strings.Contains(errs, "shard") {
			t.Errorf("error %q does not point at a missing shard", errs)
		}
	})
}

// TestAuditNonFinite: NaN weights make generate, logits, score and eval
// fail with one line (generate used to emit token 0 forever, exit 0), and
// --json reports with NaN or Inf in them are valid JSON that names them.
func TestAuditNonFinite(t *testing.T) {
	d := t.TempDir()
	nanModel := filepath.Join(d, "nan.gguf")
	writeNaNModel(t, nanModel)
	data := filepath.Join(d, "e.txt")
	os.WriteFile(data, []byte("name : The Eagle||The Eagle is a pub .\n"), 0o644)
	for _, args := range [][]string{
		{"generate", nanModel, "-n", "5", "--prompt", "Once"},
		{"logits", nanModel, "--tokens", "1,2"},
		{"score", nanModel, "--text", data},
		{"eval", nanModel, "--data", data, "-n", "3"},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, errs, code := lorakit(t, args...)
			checkFailure(t, args, errs, code, exitFail, "NaN")
		})
	}

	t.Run("diff --json", func(t *testing.T) {
		a, b := filepath.Join(d, "a.safetensors"), filepath.Join(d, "b.safetensors")
		os.WriteFile(a, safetensorsF32(map[string]tensorF32{"w": {[]int{2}, []float32{float32(math.NaN()), 1}}}), 0o644)
		os.WriteFile(b, safetensorsF32(map[string]tensorF32{"w": {[]int{2}, []float32{0, float32(math.Inf(1))}}}), 0o644)
		out, errs, code := lorakit(t, "diff", "--json", a, b)
		if code != exitFail || !json.Valid([]byte(out)) {
			t.Fatalf("diff --json: exit %d, stdout %q (valid JSON: %v), stderr %q", code, out, json.Valid([]byte(out)), errs)
		}
	})
}

// TestJSONNonFinite: writeJSON spells NaN and ±Inf as strings, keeping the
// field names, omitempty and embedded fields of encoding/json.
func TestJSONNonFinite(t *testing.T) {
	type inner struct {
		X float32 `json:"x"`
	}
	v := struct {
		inner
		A float64            `json:"a"`
		B []float32          `json:"b"`
		C map[string]float64 `json:"c,omitempty"`
		D string             `json:"d,omitempty"`
	}{inner{float32(math.Inf(-1))}, math.NaN(), []float32{1, float32(math.Inf(1))}, nil, ""}
	var buf strings.Builder
	if err := writeJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	want := `{"a":"NaN","b":[1,"Infinity"],"x":"-Infinity"}` + "\n"
	if buf.String() != want {
		t.Errorf("writeJSON = %s, want %s", buf.String(), want)
	}
}

// writeNaNModel writes the embedded stories260K with a NaN in its final
// norm as GGUF.
func writeNaNModel(t *testing.T, path string) {
	t.Helper()
	src := storiesGGUF(t)
	s, err := format.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sink, err := format.Create("gguf", path, s.Tensors(), s.Metadata(), format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range s.Tensors() {
		b, err := s.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if ti.Name == "output_norm.weight" && ti.DType == format.F32 {
			b = append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(math.NaN())))
		}
		if err := sink.WriteTensor(ti.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAuditSizeUnits: --max-shard-size takes units as transformers ("5GB")
// and llama-gguf-split ("1M") write them.
func TestAuditSizeUnits(t *testing.T) {
	f32 := sharedPath(t, "fixtures/llama-f32.gguf")
	for _, size := range []string{"5GB", "1M", "2GiB", "100000"} {
		out := filepath.Join(t.TempDir(), "hf")
		if _, errs, code := lorakit(t, "convert", f32, "-o", out, "--to", "hf", "--max-shard-size", size); code != exitOK {
			t.Errorf("--max-shard-size %s: exit %d, %s", size, code, errs)
		}
	}
	_, errs, code := lorakit(t, "convert", f32, "-o", filepath.Join(t.TempDir(), "hf"), "--to", "hf", "--max-shard-size", "5XB")
	checkFailure(t, []string{"--max-shard-size", "5XB"}, errs, code, exitUsage, "--max-shard-size")
}

// TestAuditInspectEscapes: names and keys holding control characters (a
// terminal escape, a carriage return) are printed escaped, not raw.
func TestAuditInspectEscapes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ctl.gguf")
	infos := []format.TensorInfo{{Name: "w\x1b[2J\rforged", DType: format.F32, Shape: []int64{1}}}
	writeGGUFFile(t, p, infos, format.Metadata{{Key: "general.architecture", Value: "llama"}, {Key: "key\x07\r", Value: "v\x1b"}}, func(n int, _ float32) []byte { return make([]byte, 4*n) })
	out, errs, code := lorakit(t, "inspect", p)
	if code != exitOK {
		t.Fatalf("inspect: exit %d, %s", code, errs)
	}
	if strings.ContainsAny(out, "\x1b\r\x07") {
		t.Errorf("inspect printed control characters raw: %q", out)
	}
	if !strings.Contains(out, `\x1b[2J\rforged`) {
		t.Errorf("inspect output %q does not show the escaped name", out)
	}
}

// TestAuditZeroAlpha: PEFT accepts lora_alpha 0 (scale 0: the adapter
// changes nothing); merging it into a GGUF base gives the base exactly
// (it was refused: a GGUF alpha of 0 means "none" to llama.cpp).
func TestAuditZeroAlpha(t *testing.T) {
	d := t.TempDir()
	ad := filepath.Join(d, "ad")
	os.Mkdir(ad, 0o755)
	os.WriteFile(filepath.Join(ad, "adapter_config.json"), []byte(`{"peft_type":"LORA","r":1,"lora_alpha":0,"target_modules":["c_attn"],"fan_in_fan_out":true}`), 0o644)
	os.WriteFile(filepath.Join(ad, "adapter_model.safetensors"), safetensorsF32(map[string]tensorF32{
		"base_model.model.transformer.h.0.attn.c_attn.lora_A.weight": {[]int{1, 2}, []float32{1, 2}},
		"base_model.model.transformer.h.0.attn.c_attn.lora_B.weight": {[]int{6, 1}, []float32{1, 2, 3, 4, 5, 6}},
	}), 0o644)
	base, merged := filepath.Join(d, "base.gguf"), filepath.Join(d, "m.gguf")
	if _, errs, code := lorakit(t, "convert", sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random"), "-o", base); code != exitOK {
		t.Fatal(errs)
	}
	if _, errs, code := lorakit(t, "merge", base, "-a", ad, "-o", merged); code != exitOK {
		t.Fatalf("merge of a lora_alpha 0 adapter: exit %d, %s", code, errs)
	}
	if out, errs, code := lorakit(t, "diff", base, merged); code != exitOK {
		t.Errorf("merged model differs from the base (scale 0): %s %s", out, errs)
	}
}

// TestAuditResume: --resume refuses flags that would change the saved
// configuration (they were ignored) and data that is not the data the run
// started with; --steps may extend the run.
func TestAuditResume(t *testing.T) {
	data := e2eFile(t, "train", 16)
	out := filepath.Join(t.TempDir(), "run")
	base := []string{"train", "--data", data, "-o", out, "--batch", "2", "--seq", "64"}
	if _, errs, code := lorakit(t, append(base, "--steps", "2")...); code != exitOK {
		t.Fatalf("first run: exit %d, %s", code, errs)
	}
	args := append(base, "--resume", "--rank", "8", "--lr", "0.5")
	_, errs, code := lorakit(t, args...)
	checkFailure(t, args, errs, code, exitUsage, "--lr, --rank")

	args = append(base, "--resume", "--rank", "4", "--steps", "3") // --rank as saved: fine
	if _, errs, code := lorakit(t, args...); code != exitOK {
		t.Fatalf("resume extending --steps: exit %d, %s", code, errs)
	}
	if recs := readLog(t, out); len(recs) == 0 || recs[len(recs)-1].Step != 3 {
		t.Errorf("after extending to 3 steps the log ends at %+v", recs[len(recs)-1:])
	}

	os.WriteFile(data, []byte("name : Other||Changed data .\n"), 0o644)
	args = append(base, "--resume", "--steps", "4")
	_, errs, code = lorakit(t, args...)
	checkFailure(t, args, errs, code, exitFail, "training data differs")
}

// TestAuditTypedMetadataRoundTrip: GGUF → safetensors → GGUF keeps NaN and
// Inf float keys (bit for bit) and arrays of arrays; they were dropped
// without a word.
func TestAuditTypedMetadataRoundTrip(t *testing.T) {
	d := t.TempDir()
	src, st, back := filepath.Join(d, "a.gguf"), filepath.Join(d, "a.safetensors"), filepath.Join(d, "b.gguf")
	nan := math.Float32frombits(0x7fc00123)
	md := format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "x.nan", Value: nan},
		{Key: "x.inf", Value: math.Inf(-1)},
		{Key: "x.floats", Value: []float32{1, float32(math.Inf(1)), nan}},
		{Key: "x.nested", Value: []any{[]uint8{1, 2}, []string{"a", "b"}}},
	}
	writeGGUFFile(t, src, []format.TensorInfo{{Name: "w", DType: format.F32, Shape: []int64{2}}}, md, func(n int, _ float32) []byte { return make([]byte, 4*n) })
	for _, args := range [][]string{{"convert", src, "-o", st}, {"convert", st, "-o", back}} {
		if _, errs, code := lorakit(t, args...); code != exitOK {
			t.Fatalf("lorakit %v: exit %d, %s", args, code, errs)
		}
	}
	s, err := format.Open(back)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Metadata()
	for _, kv := range md[1:] {
		v, ok := got.Get(kv.Key)
		if !ok {
			t.Errorf("key %s lost in the round trip", kv.Key)
			continue
		}
		if a, b := fmt.Sprintf("%#v", v), fmt.Sprintf("%#v", kv.Value); a != b {
			t.Errorf("key %s = %s, want %s", kv.Key, a, b)
		}
	}
	if v, _ := got.Get("x.nan"); math.Float32bits(v.(float32)) != 0x7fc00123 {
		t.Errorf("x.nan bits %#x, want 0x7fc00123", math.Float32bits(v.(float32)))
	}
}
