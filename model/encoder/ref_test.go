package encoder

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// tolRef bounds |lorakit − numpy float64 reference|: both compute in
// float64 from the same float32 weights; besides summation order (≤ 1e-15)
// the LayerNorm epsilon differs, read as GGUF's float32 (RoBERTa's 1e-5 is
// 9.99999975e-06): measured 1.1e-11 on hidden states, 2.4e-14 on logits.
// The bound is 1e-4.
const tolRef = 1e-10

// fixture is one model of ../shared/fixtures/encoder.
type fixture struct {
	fam string
	ids []int
}

var fixtures = []fixture{
	{"bert", []int{2, 5, 6, 7, 8, 3}},
	{"roberta", []int{0, 5, 6, 7, 8, 2}},
}

func maxDiff(t *testing.T, what string, got, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference %d", what, len(got), len(want))
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(got[i]-want[i]))
	}
	return d
}

func load(t *testing.T, path string) *Model {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return m
}

// seqclsPath is the fixtures' sequence-classification model of family
// fam: its HF directory, or (src "gguf") lorakit's GGUF conversion of it.
func seqclsPath(t *testing.T, root, fam, src string) string {
	t.Helper()
	path := filepath.Join(root, "hf", fam+"-seqcls")
	if src == "gguf" {
		path = convertToGGUF(t, path)
	}
	return path
}

// forward runs the model at path, with the adapter at adapter applied
// when it is not "", on ids.
func forward(t *testing.T, path, adapter string, ids []int) Output {
	t.Helper()
	m := load(t, path)
	if adapter != "" {
		a, err := lora.Open(adapter)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.ApplyAdapter(a); err != nil {
			t.Fatal(err)
		}
	}
	out, err := m.Forward(Sequence{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkRef fails the test where got is further than tolRef from the numpy
// reference file ref and logs the largest difference otherwise.
func checkRef(t *testing.T, what string, got []float64, ref string) {
	t.Helper()
	if d := maxDiff(t, what, got, testshared.Numbers(t, ref)); d > tolRef {
		t.Errorf("%s: max |diff| %.3g > %g", what, d, tolRef)
	} else {
		t.Logf("%s: max |diff| %.3g", what, d)
	}
}

// TestForwardMatchesNumpy: last hidden states and class logits of the
// HF directories and of lorakit's GGUF conversions equal the fixtures'
// float64 numpy forward pass (transformers' semantics).
func TestForwardMatchesNumpy(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	for _, f := range fixtures {
		for _, src := range []string{"hf", "gguf"} {
			t.Run(f.fam+"/"+src, func(t *testing.T) {
				path := seqclsPath(t, root, f.fam, src)
				out := forward(t, path, "", f.ids)
				ref := filepath.Join(root, "numpy", f.fam+"-seqcls__")
				checkRef(t, "hidden", out.Hidden, ref+"hidden-2.txt")
				checkRef(t, "logits", out.Logits, ref+"logits.txt")
			})
		}
	}
}

// TestAdapterAtRunTime: the PEFT adapters (LoRA on query/value, the
// classifier as modules_to_save) applied at run time give the numpy
// reference of base + adapter merged in float64; llama.cpp's LoRA GGUF of
// the same pairs gives the same hidden states (its head is the base's).
func TestAdapterAtRunTime(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	for _, f := range fixtures {
		for _, src := range []string{"hf", "gguf"} {
			t.Run(f.fam+"/"+src, func(t *testing.T) {
				path := seqclsPath(t, root, f.fam, src)
				out := forward(t, path, filepath.Join(root, "adapters", f.fam+"-seqcls-lora"), f.ids)
				ref := filepath.Join(root, "numpy", f.fam+"-seqcls+lora__")
				checkRef(t, "hidden", out.Hidden, ref+"hidden-2.txt")
				checkRef(t, "logits", out.Logits, ref+"logits.txt")
			})
		}
		t.Run(f.fam+"/llama.cpp-lora-gguf", func(t *testing.T) {
			out := forward(t, filepath.Join(root, "hf", f.fam+"-seqcls"), filepath.Join(root, "lora", f.fam+"-seqcls-lora-only-f32.gguf"), f.ids)
			checkRef(t, "hidden", out.Hidden, filepath.Join(root, "numpy", f.fam+"-seqcls+lora__hidden-2.txt"))
		})
	}
}

// TestPaddingIsMasked: a sequence padded at the end with the padding
// token and masked gives the unpadded reference on its real tokens (the
// logits, and every hidden row but the padding's).
func TestPaddingIsMasked(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	for _, f := range fixtures {
		t.Run(f.fam, func(t *testing.T) {
			m := load(t, filepath.Join(root, "hf", f.fam+"-seqcls"))
			ids := append(append([]int(nil), f.ids...), m.Config.PadID, m.Config.PadID, m.Config.PadID)
			mask := make([]bool, len(ids))
			for i := range f.ids {
				mask[i] = true
			}
			out, err := m.Forward(Sequence{IDs: ids, Mask: mask})
			if err != nil {
				t.Fatal(err)
			}
			ref := filepath.Join(root, "numpy", f.fam+"-seqcls__")
			if d := maxDiff(t, "hidden", out.Hidden[:len(f.ids)*m.Config.Hidden], testshared.Numbers(t, ref+"hidden-2.txt")); d > tolRef {
				t.Errorf("hidden of the real tokens: max |diff| %.3g > %g", d, tolRef)
			}
			if d := maxDiff(t, "logits", out.Logits, testshared.Numbers(t, ref+"logits.txt")); d > tolRef {
				t.Errorf("logits: max |diff| %.3g > %g", d, tolRef)
			}
		})
	}
}
