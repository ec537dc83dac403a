package merge

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// TestMergeEncoderSeqCls: the fixtures' PEFT adapters for BERT and RoBERTa
// sequence classification (LoRA on query/value, the classifier as
// modules_to_save) merged into their HF directories equal the numpy
// merge (W + (alpha/r)·B·A in float64, rounded once to float32; classifier
// replaced): the LoRA targets within float32 rounding, the classifier
// and every other tensor byte for byte.
// encoderMergeTol: lorakit forms s·B·A in float64 and adds it to W in
// float32, numpy adds in float64 and rounds once, so a value may differ by
// an ulp or two of the larger of |W| and |ΔW|; measured 7.45e-9 (one ulp of
// values in [0.0625, 0.125)).
const encoderMergeTol = 3e-8

func TestMergeEncoderSeqCls(t *testing.T) {
	dir := sharedDir(t, "fixtures/encoder")
	for _, fam := range []string{"bert", "roberta"} {
		t.Run(fam, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged")
			rep, err := Merge(context.Background(), filepath.Join(dir, "hf", fam+"-seqcls"),
				[]Input{{Path: filepath.Join(dir, "adapters", fam+"-seqcls-lora"), Scale: 1}}, out, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantMerged := map[string]int{"bert": 6, "roberta": 8}[fam] // 4 LoRA targets + the classifier's tensors
			if len(rep.Merged) != wantMerged {
				t.Errorf("%d tensors merged, want %d", len(rep.Merged), wantMerged)
			}
			ref := openSource(t, filepath.Join(dir, "hf", fam+"-seqcls-merged", "model.safetensors"))
			got := openSource(t, filepath.Join(out, "model.safetensors"))
			if len(got.Tensors()) != len(ref.Tensors()) {
				t.Fatalf("%d tensors, reference %d", len(got.Tensors()), len(ref.Tensors()))
			}
			worst := 0.0
			for _, ti := range ref.Tensors() {
				a, err := got.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := ref.TensorData(ti.Name)
				if bytes.Equal(a, b) {
					continue
				}
				d := maxAbsDiff(floats(t, got, ti.Name), floats(t, ref, ti.Name))
				worst = max(worst, d)
				if d > encoderMergeTol {
					t.Errorf("%s: max |diff| %.3g from the numpy merge > %g", ti.Name, d, encoderMergeTol)
				}
			}
			t.Logf("max |diff| from the numpy merge: %.3g", worst)
		})
	}
}
