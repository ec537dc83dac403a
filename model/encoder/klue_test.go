package encoder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

// tolKlue bounds |logits(merged) − logits(base + adapter at run time)|:
// the merged weights are rounded to float32 once (W + 2·B·A, |W| ≈ 0.02),
// which moves logits of size ~3 by 6.3e-8 (measured) through 12 layers.
const tolKlue = 3e-7

// writeRandomKlue writes a random RobertaForSequenceClassification of
// klue/roberta-base's shape with labels labels (N(0, 0.02) weights,
// LayerNorms 1 and 0) into dir.
func writeRandomKlue(t *testing.T, dir string, labels int) {
	raw, err := os.ReadFile("testdata/klue-roberta-base/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["architectures"] = []string{"RobertaForSequenceClassification"}
	id2label := map[string]string{}
	for i := range labels {
		id2label[fmt.Sprint(i)] = fmt.Sprintf("LABEL_%d", i)
	}
	cfg["id2label"] = id2label
	out, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	const H, I, V, P, L = 768, 3072, 32000, 514, 12
	type spec struct {
		name  string
		shape []int64
		norm  bool
	}
	var ts []spec
	add := func(name string, norm bool, shape ...int64) { ts = append(ts, spec{name, shape, norm}) }
	e := "roberta.embeddings."
	add(e+"word_embeddings.weight", false, V, H)
	add(e+"position_embeddings.weight", false, P, H)
	add(e+"token_type_embeddings.weight", false, 1, H)
	add(e+"LayerNorm.weight", true, H)
	add(e+"LayerNorm.bias", false, H)
	for l := range L {
		p := fmt.Sprintf("roberta.encoder.layer.%d.", l)
		for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			add(p+n+".weight", false, H, H)
			add(p+n+".bias", false, H)
		}
		add(p+"attention.output.LayerNorm.weight", true, H)
		add(p+"attention.output.LayerNorm.bias", false, H)
		add(p+"intermediate.dense.weight", false, I, H)
		add(p+"intermediate.dense.bias", false, I)
		add(p+"output.dense.weight", false, H, I)
		add(p+"output.dense.bias", false, H)
		add(p+"output.LayerNorm.weight", true, H)
		add(p+"output.LayerNorm.bias", false, H)
	}
	add("classifier.dense.weight", false, H, H)
	add("classifier.dense.bias", false, H)
	add("classifier.out_proj.weight", false, int64(labels), H)
	add("classifier.out_proj.bias", false, int64(labels))
	infos := make([]format.TensorInfo, len(ts))
	for i, s := range ts {
		infos[i] = format.TensorInfo{Name: s.name, DType: format.F32, Shape: s.shape}
	}
	sink, err := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2021, 0))
	for _, s := range ts {
		n := int64(1)
		for _, d := range s.shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.02 * rng.NormFloat64())
			if s.norm {
				v[i] = 1
			}
		}
		buf := make([]byte, 4*n)
		if err := format.FromFloat32(buf, v, format.F32); err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteTensor(s.name, buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestKlueRobertaBase: the real adapter for klue/roberta-base (r 8, alpha
// 16 on query/value of 12 layers, a 60-label head as modules_to_save)
// merged into a random base of that shape gives the logits of the base
// with the adapter applied at run time; the merge replaced the head byte
// for byte and left every non-target tensor untouched.
func TestKlueRobertaBase(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and merges two 440 MB checkpoints")
	}
	adapterDir := testshared.Path(t, "data/adapters/roberta-seqcls-lora-r8-modules_to_save")
	base := filepath.Join(t.TempDir(), "base")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRandomKlue(t, base, 60)
	merged := filepath.Join(t.TempDir(), "merged")
	rep, err := merge.Merge(context.Background(), base, []merge.Input{{Path: adapterDir, Scale: 1}}, merged, merge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Merged) != 24+4 {
		t.Errorf("%d tensors merged, want 24 LoRA targets + 4 head tensors", len(rep.Merged))
	}
	a, err := lora.Open(adapterDir)
	if err != nil {
		t.Fatal(err)
	}
	bsrc, _ := format.Open(filepath.Join(base, "model.safetensors"))
	defer bsrc.Close()
	msrc, _ := format.Open(filepath.Join(merged, "model.safetensors"))
	defer msrc.Close()
	saved := map[string][]byte{}
	for _, s := range a.Saved {
		saved[s.Name] = s.Data
	}
	targets := map[string]bool{}
	for _, m := range a.Modules {
		targets[m.Name+".weight"] = true
	}
	for _, ti := range bsrc.Tensors() {
		got, err := msrc.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := bsrc.TensorData(ti.Name)
		switch {
		case saved[ti.Name] != nil:
			want = saved[ti.Name]
		case targets[ti.Name]:
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: merged bytes differ from the %s", ti.Name, map[bool]string{true: "adapter's head", false: "base"}[saved[ti.Name] != nil])
		}
	}
	ids := []int{0, 1234, 567, 8910, 42, 2}
	rt, err := Load(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.ApplyAdapter(a); err != nil {
		t.Fatal(err)
	}
	mm, err := Load(merged)
	if err != nil {
		t.Fatal(err)
	}
	o1, err := rt.Forward(Sequence{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	o2, err := mm.Forward(Sequence{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	d := 0.0
	for i := range o1.Logits {
		d = max(d, math.Abs(o1.Logits[i]-o2.Logits[i]))
	}
	t.Logf("60 logits: max |merged − run-time adapter| %.3g (logits up to %.3g)", d, maxAbs(o1.Logits))
	if len(o1.Logits) != 60 || d > tolKlue {
		t.Errorf("%d logits, max |diff| %.3g > %g", len(o1.Logits), d, tolKlue)
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
