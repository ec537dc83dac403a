package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Example is one training or evaluation input: a sequence and its label
// (a class index) or, for a regression head, its target value.
type Example struct {
	Seq    Sequence
	Label  int
	Target float64
	// TokenLabels are a token head's labels, one per token; IgnoreLabel
	// (transformers' -100) leaves a token out of the loss.
	TokenLabels []int
}

// IgnoreLabel marks a token without a label (CrossEntropyLoss's
// ignore_index).
const IgnoreLabel = -100

// Loss runs an example forward and returns its loss: cross entropy of the
// logits for classes, squared error for a regression head (transformers'
// MSELoss on one value). With grad, it also runs the backward pass,
// adding the gradients into the trainable parameters' Grad buffers (see
// Params); lossScale multiplies them (1/batch for a mean over a batch).
func (m *Model) Loss(ex Example, grad bool, lossScale float64) (float64, Output, error) {
	if m.Config.Head == NoHead {
		return 0, Output{}, fmt.Errorf("encoder: the model has no classification head to train: %w", format.ErrUnsupported)
	}
	if err := m.check(ex.Seq); err != nil {
		return 0, Output{}, err
	}
	n := m.Config.NumLabels()
	if m.Config.Head == TokenHead {
		if len(ex.TokenLabels) != len(ex.Seq.IDs) {
			return 0, Output{}, fmt.Errorf("encoder: %d token labels for %d tokens: %w", len(ex.TokenLabels), len(ex.Seq.IDs), format.ErrShape)
		}
		for i, l := range ex.TokenLabels {
			if l != IgnoreLabel && (l < 0 || l >= n) {
				return 0, Output{}, fmt.Errorf("encoder: token %d: label %d outside the head's %d classes: %w", i, l, n, format.ErrFormat)
			}
		}
	} else if !m.Config.Regression() && (ex.Label < 0 || ex.Label >= n) {
		return 0, Output{}, fmt.Errorf("encoder: label %d outside the head's %d classes: %w", ex.Label, n, format.ErrFormat)
	}
	var c *pass
	if grad {
		c = &pass{}
	}
	out := m.forward(ex.Seq, c)
	loss, dl := m.lossGrad(out.Logits, ex)
	if grad {
		for i := range dl {
			dl[i] *= lossScale
		}
		m.backward(make([]float64, len(out.Hidden)), dl, c)
	}
	return loss, out, nil
}

// lossGrad returns the loss and d(loss)/d(logits): a token head's mean
// cross entropy over its labelled tokens, else the sequence's loss.
func (m *Model) lossGrad(logits []float64, ex Example) (float64, []float64) {
	if m.Config.Head != TokenHead {
		return lossGrad(logits, ex, m.Config.Regression())
	}
	n := m.Config.NumLabels()
	g := make([]float64, len(logits))
	loss, count := 0.0, 0
	for i, l := range ex.TokenLabels {
		if l == IgnoreLabel {
			continue
		}
		li, gi := lossGrad(logits[i*n:(i+1)*n], Example{Label: l}, false)
		loss += li
		copy(g[i*n:(i+1)*n], gi)
		count++
	}
	if count == 0 {
		return 0, g
	}
	for i := range g {
		g[i] /= float64(count)
	}
	return loss / float64(count), g
}

// lossGrad returns one sequence's loss and d(loss)/d(logits).
func lossGrad(logits []float64, ex Example, regression bool) (float64, []float64) {
	if regression {
		d := logits[0] - ex.Target
		return d * d, []float64{2 * d}
	}
	lp := logSoftmax(logits)
	g := make([]float64, len(lp))
	for i, v := range lp {
		g[i] = math.Exp(v)
	}
	g[ex.Label]--
	return -lp[ex.Label], g
}

// Param is one trainable tensor: its float32 values and gradient, named
// by GGUF module ("blk.0.attn_q.lora_a", "cls.output.weight").
type Param struct {
	Name       string
	Data, Grad []float32
}

// Params lists the trainable parameters: every LoRA's A and B, the
// weights and biases of trainable linears (TrainHead, TrainAll), and
// with TrainEverything the LayerNorms, embeddings and MLM head, in a fixed
// order.
func (m *Model) Params() []Param {
	var out []Param
	for _, name := range m.Linears() {
		l := m.linears[name]
		if p := l.LoRA; p != nil {
			out = append(out, Param{name + ".lora_a", p.A, p.DA}, Param{name + ".lora_b", p.B, p.DB})
		}
		if l.DW != nil {
			out = append(out, Param{name + ".weight", l.W, l.DW}, Param{name + ".bias", l.B, l.DB})
		}
	}
	return append(out, m.extraParams()...)
}

// HeadModules are the GGUF modules of the head that PEFT's
// modules_to_save ["classifier"] trains: BERT's classifier (its pooler
// belongs to BertModel and stays frozen), RoBERTa's dense and out_proj.
func (m *Model) HeadModules() []string {
	switch m.Config.Head {
	case BERTHead, TokenHead, DeBERTaHead:
		return []string{"cls.output"}
	case RoBERTaHead:
		return []string{"cls", "cls.output"}
	}
	return nil
}

// TrainHead makes the head's classifier trainable in full (copies of its
// weights, so the loaded base is not changed).
func (m *Model) TrainHead() error {
	if m.Config.Head == NoHead {
		return fmt.Errorf("encoder: the model has no classification head: %w", format.ErrUnsupported)
	}
	for _, name := range m.HeadModules() {
		l := m.linears[name]
		l.W, l.B = slices.Clone(l.W), slices.Clone(l.B)
		l.DW, l.DB = make([]float32, len(l.W)), make([]float32, len(l.B))
	}
	return nil
}

// TrainAll makes every linear layer trainable in full (full fine-tuning
// for comparison with LoRA; embeddings and LayerNorms stay frozen).
func (m *Model) TrainAll() {
	for _, l := range m.linears {
		l.W, l.B = slices.Clone(l.W), slices.Clone(l.B)
		l.DW, l.DB = make([]float32, len(l.W)), make([]float32, len(l.B))
	}
}

// AddLoRA attaches a fresh LoRA of rank r and scale alpha/r to every
// linear whose GGUF name ends in one of targets ("attn_q", "attn_v"), PEFT's
// initialisation: A uniform in ±1/√in (kaiming_uniform with a = √5), B zero.
func (m *Model) AddLoRA(targets []string, r int, alpha float64, rng *rand.Rand) error {
	if r <= 0 {
		return fmt.Errorf("encoder: LoRA rank %d: want a positive rank: %w", r, format.ErrInvalidOption)
	}
	n := 0
	for _, name := range m.Linears() {
		l := m.linears[name]
		if !slices.ContainsFunc(targets, func(t string) bool { return strings.HasSuffix(name, "."+t) || name == t }) {
			continue
		}
		a := make([]float32, r*l.In)
		bound := 1 / math.Sqrt(float64(l.In))
		for i := range a {
			a[i] = float32((2*rng.Float64() - 1) * bound)
		}
		l.LoRA = &LoRA{Rank: r, Scale: alpha / float64(r), A: a, B: make([]float32, l.Out*r),
			DA: make([]float32, len(a)), DB: make([]float32, l.Out*r)}
		n++
	}
	if n == 0 {
		return fmt.Errorf("encoder: LoRA targets %v match no linear layer (%s): %w", targets, strings.Join(m.Linears(), ", "), format.ErrNotFound)
	}
	return nil
}

// NewRandom builds an encoder with random weights, N(0, std²) (transformers
// initialises with std 0.02; a model that was never pre-trained learns
// through frozen projections only when they pass signal on, std ≈ 1/√hidden),
// LayerNorms 1 and 0, for tests and demonstrations. cfg gives the sizes
// (Vocab, Positions, Types included; a DeBERTa config may have no
// absolute positions or token types) and the head.
func NewRandom(cfg Config, std float64, seed uint64) (*Model, error) {
	deb := cfg.DeBERTa != nil
	if cfg.Layers <= 0 || cfg.Hidden <= 0 || cfg.Heads <= 0 || cfg.Hidden%cfg.Heads != 0 || cfg.FF <= 0 || cfg.Vocab <= 0 ||
		(cfg.Positions <= 0 || cfg.Types <= 0) && !deb || deb && cfg.DeBERTa.Span <= 0 {
		return nil, fmt.Errorf("encoder: config %+v: sizes must be positive and hidden a multiple of heads: %w", cfg, format.ErrFormat)
	}
	if !(std > 0) {
		return nil, fmt.Errorf("encoder: weight std %v: want a positive std: %w", std, format.ErrInvalidOption)
	}
	if cfg.Head != NoHead && len(cfg.Labels) == 0 {
		return nil, fmt.Errorf("encoder: a %v head needs labels: %w", cfg.Head, format.ErrFormat)
	}
	rng := rand.New(rand.NewPCG(seed, 0x656e63))
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(std * rng.NormFloat64())
		}
		return v
	}
	H := cfg.Hidden
	ln := func(name string) layerNorm {
		w := make([]float32, H)
		for i := range w {
			w[i] = 1
		}
		return layerNorm{Name: name, W: w, B: make([]float32, H), eps: cfg.Eps}
	}
	m := &Model{Config: cfg, linears: map[string]*Linear{}}
	lin := func(name string, out, in int) *Linear {
		l := &Linear{Name: name, Out: out, In: in, W: normal(out * in), B: make([]float32, out)}
		m.linears[name] = l
		return l
	}
	m.tok = normal(cfg.Vocab * H)
	if cfg.Positions > 0 {
		m.pos = normal(cfg.Positions * H)
	}
	if cfg.Types > 0 {
		m.typ = normal(cfg.Types * H)
	}
	m.embNorm = ln("token_embd_norm")
	if deb {
		m.deb = &debParts{cfg: *cfg.DeBERTa, hidden: H, rel: normal(2 * cfg.DeBERTa.Span * H)}
		if cfg.DeBERTa.NormRel {
			n := ln("rel_embd_norm")
			m.deb.relNorm = &n
		}
	}
	for i := range cfg.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		m.layers = append(m.layers, block{q: lin(p+"attn_q", H, H), k: lin(p+"attn_k", H, H), v: lin(p+"attn_v", H, H),
			o: lin(p+"attn_output", H, H), up: lin(p+"ffn_up", cfg.FF, H), down: lin(p+"ffn_down", H, cfg.FF),
			ln1: ln(p + "attn_output_norm"), ln2: ln(p + "layer_output_norm")})
	}
	switch cfg.Head {
	case BERTHead, DeBERTaHead:
		m.pooler = lin("cls.pooler", H, H)
	case RoBERTaHead:
		m.dense = lin("cls", H, H)
	}
	if cfg.Head != NoHead {
		m.out = lin("cls.output", len(cfg.Labels), H)
	}
	return m, nil
}
