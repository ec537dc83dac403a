package encoder

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestTokenClassification: BertForTokenClassification (the fixture's BERT
// without its pooler, config.json naming the token class) gives per-token
// logits equal to the numpy reference's last hidden states times the
// classifier.
func TestTokenClassification(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	src, err := format.Open(filepath.Join(root, "hf", "bert-seqcls", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(root, "hf", "bert-seqcls", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["architectures"] = []string{"BertForTokenClassification"}
	raw, _ = json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	var infos []format.TensorInfo
	for _, ti := range src.Tensors() {
		if ti.Name != "bert.pooler.dense.weight" && ti.Name != "bert.pooler.dense.bias" {
			infos = append(infos, ti)
		}
	}
	sink, err := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		data, err := src.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteTensor(ti.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	m := load(t, dir)
	if m.Config.Head != TokenHead {
		t.Fatalf("head %v, want token", m.Config.Head)
	}
	ids := []int{2, 5, 6, 7, 8, 3}
	out, err := m.Forward(Sequence{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	hidden := testshared.Numbers(t, filepath.Join(root, "numpy", "bert-seqcls__hidden-2.txt"))
	wRaw, _ := src.TensorData("classifier.weight")
	bRaw, _ := src.TensorData("classifier.bias")
	w, b := make([]float32, 64), make([]float32, 2)
	if err := format.ToFloat32(w, wRaw, format.F32); err != nil {
		t.Fatal(err)
	}
	if err := format.ToFloat32(b, bRaw, format.F32); err != nil {
		t.Fatal(err)
	}
	if len(out.Logits) != len(ids)*2 {
		t.Fatalf("%d logits, want %d", len(out.Logits), len(ids)*2)
	}
	for i := range ids {
		for c := range 2 {
			want := float64(b[c])
			for k := range 32 {
				want += hidden[i*32+k] * float64(w[c*32+k])
			}
			if d := math.Abs(out.Logits[i*2+c] - want); d > tolRef {
				t.Errorf("token %d class %d: %v, reference %v", i, c, out.Logits[i*2+c], want)
			}
		}
	}
}

// TestTokenGradients: finite differences through the per-token head, with
// ignored tokens (-100) and padding.
func TestTokenGradients(t *testing.T) {
	m, err := NewRandom(Config{Layers: 2, Hidden: 16, Heads: 2, FF: 24, Vocab: 20, Positions: 16, Types: 2, Eps: 1e-12,
		Head: TokenHead, Labels: []string{"O", "B", "I"}}, 0.2, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	randomLoRA(m, rng)
	if err := m.TrainHead(); err != nil {
		t.Fatal(err)
	}
	ex := Example{Seq: Sequence{IDs: []int{2, 5, 6, 7, 3, 0}, Mask: []bool{true, true, true, true, true, false}},
		TokenLabels: []int{IgnoreLabel, 1, 2, 0, IgnoreLabel, IgnoreLabel}}
	checkGradients(t, m, ex, rng)
	if _, _, err := m.Loss(Example{Seq: ex.Seq, TokenLabels: []int{1}}, false, 1); err == nil {
		t.Error("Loss with 1 label for 6 tokens: no error")
	}
}
