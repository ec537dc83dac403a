package main

// The hostile-user audit: every command fed missing, truncated, corrupted
// and wrong-format files and absurd flags. Each case must fail with one
// error line naming what was wrong, the right exit status, no panic, no
// output or temporary file left behind, no input modified and no
// allocation a crafted header could drive.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lorakit/lorakit/format"
)

// auditAllocLimit bounds what one failing command may allocate in total:
// the fixtures are a few MB, so anything near this means a size read from
// a file or a flag drove an allocation.
const auditAllocLimit = 256 << 20

// hostileDir builds a directory of bad inputs beside copies of real ones
// and returns its path.
func hostileDir(t *testing.T) string {
	t.Helper()
	f32 := readShared(t, "fixtures/gpt2-f32.gguf")
	peftDir := sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora")
	peftConfig, err := os.ReadFile(filepath.Join(peftDir, "adapter_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(d, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("f32.gguf", f32)
	write("lora.gguf", readShared(t, "fixtures/gpt2-lora-r4.gguf"))
	write("trunc.gguf", f32[:1_000_000]) // header intact, tensor data cut
	write("trunchdr.gguf", f32[:1000])   // cut inside the metadata
	write("empty", nil)
	write("x.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"))
	write("regfile", []byte("a regular file, not a directory\n"))
	write("text/dir/keep", nil) // a directory where a file is expected: text/dir
	write("hugecount.gguf", ggufHeader(1<<62, 0))
	write("hugestr.gguf", append(ggufHeader(0, 1), ggufKV("abc", 8, u64(1<<50))...))
	write("hugearr.gguf", append(ggufHeader(0, 1), ggufKV("abc", 9, append(u32(4), u64(1<<60)...))...))
	write("hugehdr.safetensors", append(u64(1<<60), "{}"...))
	write("hugeshape.safetensors", safetensorsFile(`{"w":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,16]}}`, 16))
	// A 28-byte llama2.c header whose size arithmetic overflows int64, and
	// one claiming 2^20 layers (costly to lay out before the size check).
	write("overflow.bin", u32s(1<<20, 1<<20, 1<<20, 1, 1, 1<<20, 1<<20))
	write("layers.bin", u32s(64, 172, 1<<20, 8, 4, 512, 512))
	// safetensors metadata asking GGUF for a 2^31 alignment.
	write("align.safetensors", safetensorsFile(`{"__metadata__":{"gguf:general.alignment":"u32:2147483648"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	// A PEFT directory whose config does not parse: an adapter, not a model.
	write("brokencfg/adapter_config.json", peftConfig[:len(peftConfig)/2])
	write("brokencfg/adapter_model.safetensors", readShared(t, "data/adapters/gpt2-tigrinya-peft-lora/adapter_model.safetensors"))
	// A PEFT adapter with a NaN in lora_A.
	write("nanad/adapter_config.json", []byte(`{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["c_attn"],"fan_in_fan_out":true}`))
	a := make([]float32, 2*4)
	a[0] = float32(math.NaN())
	write("nanad/adapter_model.safetensors", safetensorsF32(map[string]tensorF32{
		"base_model.model.transformer.h.0.attn.c_attn.lora_A.weight": {[]int{2, 4}, a},
		"base_model.model.transformer.h.0.attn.c_attn.lora_B.weight": {[]int{12, 2}, make([]float32, 24)},
	}))
	return d
}

func TestAuditBadInput(t *testing.T) {
	d := hostileDir(t)
	fx := func(name string) string { return sharedPath(t, "fixtures/"+name) }
	in := func(name string) string { return filepath.Join(d, name) }
	peft := sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora")
	gpt2Config := sharedPath(t, "data/models/lm-buddy-tiny-gpt2-random")
	f32, lora, trunc := in("f32.gguf"), in("lora.gguf"), in("trunc.gguf")
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		mention string // stderr must contain this (a file, tensor, module or flag)
	}{
		// inspect: missing, wrong-format, truncated and crafted files.
		{"inspect missing", []string{"inspect", in("nope.gguf")}, exitFail, "nope.gguf"},
		{"inspect directory", []string{"inspect", in("text")}, exitFail, "text"},
		{"inspect truncated data", []string{"inspect", trunc}, exitFail, "trunc.gguf"},
		{"inspect truncated header", []string{"inspect", in("trunchdr.gguf")}, exitFail, "trunchdr.gguf"},
		{"inspect empty", []string{"inspect", in("empty")}, exitFail, "empty"},
		{"inspect png", []string{"inspect", in("x.png")}, exitFail, "x.png"},
		{"inspect /dev/null", []string{"inspect", os.DevNull}, exitFail, os.DevNull},
		{"inspect huge tensor count", []string{"inspect", in("hugecount.gguf")}, exitFail, "hugecount.gguf"},
		{"inspect huge string", []string{"inspect", "--hash", in("hugestr.gguf")}, exitFail, "hugestr.gguf"},
		{"inspect huge array", []string{"inspect", in("hugearr.gguf")}, exitFail, "hugearr.gguf"},
		{"inspect huge safetensors header", []string{"inspect", in("hugehdr.safetensors")}, exitFail, "hugehdr.safetensors"},
		{"inspect huge shape", []string{"inspect", in("hugeshape.safetensors")}, exitFail, `"w"`},
		{"inspect broken adapter config", []string{"inspect", in("brokencfg")}, exitFail, "adapter_config.json"},
		{"inspect llama2c size overflow", []string{"inspect", "--hash", in("overflow.bin")}, exitFail, "overflow.bin"},
		{"inspect llama2c 2^20 layers", []string{"inspect", "--hash", in("layers.bin")}, exitFail, "layers.bin"},

		// diff
		{"diff truncated", []string{"diff", f32, trunc}, exitFail, "trunc.gguf"},
		{"diff NaN atol", []string{"diff", "--atol", "nan", f32, f32}, exitUsage, "--atol"},
		{"diff negative rtol", []string{"diff", "--rtol", "-1", f32, f32}, exitUsage, "--rtol"},

		// convert: outputs that must not be written, inputs that must not parse.
		{"convert onto its input", []string{"convert", f32, "-o", f32, "--force"}, exitFail, "f32.gguf"},
		{"convert onto its input as safetensors", []string{"convert", f32, "-o", f32, "--to", "safetensors", "--force"}, exitFail, "f32.gguf"},
		{"convert existing output", []string{"convert", f32, "-o", in("regfile")}, exitFail, "regfile"},
		{"convert under a regular file", []string{"convert", f32, "-o", in("regfile/out.gguf")}, exitFail, "out.gguf"},
		{"convert into a missing directory", []string{"convert", f32, "-o", in("nodir/out.gguf")}, exitFail, "out.gguf"},
		{"convert bad dtype", []string{"convert", f32, "-o", in("out.gguf"), "--dtype", "nonsense"}, exitUsage, "nonsense"},
		{"convert bad kind", []string{"convert", f32, "-o", in("out.gguf"), "--to", "xyz"}, exitUsage, "--to"},
		{"convert negative shard size", []string{"convert", f32, "-o", in("outhf"), "--to", "hf", "--max-shard-size", "-5"}, exitUsage, "--max-shard-size"},
		{"convert truncated", []string{"convert", trunc, "-o", in("out.gguf")}, exitFail, "trunc.gguf"},
		{"convert png", []string{"convert", in("x.png"), "-o", in("out.safetensors")}, exitFail, "x.png"},
		{"convert alignment 2^31", []string{"convert", in("align.safetensors"), "-o", in("out.gguf")}, exitFail, "alignment"},
		{"convert broken adapter", []string{"convert", in("brokencfg"), "-o", in("out.gguf")}, exitFail, "adapter_config.json"},
		{"convert adapter for another base", []string{"convert", peft, "-o", in("out.gguf"), "--base", f32}, exitFail, "blk.0.attn_qkv"},
		{"convert adapter, truncated base", []string{"convert", lora, "-o", in("out"), "--base", trunc}, exitFail, "trunc.gguf"},

		// quantize
		{"quantize onto its input", []string{"quantize", f32, f32, "q8_0", "--force"}, exitFail, "f32.gguf"},
		{"quantize bad type", []string{"quantize", f32, in("q.gguf"), "nonsense"}, exitUsage, "nonsense"},
		{"quantize bad keep", []string{"quantize", f32, in("q.gguf"), "q8_0", "--keep", "("}, exitUsage, "--keep"},
		{"quantize truncated", []string{"quantize", trunc, in("q.gguf"), "q8_0"}, exitFail, "trunc.gguf"},
		{"quantize under a regular file", []string{"quantize", f32, in("regfile/q.gguf"), "q8_0"}, exitFail, "q.gguf"},
		{"quantize existing output", []string{"quantize", f32, in("regfile"), "q8_0"}, exitFail, "regfile"},
		{"quantize huge shape", []string{"quantize", in("hugeshape.safetensors"), in("q.gguf"), "q4_0"}, exitFail, `"w"`},

		// merge into a base
		{"merge onto its input", []string{"merge", f32, "-a", lora, "-o", f32, "--force"}, exitFail, "f32.gguf"},
		{"merge onto the adapter", []string{"merge", f32, "-a", lora, "-o", lora, "--force"}, exitFail, "lora.gguf"},
		{"merge NaN scale", []string{"merge", f32, "-a", lora + ":nan", "-o", in("m.gguf")}, exitUsage, "lora.gguf"},
		{"merge png adapter", []string{"merge", f32, "-a", in("x.png"), "-o", in("m.gguf")}, exitFail, "x.png"},
		{"merge model as adapter", []string{"merge", f32, "-a", f32, "-o", in("m.gguf")}, exitFail, "f32.gguf"},
		{"merge adapter as base", []string{"merge", lora, "-a", lora, "-o", in("m.gguf")}, exitFail, "lora.gguf"},
		{"merge other architecture", []string{"merge", f32, "-a", fx("llama-lora-r8.gguf"), "-o", in("m.gguf")}, exitFail, "llama"},
		{"merge other shapes", []string{"merge", f32, "-a", peft, "-o", in("m.gguf")}, exitFail, "blk.0.attn_qkv"},
		{"merge NaN adapter", []string{"merge", f32, "-a", in("nanad"), "-o", in("m.gguf")}, exitFail, "nanad"},
		{"merge truncated base", []string{"merge", trunc, "-a", lora, "-o", in("m.gguf")}, exitFail, "trunc.gguf"},
		{"merge under a regular file", []string{"merge", f32, "-a", lora, "-o", in("regfile/m.gguf")}, exitFail, "m.gguf"},
		{"merge bad dtype", []string{"merge", f32, "-a", lora, "-o", in("m.gguf"), "--dtype", "nonsense"}, exitUsage, "nonsense"},

		// combine adapters (merge without a base does the same, deprecated)
		{"combine bad method", []string{"combine", "-a", lora, "-a", lora, "-o", in("c"), "--method", "nonsense"}, exitUsage, "--method"},
		{"combine negative svd rank", []string{"combine", "-a", lora, "-a", lora, "-o", in("c"), "--svd-rank", "-3"}, exitUsage, "--svd-rank"},
		{"combine density above 1", []string{"combine", "-a", lora, "-a", lora, "-o", in("c"), "--method", "ties", "--density", "5"}, exitUsage, "--density"},
		{"combine NaN density", []string{"combine", "-a", lora, "-a", lora, "-o", in("c"), "--method", "ties", "--density", "nan"}, exitUsage, "--density"},
		{"combine bad majority sign", []string{"combine", "-a", lora, "-a", lora, "-o", in("c"), "--majority-sign", "x"}, exitUsage, "--majority-sign"},
		{"combine two architectures", []string{"combine", "-a", lora, "-a", fx("llama-lora-r8.gguf"), "-o", in("c")}, exitFail, "llama-lora-r8.gguf"},
		{"combine GGUF and PEFT names", []string{"combine", "-a", peft, "-a", lora, "-o", in("c")}, exitFail, "lora.gguf uses llama.cpp names"},
		{"combine onto an input", []string{"combine", "-a", lora, "-o", lora, "--force"}, exitFail, "lora.gguf"},

		// extract
		{"extract negative rank", []string{"extract", "--base", f32, "--tuned", fx("gpt2-merged-f32.gguf"), "--rank", "-4", "-o", in("e")}, exitUsage, "--rank"},
		{"extract NaN energy", []string{"extract", "--base", f32, "--tuned", fx("gpt2-merged-f32.gguf"), "--energy", "nan", "-o", in("e")}, exitUsage, "--energy"},
		{"extract zero max rank", []string{"extract", "--base", f32, "--tuned", fx("gpt2-merged-f32.gguf"), "--energy", "0.9", "--max-rank", "0", "-o", in("e")}, exitUsage, "--max-rank"},
		{"extract other shapes", []string{"extract", "--base", f32, "--tuned", fx("llama-f32.gguf"), "--rank", "4", "-o", in("e")}, exitFail, "token_embd.weight"},
		{"extract no difference", []string{"extract", "--base", f32, "--tuned", f32, "--rank", "4", "-o", in("e")}, exitFail, "f32.gguf"},
		{"extract truncated", []string{"extract", "--base", f32, "--tuned", trunc, "--rank", "4", "-o", in("e")}, exitFail, "trunc.gguf"},
		{"extract onto its input", []string{"extract", "--base", f32, "--tuned", fx("gpt2-merged-f32.gguf"), "--rank", "4", "-o", f32, "--force"}, exitFail, "f32.gguf"},
		{"extract under a regular file", []string{"extract", "--base", f32, "--tuned", fx("gpt2-merged-f32.gguf"), "--rank", "4", "-o", in("regfile/e")}, exitFail, "regfile/e"},

		// analyze
		{"spectrum of a model", []string{"analyze", "spectrum", f32}, exitFail, "f32.gguf"},
		{"spectrum NaN adapter", []string{"analyze", "spectrum", in("nanad")}, exitFail, "NaN"},
		{"spectrum broken adapter", []string{"analyze", "spectrum", in("brokencfg")}, exitFail, "adapter_config.json"},
		{"spectrum bad module regexp", []string{"analyze", "spectrum", lora, "--module", "("}, exitUsage, "--module"},
		{"similarity different bases", []string{"analyze", "similarity", lora, peft}, exitFail, "blk.0.attn_qkv"},
		{"similarity png onto an input", []string{"analyze", "similarity", lora, lora, "--png", f32}, exitFail, "f32.gguf"},
		{"amplification truncated base", []string{"analyze", "amplification", lora, "--base", trunc}, exitFail, "trunc.gguf"},
		{"amplification other base", []string{"analyze", "amplification", lora, "--base", fx("llama-f32.gguf")}, exitFail, "blk.0.attn_qkv"},
		{"report under a regular file", []string{"analyze", "report", lora, "-o", in("regfile/r")}, exitFail, "regfile/r"},

		// generate, logits, score
		{"generate negative -n", []string{"generate", "-n", "-1"}, exitUsage, "max new tokens"},
		{"generate NaN temperature", []string{"generate", "--temp", "nan"}, exitUsage, "temperature"},
		{"generate absurd beam", []string{"generate", "--beam", "100000", "-n", "5"}, exitUsage, "--beam"},
		{"generate negative stop id", []string{"generate", "--stop", "-5", "-n", "5"}, exitUsage, "--stop"},
		{"generate out-of-range stop id", []string{"generate", "--stop", "99999999", "-n", "5"}, exitUsage, "--stop"},
		{"generate adapter as model", []string{"generate", lora, "-n", "5"}, exitFail, "lora.gguf"},
		{"generate truncated model", []string{"generate", trunc, "-n", "5"}, exitFail, "trunc.gguf"},
		{"generate NaN adapter scale", []string{"generate", fx("llama-f32.gguf"), "--adapter", fx("llama-lora-r8.gguf") + ":nan", "-n", "5"}, exitUsage, "--adapter"},
		{"generate png adapter", []string{"generate", "--adapter", in("x.png"), "-n", "5"}, exitFail, "x.png"},
		{"logits id out of range", []string{"logits", "--tokens", "1,512"}, exitFail, "512"},
		{"logits negative id", []string{"logits", "--tokens", "-1"}, exitFail, "-1"},
		{"logits Inf adapter scale", []string{"logits", fx("llama-f32.gguf"), "--tokens", "1", "--adapter", fx("llama-lora-r8.gguf") + ":inf"}, exitUsage, "--adapter"},
		{"logits png model", []string{"logits", in("x.png"), "--tokens", "1"}, exitFail, "x.png"},
		{"score missing text", []string{"score", "--text", in("nope.txt")}, exitFail, "nope.txt"},
		{"score directory text", []string{"score", "--text", in("text/dir")}, exitFail, "text/dir"},
		{"score empty text", []string{"score", "--text", in("empty")}, exitFail, "empty"},
		{"score /dev/zero", []string{"score", "--text", "/dev/zero"}, exitFail, "/dev/zero"},

		// size
		{"size zero rank", []string{"size", gpt2Config, "--rank", "0"}, exitUsage, "--rank"},
		{"size negative rank", []string{"size", gpt2Config, "--rank", "-4"}, exitUsage, "--rank"},
		{"size no targets", []string{"size", gpt2Config, "--targets", ""}, exitUsage, "--targets"},
		{"size png config", []string{"size", in("x.png")}, exitFail, "x.png"},
		{"size /dev/zero", []string{"size", "/dev/zero"}, exitFail, "/dev/zero"},
		{"size rank above the layer", []string{"size", gpt2Config, "--rank", "99"}, exitFail, "rank 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, d)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			alloc := ms.TotalAlloc
			_, errs, code := lorakit(t, c.args...)
			runtime.ReadMemStats(&ms)
			checkFailure(t, c.args, errs, code, c.code, c.mention)
			if got := ms.TotalAlloc - alloc; got > auditAllocLimit {
				t.Errorf("lorakit %v allocated %d MiB, want at most %d MiB", c.args, got>>20, auditAllocLimit>>20)
			}
			checkUnchanged(t, d, before)
		})
	}
}

// TestAuditRequiredFlags: a required flag left out is command-line misuse
// (exit 2), though cobra reports it as a plain error.
func TestAuditRequiredFlags(t *testing.T) {
	f32 := sharedPath(t, "fixtures/gpt2-f32.gguf")
	for _, args := range [][]string{
		{"convert", f32},
		{"merge", f32, "-o", filepath.Join(t.TempDir(), "m.gguf")},
		{"extract", "--base", f32, "--tuned", f32, "-o", filepath.Join(t.TempDir(), "e")},
		{"analyze", "amplification", f32},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, errs, code := lorakit(t, args...)
			checkFailure(t, args, errs, code, exitUsage, "required")
		})
	}
}

// checkFailure checks the status and that stderr is one error line (plus
// the usage hint for exitUsage) mentioning what was wrong, with no panic.
func checkFailure(t *testing.T, args []string, errs string, code, want int, mention string) {
	t.Helper()
	if code != want {
		t.Errorf("lorakit %v = exit %d, want %d (stderr %q)", args, code, want, errs)
	}
	if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
		t.Fatalf("lorakit %v panicked: %s", args, errs)
	}
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	wantLines := 1
	if want == exitUsage {
		wantLines = 2 // and "Run 'lorakit help' for usage."
	}
	if len(lines) != wantLines || !strings.HasPrefix(lines[0], "lorakit: ") {
		t.Errorf("lorakit %v: stderr = %q, want %d line(s) starting \"lorakit: \"", args, errs, wantLines)
	}
	if !strings.Contains(lines[0], mention) {
		t.Errorf("lorakit %v: error %q does not mention %q", args, lines[0], mention)
	}
}

// snapshot maps every regular file under dir to the sha256 of its content
// (special files, which a read could block on, are left out).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !e.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkUnchanged fails when a file under dir appeared (an output or a
// temporary file), vanished or changed since before.
func checkUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	for name, sum := range after {
		switch old, ok := before[name]; {
		case !ok:
			t.Errorf("%s was left behind", name)
		case old != sum:
			t.Errorf("input %s was modified", name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("input %s was removed", name)
		}
	}
	// Directories too: an output directory or a .tmp- directory.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary directory %s was left behind", e.Name())
		}
	}
}

// waitForTemp polls dir until a temporary output (.NAME.tmp-*) appears
// (true) or the process ends (false).
func waitForTemp(dir string, done chan error) bool {
	return waitUntil(done, func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
		return len(m) > 0
	})
}

// waitUntil polls ready every millisecond until it holds (true) or the
// process, which reports on done, ends (false; its result is put back).
func waitUntil(done chan error, ready func() bool) bool {
	for {
		select {
		case err := <-done:
			done <- err
			return false
		default:
		}
		if ready() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAuditHelperProcess is the lorakit process TestAuditInterrupt signals;
// it does nothing in a normal test run.
func TestAuditHelperProcess(t *testing.T) {
	if os.Getenv("LORAKIT_AUDIT_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// bigModelDir makes a temporary directory holding writeBigModel's model
// (big.gguf) and adapter (lora.gguf).
func bigModelDir(t *testing.T) (dir, model, adapter string) {
	t.Helper()
	dir = t.TempDir()
	model, adapter = filepath.Join(dir, "big.gguf"), filepath.Join(dir, "lora.gguf")
	writeBigModel(t, model, adapter)
	return dir, model, adapter
}

// writeBigModel writes a GPT-2-named F32 GGUF of 32 ffn_up tensors
// (1024×512, 64 MiB in all, slow enough to quantize to be interrupted) and
// a rank-8 llama.cpp LoRA adapter on all of them.
func writeBigModel(t *testing.T, model, adapter string) {
	t.Helper()
	const layers, rows, cols, rank = 32, 1024, 512, 8
	var infos, ainfos []format.TensorInfo
	for i := range layers {
		name := "blk." + strconv.Itoa(i) + ".ffn_up.weight"
		infos = append(infos, format.TensorInfo{Name: name, DType: format.F32, Shape: []int64{rows, cols}})
		ainfos = append(ainfos,
			format.TensorInfo{Name: name + ".lora_a", DType: format.F32, Shape: []int64{rank, cols}},
			format.TensorInfo{Name: name + ".lora_b", DType: format.F32, Shape: []int64{rows, rank}})
	}
	fill := func(n int, scale float32) []byte {
		b := make([]byte, 4*n)
		x := uint32(12345)
		for i := range n {
			x = x*1664525 + 1013904223 // an LCG: varied, reproducible values
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(scale*(float32(x>>8)/(1<<24)-0.5)))
		}
		return b
	}
	writeGGUFFile(t, model, infos, format.Metadata{{Key: "general.architecture", Value: "gpt2"}}, fill)
	writeGGUFFile(t, adapter, ainfos, format.Metadata{
		{Key: "general.architecture", Value: "gpt2"},
		{Key: "general.type", Value: "adapter"},
		{Key: "adapter.type", Value: "lora"},
		{Key: "adapter.lora.alpha", Value: float32(rank)},
	}, fill)
}

func writeGGUFFile(t *testing.T, path string, infos []format.TensorInfo, md format.Metadata, fill func(int, float32) []byte) {
	t.Helper()
	sink, err := format.Create("gguf", path, infos, md, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		n := 1
		for _, s := range ti.Shape {
			n *= int(s)
		}
		if err := sink.WriteTensor(ti.Name, fill(n, 0.02)); err != nil {
			sink.Abort()
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// readShared reads a file of ../shared (skipping when it is absent).
func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// u32s is little-endian int32 fields, as llama2.c headers are.
func u32s(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// ggufHeader is a GGUF v3 header claiming tensors tensors and kvs metadata
// entries, with nothing after it.
func ggufHeader(tensors, kvs uint64) []byte {
	b := append([]byte("GGUF"), u32(3)...)
	return append(append(b, u64(tensors)...), u64(kvs)...)
}

// ggufKV is one metadata entry: key, type, and the value's raw bytes.
func ggufKV(key string, typ uint32, value []byte) []byte {
	b := append(u64(uint64(len(key))), key...)
	return append(append(b, u32(typ)...), value...)
}

// safetensorsFile is a safetensors file with the given header JSON and
// dataLen zero bytes of data.
func safetensorsFile(header string, dataLen int) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := append(u64(uint64(len(header))), header...)
	return append(b, make([]byte, dataLen)...)
}

// tensorF32 is an F32 tensor for safetensorsF32.
type tensorF32 struct {
	shape []int
	data  []float32
}

// safetensorsF32 writes F32 tensors (in name order) as a safetensors file.
func safetensorsF32(ts map[string]tensorF32) []byte {
	names := slices.Sorted(maps.Keys(ts))
	var hdr strings.Builder
	var data []byte
	hdr.WriteString("{")
	for i, n := range names {
		t := ts[n]
		if i > 0 {
			hdr.WriteString(",")
		}
		start := len(data)
		for _, v := range t.data {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
		shape := make([]string, len(t.shape))
		for k, s := range t.shape {
			shape[k] = strconv.Itoa(s)
		}
		hdr.WriteString(`"` + n + `":{"dtype":"F32","shape":[` + strings.Join(shape, ",") + `],"data_offsets":[` + strconv.Itoa(start) + `,` + strconv.Itoa(len(data)) + `]}`)
	}
	hdr.WriteString("}")
	return append(safetensorsFile(hdr.String(), 0), data...)
}
