package encoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

// The DeBERTa-v2 reference below is written from the paper's equations
// (He et al. 2021, eq. 2-4 and section 3.1) and transformers'
// DisentangledSelfAttention as its documentation describes it, with plain
// loops and its own helpers; it shares no code with the implementation
// (weights are read from the model's fields, LoRA folded into W in float64).

// tolDeBERTa: implementation and reference are both float64 from the same
// float32 weights, differing in summation order only (measured ≲ 1e-15).
const tolDeBERTa = 1e-12

// refBucket is make_log_bucket_position (transformers), from its formula:
// distances within ±bucket/2 unchanged, others mid + ⌈log(|r|/mid) /
// log((maxPos−1)/mid) · (mid−1)⌉ with r's sign.
func refBucket(r, bucket, maxPos int) int {
	mid := bucket / 2
	if bucket <= 0 || math.Abs(float64(r)) <= float64(mid) {
		return r
	}
	v := math.Ceil(math.Log(math.Abs(float64(r))/float64(mid))/math.Log(float64(maxPos-1)/float64(mid))*float64(mid-1)) + float64(mid)
	return int(math.Copysign(v, float64(r)))
}

func refLN(x []float64, w, b []float32, eps float64) []float64 {
	n := float64(len(x))
	m, v := 0.0, 0.0
	for _, a := range x {
		m += a / n
	}
	for _, a := range x {
		v += (a - m) * (a - m) / n
	}
	out := make([]float64, len(x))
	for i, a := range x {
		out[i] = (a-m)/math.Sqrt(v+eps)*float64(w[i]) + float64(b[i])
	}
	return out
}

// refLinear applies W + s·B·A (folded in float64) and b to every row.
func refLinear(l *Linear, rows [][]float64) [][]float64 {
	out := make([][]float64, len(rows))
	for r, x := range rows {
		y := make([]float64, l.Out)
		for o := range l.Out {
			s := float64(l.B[o])
			for i := range l.In {
				w := float64(l.W[o*l.In+i])
				if p := l.LoRA; p != nil {
					for k := range p.Rank {
						w += p.Scale * float64(p.B[o*p.Rank+k]) * float64(p.A[k*l.In+i])
					}
				}
				s += w * x[i]
			}
			y[o] = s
		}
		out[r] = y
	}
	return out
}

func refGELU(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) }

// refDeBERTa is DebertaV2ForSequenceClassification's forward pass (eval).
func refDeBERTa(m *Model, ids []int, mask []bool) (hidden [][]float64, logits []float64) {
	cfg, d := m.Config, m.Config.DeBERTa
	H, nh, n := cfg.Hidden, cfg.Heads, len(ids)
	hd := H / nh
	x := make([][]float64, n)
	for i, id := range ids {
		e := make([]float64, H)
		for k := range H {
			e[k] = float64(m.tok[id*H+k])
			if m.typ != nil {
				e[k] += float64(m.typ[k]) // token type 0
			}
		}
		x[i] = refLN(e, m.embNorm.W, m.embNorm.B, cfg.Eps)
		if !mask[i] {
			x[i] = make([]float64, H)
		}
	}
	P := make([][]float64, 2*d.Span) // LN(rel_embeddings)
	for r := range P {
		row := make([]float64, H)
		for k := range H {
			row[k] = float64(m.deb.rel[r*H+k])
		}
		if m.deb.relNorm != nil {
			row = refLN(row, m.deb.relNorm.W, m.deb.relNorm.B, cfg.Eps)
		}
		P[r] = row
	}
	factor := 1.0
	if d.C2P {
		factor++
	}
	if d.P2C {
		factor++
	}
	scale := math.Sqrt(float64(hd) * factor)
	clampIdx := func(v int) int { return min(max(v, 0), 2*d.Span-1) }
	for _, b := range m.layers {
		Q, K, V := refLinear(b.q, x), refLinear(b.k, x), refLinear(b.v, x)
		Qr, Kr := refLinear(b.q, P), refLinear(b.k, P) // share_att_key
		ctx := make([][]float64, n)
		for i := range ctx {
			ctx[i] = make([]float64, H)
		}
		for h := range nh {
			for i := range n {
				score := make([]float64, n)
				mx := math.Inf(-1)
				for j := range n {
					if !mask[j] {
						continue
					}
					s := 0.0
					c2p := clampIdx(refBucket(i-j, d.Buckets, d.MaxRelative) + d.Span)  // c2p_pos[i][j]
					p2c := clampIdx(-refBucket(j-i, d.Buckets, d.MaxRelative) + d.Span) // p2c_pos[j][i], transposed
					for k := h * hd; k < (h+1)*hd; k++ {
						s += Q[i][k] * K[j][k]
						if d.C2P {
							s += Q[i][k] * Kr[c2p][k]
						}
						if d.P2C {
							s += K[j][k] * Qr[p2c][k]
						}
					}
					score[j] = s / scale
					mx = max(mx, score[j])
				}
				sum := 0.0
				for j := range n {
					if mask[j] {
						score[j] = math.Exp(score[j] - mx)
						sum += score[j]
					}
				}
				for j := range n {
					if mask[j] {
						for k := h * hd; k < (h+1)*hd; k++ {
							ctx[i][k] += score[j] / sum * V[j][k]
						}
					}
				}
			}
		}
		o := refLinear(b.o, ctx)
		for i := range n {
			for k := range H {
				o[i][k] += x[i][k]
			}
			o[i] = refLN(o[i], b.ln1.W, b.ln1.B, cfg.Eps)
		}
		u := refLinear(b.up, o)
		for i := range u {
			for k := range u[i] {
				u[i][k] = refGELU(u[i][k])
			}
		}
		dn := refLinear(b.down, u)
		for i := range n {
			for k := range H {
				dn[i][k] += o[i][k]
			}
			x[i] = refLN(dn[i], b.ln2.W, b.ln2.B, cfg.Eps)
		}
	}
	pooled := refLinear(m.pooler, x[:1])[0]
	for k := range pooled {
		pooled[k] = refGELU(pooled[k])
	}
	return x, refLinear(m.out, [][]float64{pooled})[0]
}

// tinyDeBERTa is a random DeBERTa-v3-style classifier (no absolute
// positions, share_att_key, c2p|p2c, LayerNorm on the relative embeddings)
// whose LayerNorms are random too, with a span of 4 buckets so that
// distances beyond ±2 fall into log buckets and clamp.
func tinyDeBERTa(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := NewRandom(Config{Layers: 2, Hidden: 16, Heads: 2, FF: 24, Vocab: 30, Types: 0, Eps: 1e-7, PadID: 0,
		Head: DeBERTaHead, Labels: []string{"a", "b", "c"},
		DeBERTa: &DeBERTaConfig{Span: 4, Buckets: 4, MaxRelative: 16, C2P: true, P2C: true, NormRel: true}}, 0.3, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	norms := []*layerNorm{&m.embNorm, m.deb.relNorm}
	for i := range m.layers {
		norms = append(norms, &m.layers[i].ln1, &m.layers[i].ln2)
	}
	for _, ln := range norms {
		for k := range ln.W {
			ln.W[k] = float32(1 + 0.2*rng.NormFloat64())
			ln.B[k] = float32(0.1 * rng.NormFloat64())
		}
	}
	return m
}

func TestLogBucket(t *testing.T) {
	// values computed by hand from make_log_bucket_position's formula with
	// bucket 256, max position 512 (e.g. 300: 128 + ⌈ln(300/128)/ln(511/128)·127⌉ = 128 + 79)
	for _, c := range []struct{ r, want int }{{300, 207}, {-300, -207}, {100, 100}, {128, 128}, {129, 129}, {-129, -129}, {1000, 317}, {200, 169}} {
		if got := logBucket(c.r, 256, 512); got != c.want {
			t.Errorf("logBucket(%d) = %d, want %d", c.r, got, c.want)
		}
	}
}

// TestDeBERTaMatchesReference: hidden states and logits equal the
// reference, plain and with LoRA on every linear (which also projects the
// relative embeddings), padded and masked.
func TestDeBERTaMatchesReference(t *testing.T) {
	m := tinyDeBERTa(t, 5)
	ids := []int{2, 7, 9, 11, 4, 13, 8, 3, 0, 0}
	mask := []bool{true, true, true, true, true, true, true, true, false, false}
	for _, withLoRA := range []bool{false, true} {
		if withLoRA {
			randomLoRA(m, rand.New(rand.NewPCG(3, 3)))
		}
		out, err := m.Forward(Sequence{IDs: ids, Mask: mask})
		if err != nil {
			t.Fatal(err)
		}
		hid, logits := refDeBERTa(m, ids, mask)
		d := 0.0
		for i := range ids {
			if !mask[i] {
				continue
			}
			for k := range m.Config.Hidden {
				d = max(d, math.Abs(out.Hidden[i*m.Config.Hidden+k]-hid[i][k]))
			}
		}
		for k := range logits {
			d = max(d, math.Abs(out.Logits[k]-logits[k]))
		}
		t.Logf("LoRA %v: max |diff| %.3g (logits %.4g)", withLoRA, d, logits)
		if d > tolDeBERTa {
			t.Errorf("LoRA %v: max |diff| from the reference %.3g > %g", withLoRA, d, tolDeBERTa)
		}
	}
}

// TestDeBERTaGradients: finite differences through the disentangled
// attention (LoRA on query/key also acts on the relative embeddings) and
// the GELU pooler.
func TestDeBERTaGradients(t *testing.T) {
	m := tinyDeBERTa(t, 6)
	rng := rand.New(rand.NewPCG(4, 4))
	randomLoRA(m, rng)
	if err := m.TrainHead(); err != nil {
		t.Fatal(err)
	}
	checkGradients(t, m, Example{Seq: Sequence{IDs: []int{2, 7, 9, 11, 4, 13, 3, 0}, Mask: []bool{true, true, true, true, true, true, true, false}}, Label: 2}, rng)
}

// TestDeBERTaLoad: a Hugging Face DebertaV2ForSequenceClassification
// directory (written here from the random model under transformers'
// names) loads into the same model.
// writeDeBERTaDir writes m as a Hugging Face DebertaV2ForSequenceClassification
// directory (config.json, model.safetensors under transformers' names) and
// returns its config.
func writeDeBERTaDir(t *testing.T, m *Model, dir string) map[string]any {
	t.Helper()
	cfg := map[string]any{"model_type": "deberta-v2", "architectures": []string{"DebertaV2ForSequenceClassification"},
		"num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 24, "vocab_size": 30,
		"layer_norm_eps": 1e-7, "pad_token_id": 0, "relative_attention": true, "share_att_key": true, "position_buckets": 4,
		"max_relative_positions": 16, "pos_att_type": []string{"p2c", "c2p"}, "norm_rel_ebd": "layer_norm",
		"position_biased_input": false, "type_vocab_size": 0, "hidden_act": "gelu", "pooler_hidden_act": "gelu",
		"id2label": map[string]string{"0": "a", "1": "b", "2": "c"}}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	type tensor struct {
		name  string
		vals  []float32
		shape []int64
	}
	H := int64(16)
	ts := []tensor{{"deberta.embeddings.word_embeddings.weight", m.tok, []int64{30, H}},
		{"deberta.embeddings.LayerNorm.weight", m.embNorm.W, []int64{H}}, {"deberta.embeddings.LayerNorm.bias", m.embNorm.B, []int64{H}},
		{"deberta.encoder.rel_embeddings.weight", m.deb.rel, []int64{8, H}},
		{"deberta.encoder.LayerNorm.weight", m.deb.relNorm.W, []int64{H}}, {"deberta.encoder.LayerNorm.bias", m.deb.relNorm.B, []int64{H}},
		{"pooler.dense.weight", m.pooler.W, []int64{H, H}}, {"pooler.dense.bias", m.pooler.B, []int64{H}},
		{"classifier.weight", m.out.W, []int64{3, H}}, {"classifier.bias", m.out.B, []int64{3}}}
	for i, b := range m.layers {
		p := fmt.Sprintf("deberta.encoder.layer.%d.", i)
		for _, l := range []struct {
			name string
			lin  *Linear
		}{{"attention.self.query_proj", b.q}, {"attention.self.key_proj", b.k}, {"attention.self.value_proj", b.v},
			{"attention.output.dense", b.o}, {"intermediate.dense", b.up}, {"output.dense", b.down}} {
			ts = append(ts, tensor{p + l.name + ".weight", l.lin.W, []int64{int64(l.lin.Out), int64(l.lin.In)}},
				tensor{p + l.name + ".bias", l.lin.B, []int64{int64(l.lin.Out)}})
		}
		ts = append(ts, tensor{p + "attention.output.LayerNorm.weight", b.ln1.W, []int64{H}}, tensor{p + "attention.output.LayerNorm.bias", b.ln1.B, []int64{H}},
			tensor{p + "output.LayerNorm.weight", b.ln2.W, []int64{H}}, tensor{p + "output.LayerNorm.bias", b.ln2.B, []int64{H}})
	}
	infos := make([]format.TensorInfo, len(ts))
	for i, x := range ts {
		infos[i] = format.TensorInfo{Name: x.name, DType: format.F32, Shape: x.shape}
	}
	sink, err := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if err := sink.WriteTensor(x.name, f32Bytes(x.vals)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDeBERTaLoad(t *testing.T) {
	m := tinyDeBERTa(t, 7)
	dir := t.TempDir()
	cfg := writeDeBERTaDir(t, m, dir)
	got := load(t, dir)
	if got.Config.Head != DeBERTaHead || got.deb == nil || !got.deb.cfg.P2C || got.deb.cfg.Span != 4 {
		t.Fatalf("loaded %v head, deberta %+v", got.Config.Head, got.deb)
	}
	seq := Sequence{IDs: []int{2, 7, 9, 11, 4, 13, 3}}
	a, _ := m.Forward(seq)
	b, err := got.Forward(seq)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a.Logits {
		if a.Logits[k] != b.Logits[k] {
			t.Fatalf("logits %v, loaded %v", a.Logits, b.Logits)
		}
	}
	cfg["conv_kernel_size"] = 3
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, format.ErrUnsupported) || !strings.Contains(err.Error(), "conv_kernel_size") {
		t.Errorf("Load with conv_kernel_size 3: %v, want unsupported naming conv_kernel_size", err)
	}
}

// TestDeBERTaAdapter: a PEFT adapter under transformers' DeBERTa module
// names (query_proj / value_proj, classifier in modules_to_save) lands on
// the right linears and head, and the result equals the reference.
// debertaAdapter is a random PEFT adapter under transformers' DeBERTa
// names: LoRA r 2 (alpha 4) on query_proj and value_proj of both layers,
// the classifier in modules_to_save.
func debertaAdapter(rng *rand.Rand) *lora.Adapter {
	a := &lora.Adapter{Kind: lora.KindPEFT}
	for l := range 2 {
		for _, p := range []string{"query_proj", "value_proj"} {
			mod := &lora.Module{Name: fmt.Sprintf("deberta.encoder.layer.%d.attention.self.%s", l, p), Rank: 2, In: 16, Out: 16, Alpha: 4,
				A: make([]float32, 32), B: make([]float32, 32)}
			for i := range mod.A {
				mod.A[i], mod.B[i] = float32(0.2*rng.NormFloat64()), float32(0.2*rng.NormFloat64())
			}
			a.Modules = append(a.Modules, mod)
		}
	}
	w := make([]float32, 3*16)
	for i := range w {
		w[i] = float32(0.3 * rng.NormFloat64())
	}
	a.Saved = []lora.Tensor{{Name: "classifier.weight", DType: format.F32, Shape: []int64{3, 16}, Data: f32Bytes(w)},
		{Name: "classifier.bias", DType: format.F32, Shape: []int64{3}, Data: f32Bytes([]float32{0.1, -0.2, 0.3})}}
	return a
}

func TestDeBERTaAdapter(t *testing.T) {
	m := tinyDeBERTa(t, 8)
	a := debertaAdapter(rand.New(rand.NewPCG(8, 8)))
	if err := m.ApplyAdapter(a); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"blk.0.attn_q", "blk.0.attn_v", "blk.1.attn_q", "blk.1.attn_v"} {
		if m.linears[name].LoRA == nil || m.linears[name].LoRA.Scale != 2 {
			t.Errorf("%s: LoRA %+v, want the adapter's at scale 2", name, m.linears[name].LoRA)
		}
	}
	if m.out.B[1] != -0.2 {
		t.Errorf("classifier bias %v, want the adapter's", m.out.B)
	}
	ids, mask := []int{2, 5, 6, 3}, []bool{true, true, true, true}
	out, err := m.Forward(Sequence{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	_, want := refDeBERTa(m, ids, mask)
	for k := range want {
		if math.Abs(out.Logits[k]-want[k]) > tolDeBERTa {
			t.Fatalf("logits %v, reference %v", out.Logits, want)
		}
	}
}

// tolDeBERTaMerge: merged weights are rounded to float32 once (values
// ~0.3), which moved the logits (~0.3) by 8.9e-9 (measured).
const tolDeBERTaMerge = 5e-8

// TestDeBERTaMerge: lorakit merge of a DeBERTa PEFT adapter into its HF
// directory (names matched as they are; the classifier replaced) gives the
// logits of the base with the adapter applied at run time.
func TestDeBERTaMerge(t *testing.T) {
	m := tinyDeBERTa(t, 9)
	base, adapter, merged := t.TempDir(), filepath.Join(t.TempDir(), "adapter"), filepath.Join(t.TempDir(), "merged")
	writeDeBERTaDir(t, m, base)
	a := debertaAdapter(rand.New(rand.NewPCG(9, 9)))
	a.DType = format.F32
	if err := lora.WritePEFT(a, adapter, lora.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := merge.Merge(context.Background(), base, []merge.Input{{Path: adapter, Scale: 1}}, merged, merge.Options{}); err != nil {
		t.Fatal(err)
	}
	rt := load(t, base)
	back, err := lora.Open(adapter)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.ApplyAdapter(back); err != nil {
		t.Fatal(err)
	}
	seq := Sequence{IDs: []int{2, 7, 9, 11, 4, 13, 3}}
	o1, err := rt.Forward(seq)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := load(t, merged).Forward(seq)
	if err != nil {
		t.Fatal(err)
	}
	d := 0.0
	for k := range o1.Logits {
		d = max(d, math.Abs(o1.Logits[k]-o2.Logits[k]))
	}
	t.Logf("logits %v: max |merged − run time| %.3g", o1.Logits, d)
	if d > tolDeBERTaMerge {
		t.Errorf("max |merged − run time| %.3g > %g", d, tolDeBERTaMerge)
	}
}

// TestDeBERTaExport: LoRAs trained on a DeBERTa model export under
// transformers' names and apply back to the same linears.
func TestDeBERTaExport(t *testing.T) {
	m := tinyDeBERTa(t, 10)
	a := debertaAdapter(rand.New(rand.NewPCG(10, 10)))
	if err := m.ApplyAdapter(a); err != nil {
		t.Fatal(err)
	}
	if err := m.TrainHead(); err != nil {
		t.Fatal(err)
	}
	e, err := m.ExportAdapter("", "base", 4)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mod := range e.Modules {
		names[mod.Name] = true
	}
	for _, want := range []string{"deberta.encoder.layer.0.attention.self.query_proj", "deberta.encoder.layer.1.attention.self.value_proj"} {
		if !names[want] {
			t.Errorf("exported modules %v lack %s", names, want)
		}
	}
	if len(e.Saved) != 2 || e.Saved[0].Name != "classifier.weight" {
		t.Errorf("saved %v, want classifier.weight and .bias", e.Saved)
	}
	fresh := tinyDeBERTa(t, 10)
	if err := fresh.ApplyAdapter(e); err != nil {
		t.Fatal(err)
	}
	seq := Sequence{IDs: []int{2, 5, 6, 3}}
	o1, _ := m.Forward(seq)
	o2, _ := fresh.Forward(seq)
	for k := range o1.Logits {
		if o1.Logits[k] != o2.Logits[k] {
			t.Fatalf("logits %v after export and re-apply, %v before", o2.Logits, o1.Logits)
		}
	}
}
