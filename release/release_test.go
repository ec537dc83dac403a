package release

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/verify"
)

func presets(t *testing.T, names ...string) []quantize.Preset {
	t.Helper()
	out, err := quantize.ParsePresets(names...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMakeRelease releases a fixture base with its adapter and checks the
// directory: the files, the card's front matter, the Modelfile,
// SHA256SUMS, and that verify passes on every model, now and later.
func TestMakeRelease(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	out := filepath.Join(t.TempDir(), "rel")
	opt := Options{
		Base:     filepath.Join(fx, "llama-f32.gguf"),
		Adapters: []merge.Input{{Path: filepath.Join(fx, "llama-lora-r8.gguf"), Scale: 1}},
		Name:     "tiny",
		Quants:   presets(t, "Q8_0", "Q4_K_M"),
	}
	man, reps, err := Make(context.Background(), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tiny-F16.gguf", "tiny-Q8_0.gguf", "tiny-Q4_K_M.gguf"}
	if strings.Join(man.Models, " ") != strings.Join(want, " ") {
		t.Errorf("models %v, want %v", man.Models, want)
	}
	for _, f := range append(want, CardFile, ModelfileFile, SumsFile, ReportFile, ReportText, ManifestFile) {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("release lacks %s", f)
		}
	}
	for _, r := range reps {
		if !r.OK {
			t.Errorf("%s: offending %v", r.Release, r.Offending)
		}
	}
	cardText := read(t, filepath.Join(out, CardFile))
	front, _, ok := strings.Cut(strings.TrimPrefix(cardText, "---\n"), "\n---\n")
	if !strings.HasPrefix(cardText, "---\n") || !ok {
		t.Fatalf("README.md has no YAML front matter:\n%s", cardText)
	}
	for _, line := range []string{"base_model: dev-llama", "base_model_relation: merge", "library_name: gguf", "- lorakit", "- lora", "- llama"} {
		if !strings.Contains("\n"+front+"\n", "\n"+line+"\n") {
			t.Errorf("front matter lacks %q:\n%s", line, front)
		}
	}
	mf := read(t, filepath.Join(out, ModelfileFile))
	for _, line := range []string{"FROM ./tiny-Q4_K_M.gguf", `PARAMETER stop "</s>"`} {
		if !strings.Contains(mf, line+"\n") {
			t.Errorf("Modelfile lacks %q:\n%s", line, mf)
		}
	}
	sums := read(t, filepath.Join(out, SumsFile))
	for _, f := range append(want, CardFile, ModelfileFile, ManifestFile, ReportFile) {
		sum, err := fileSum(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sums, sum+"  "+f+"\n") {
			t.Errorf("SHA256SUMS lacks %s  %s", sum, f)
		}
	}

	// Later: the directory verifies from its manifest alone...
	again, err := Verify(context.Background(), out, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 3 {
		t.Errorf("Verify(dir) checked %d models, want 3", len(again))
	}
	for _, r := range again {
		if !r.OK {
			t.Errorf("Verify(dir): %s: offending %v", r.Release, r.Offending)
		}
	}
	// ...and a changed byte is caught, naming the file.
	path := filepath.Join(out, "tiny-Q8_0.gguf")
	data := []byte(read(t, path))
	data[len(data)-100] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), out, verify.Options{}); !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), "tiny-Q8_0.gguf") {
		t.Errorf("Verify(tampered) = %v, want an ErrFormat naming tiny-Q8_0.gguf", err)
	}
}

// TestMakeReleaseSplit: with a split limit every GGUF is a set, and the
// sets verify.
func TestMakeReleaseSplit(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	out := filepath.Join(t.TempDir(), "rel")
	man, reps, err := Make(context.Background(), out, Options{
		Base:     filepath.Join(fx, "gpt2-f32.gguf"),
		Adapters: []merge.Input{{Path: filepath.Join(fx, "gpt2-lora-r4.gguf"), Scale: 0.5}},
		Name:     "g", Quants: presets(t, "Q8_0"), Split: format.SplitLimits{MaxTensors: 16},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "g-F16-00001-of-00003.gguf g-Q8_0-00001-of-00003.gguf"; strings.Join(man.Models, " ") != want {
		t.Errorf("models %v, want %s", man.Models, want)
	}
	for _, r := range reps {
		if !r.OK || len(r.Tensors) != 40 {
			t.Errorf("%s: %d tensors, offending %v", r.Release, len(r.Tensors), r.Offending)
		}
	}
}

// TestMakeReleaseInterrupted: a cancelled release leaves no directory and
// no temporary files.
func TestMakeReleaseInterrupted(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	parent := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, _, err := Make(ctx, filepath.Join(parent, "rel"), Options{
		Base:     filepath.Join(fx, "llama-f32.gguf"),
		Adapters: []merge.Input{{Path: filepath.Join(fx, "llama-lora-r8.gguf"), Scale: 1}},
		Quants:   presets(t, "Q8_0"),
		Progress: func(step string) {
			if steps++; strings.HasPrefix(step, "quantize") {
				cancel() // after the merge and the F16 file were written
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Make after cancel = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("%d entries left in the parent directory, want none", len(entries))
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMakeReleaseHFBase releases a Hugging Face base with a PEFT adapter
// (both made from the qwen2 fixtures by lorakit convert): the GGUF files
// and the hf/ directory verify, every tensor bit-exact.
func TestMakeReleaseHFBase(t *testing.T) {
	arch := testshared.Path(t, "fixtures/arch")
	dir := t.TempDir()
	base, peft := filepath.Join(dir, "base"), filepath.Join(dir, "peft")
	if err := convert.Model(context.Background(), filepath.Join(arch, "qwen2-f32.gguf"), base, convert.ModelOptions{To: "hf"}); err != nil {
		t.Fatal(err)
	}
	if err := convert.Adapter(filepath.Join(arch, "qwen2-lora-r4.gguf"), peft, convert.AdapterOptions{To: "peft", Base: base}); err != nil {
		t.Fatal(err)
	}
	man, reps, err := Make(context.Background(), filepath.Join(dir, "rel"), Options{
		Base: base, Adapters: []merge.Input{{Path: peft, Scale: 1}}, Quants: presets(t, "Q8_0"), HF: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "base-merged-F16.gguf base-merged-Q8_0.gguf hf"; strings.Join(man.Models, " ") != want {
		t.Errorf("models %v, want %s", man.Models, want)
	}
	for _, r := range reps {
		exact := 0
		for _, tr := range r.Tensors {
			if tr.Status == verify.BitExact {
				exact++
			}
		}
		if !r.OK || exact != len(r.Tensors) {
			t.Errorf("%s: %d of %d bit-exact, offending %v", r.Release, exact, len(r.Tensors), r.Offending)
		}
	}
	if card := read(t, filepath.Join(dir, "rel", CardFile)); !strings.Contains(card, "\nlibrary_name: transformers\n") {
		t.Errorf("card of a release with --hf lacks library_name: transformers")
	}
}
