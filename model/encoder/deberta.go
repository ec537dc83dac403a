package encoder

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

// DeBERTaConfig are DeBERTa-v2's attention settings (He et al. 2021,
// "DeBERTa: Decoding-enhanced BERT with Disentangled Attention", eq. 2-4,
// as transformers' DebertaV2Model implements them with share_att_key):
//
//	A_ij = (q_i·k_j + q_i·k^r_δ(i,j) + k_j·q^r_δ(i,j)) / √(3d)
//
// with q^r = Wq·LN(P), k^r = Wk·LN(P) the layer's own projections of the
// relative-position embeddings P (2·Span rows) and δ(i,j) the bucketed
// relative distance i − j, shifted by Span and clamped to [0, 2·Span).
type DeBERTaConfig struct {
	// Span is the attention span: position_buckets when positive, else
	// max_relative_positions (itself max_position_embeddings when < 1).
	Span int
	// Buckets and MaxRelative drive the log buckets of distances beyond
	// Buckets/2 (make_log_bucket_position); Buckets ≤ 0 uses raw distances.
	Buckets, MaxRelative int
	// C2P, P2C: which position terms pos_att_type lists.
	C2P, P2C bool
	// NormRel: norm_rel_ebd has "layer_norm" (a LayerNorm on P).
	NormRel bool
}

// debParts are the model's relative-position embeddings.
type debParts struct {
	cfg     DeBERTaConfig
	hidden  int
	rel     []float32 // (≥ 2·Span, H)
	relNorm *layerNorm
}

// relInput is what each layer reads: LN(P) rows (rows = 2·Span) and the
// bucket index of every (query, key) pair.
type relInput struct {
	emb      []float64
	rows     int
	idx      []int
	c2p, p2c bool
}

// logBucket is make_log_bucket_position for one relative distance.
func logBucket(rel, buckets, maxPos int) int {
	if buckets <= 0 || maxPos <= 0 {
		return rel
	}
	mid := buckets / 2
	if abs(rel) <= mid {
		return rel
	}
	a := float64(abs(rel))
	lp := math.Ceil(math.Log(a/float64(mid))/math.Log(float64(maxPos-1)/float64(mid))*float64(mid-1)) + float64(mid)
	if rel < 0 {
		return -int(lp)
	}
	return int(lp)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// input builds the layers' relative input for n tokens.
func (d *debParts) input(n int) *relInput {
	s, H := d.cfg.Span, d.hidden
	emb := make([]float64, 2*s*H)
	for i := range emb {
		emb[i] = float64(d.rel[i])
	}
	if d.relNorm != nil {
		emb = d.relNorm.forward(emb, 2*s, nil)
	}
	idx := make([]int, n*n)
	for i := range n {
		for j := range n {
			idx[i*n+j] = min(max(logBucket(i-j, d.cfg.Buckets, d.cfg.MaxRelative)+s, 0), 2*s-1)
		}
	}
	return &relInput{emb: emb, rows: 2 * s, idx: idx, c2p: d.cfg.C2P, p2c: d.cfg.P2C}
}

// debertaConfig reads a DeBERTa-v2 config.json, refusing what this
// implementation does not run (convolution layer, separate position
// projections, an embedding size other than the hidden size, activations
// other than GELU).
func debertaConfig(path string, c arch.Config) (Config, error) {
	fail := func(msg string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("encoder: %s: "+msg+": %w", append(append([]any{path}, args...), format.ErrUnsupported)...)
	}
	num := func(k string, def float64) float64 {
		if v, ok := c.Number(k); ok {
			return v
		}
		return def
	}
	cfg := Config{Layers: int(num("num_hidden_layers", 0)), Hidden: int(num("hidden_size", 0)), Heads: int(num("num_attention_heads", 0)),
		FF: int(num("intermediate_size", 0)), Eps: num("layer_norm_eps", 1e-7), PadID: int(num("pad_token_id", 0)), ModelType: "deberta-v2"}
	if cfg.Layers <= 0 || cfg.Hidden <= 0 || cfg.Heads <= 0 || cfg.FF <= 0 || cfg.Hidden%cfg.Heads != 0 {
		return Config{}, fmt.Errorf("encoder: %s: sizes missing or hidden_size not a multiple of num_attention_heads: %w", path, format.ErrFormat)
	}
	if k := num("conv_kernel_size", 0); k > 0 {
		return fail("conv_kernel_size %v (DeBERTa-v2 xlarge's convolution layer) is not supported", k)
	}
	if e := num("embedding_size", float64(cfg.Hidden)); int(e) != cfg.Hidden {
		return fail("embedding_size %v differs from hidden_size %d", e, cfg.Hidden)
	}
	if act, ok := c.String("hidden_act"); ok && act != "gelu" {
		return fail("hidden_act %q (only gelu)", act)
	}
	if act, ok := c.String("pooler_hidden_act"); ok && act != "gelu" {
		return fail("pooler_hidden_act %q (only gelu)", act)
	}
	if v, ok := c["relative_attention"].(bool); !ok || !v {
		return fail("relative_attention is not true")
	}
	if v, _ := c["share_att_key"].(bool); !v {
		return fail("share_att_key false (separate pos_key_proj / pos_query_proj) is not supported")
	}
	if v, ok := c.Number("attention_head_size"); ok && int(v) != cfg.HeadDim() {
		return fail("attention_head_size %v differs from hidden_size / heads", v)
	}
	d := DeBERTaConfig{Buckets: int(num("position_buckets", -1)), MaxRelative: int(num("max_relative_positions", -1))}
	if d.MaxRelative < 1 {
		d.MaxRelative = int(num("max_position_embeddings", 512))
	}
	d.Span = d.MaxRelative
	if d.Buckets > 0 {
		d.Span = d.Buckets
	}
	var types []string
	switch v := c["pos_att_type"].(type) {
	case string:
		types = strings.Split(strings.ToLower(v), "|")
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				types = append(types, strings.ToLower(s))
			}
		}
	}
	d.C2P, d.P2C = slices.Contains(types, "c2p"), slices.Contains(types, "p2c")
	if norm, _ := c.String("norm_rel_ebd"); slices.Contains(strings.Split(strings.ToLower(norm), "|"), "layer_norm") {
		d.NormRel = true
	}
	cfg.DeBERTa = &d
	return cfg, nil
}

// loadDeBERTa reads a DebertaV2Model / DebertaV2ForSequenceClassification
// directory (config.json + safetensors). DeBERTa has no llama.cpp GGUF
// counterpart, so its tensors keep Hugging Face names on disk and are
// mapped here to the encoder's module names (blk.N.attn_q, cls.pooler,
// cls.output, ...).
func loadDeBERTa(dir string, c arch.Config) (*Model, error) {
	cfg, err := debertaConfig(dir, c)
	if err != nil {
		return nil, err
	}
	labels, err := arch.Labels(c)
	if err != nil {
		return nil, fmt.Errorf("encoder: %s: %w", dir, err)
	}
	cfg.Labels = labels
	src, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	v := &renamed{Source: src, names: map[string]string{}, infos: nil}
	for _, t := range src.Tensors() {
		if t.Name == "deberta.embeddings.position_ids" {
			continue
		}
		g, ok := debertaName(t.Name)
		if !ok {
			return nil, fmt.Errorf("encoder: %s: tensor %q is not part of a DeBERTa-v2 sequence classifier lorakit runs: %w", dir, t.Name, format.ErrUnsupported)
		}
		v.names[g] = t.Name
		t.Name = g
		v.infos = append(v.infos, t)
	}
	return fromSource(dir, v, cfg)
}

// renamed presents a Source's tensors under other names.
type renamed struct {
	format.Source
	names map[string]string // new -> old
	infos []format.TensorInfo
}

// Tensors lists the tensors under their new names.
func (r *renamed) Tensors() []format.TensorInfo { return r.infos }

// TensorData reads a tensor by its new name.
func (r *renamed) TensorData(name string) ([]byte, error) {
	old, ok := r.names[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, format.ErrNotFound)
	}
	return r.Source.TensorData(old)
}

// debertaNames map DeBERTa-v2's Hugging Face tensor names (after
// "deberta.") to the encoder's module names; debertaLayer the modules of
// encoder.layer.N.
var (
	debertaNames = map[string]string{
		"embeddings.word_embeddings.weight":       "token_embd.weight",
		"embeddings.position_embeddings.weight":   "position_embd.weight",
		"embeddings.token_type_embeddings.weight": "token_types.weight",
		"embeddings.LayerNorm.weight":             "token_embd_norm.weight",
		"embeddings.LayerNorm.bias":               "token_embd_norm.bias",
		"encoder.rel_embeddings.weight":           "rel_embd.weight",
		"encoder.LayerNorm.weight":                "rel_embd_norm.weight",
		"encoder.LayerNorm.bias":                  "rel_embd_norm.bias",
	}
	debertaLayer = map[string]string{
		"attention.self.query_proj": "attn_q", "attention.self.key_proj": "attn_k", "attention.self.value_proj": "attn_v",
		"attention.output.dense": "attn_output", "attention.output.LayerNorm": "attn_output_norm",
		"intermediate.dense": "ffn_up", "output.dense": "ffn_down", "output.LayerNorm": "layer_output_norm",
	}
)

// debertaName maps a DebertaV2ForSequenceClassification tensor name (or
// a module path + ".weight") to the encoder's name: pooler.dense →
// cls.pooler, classifier → cls.output, deberta.encoder.layer.N.… →
// blk.N.….
func debertaName(hf string) (string, bool) {
	if rest, ok := strings.CutPrefix(hf, "pooler.dense."); ok {
		return "cls.pooler." + rest, true
	}
	if rest, ok := strings.CutPrefix(hf, "classifier."); ok {
		return "cls.output." + rest, true
	}
	name, ok := strings.CutPrefix(hf, "deberta.")
	if !ok {
		return "", false
	}
	if g, ok := debertaNames[name]; ok {
		return g, true
	}
	rest, ok := strings.CutPrefix(name, "encoder.layer.")
	if !ok {
		return "", false
	}
	num, mod, _ := strings.Cut(rest, ".")
	if _, err := strconv.Atoi(num); err != nil {
		return "", false
	}
	for hfMod, g := range debertaLayer {
		if suf, ok := strings.CutPrefix(mod, hfMod+"."); ok {
			return "blk." + num + "." + g + "." + suf, true
		}
	}
	return "", false
}

// debertaHFName is debertaName's inverse for layer modules (GGUF-style
// module name without .weight → transformers' module path).
func debertaHFName(gguf string) (string, bool) {
	rest, ok := strings.CutPrefix(gguf, "blk.")
	if !ok {
		return "", false
	}
	num, mod, _ := strings.Cut(rest, ".")
	for hf, g := range debertaLayer {
		if g == mod {
			return "deberta.encoder.layer." + num + "." + hf, true
		}
	}
	return "", false
}
