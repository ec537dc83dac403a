package encoder

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
)

// Model is a BERT/RoBERTa encoder with an optional classification head.
type Model struct {
	Config Config
	// Token, position and token-type embeddings: (Vocab,H), (Positions,H),
	// (Types,H).
	tok, pos, typ []float32
	embNorm       layerNorm
	layers        []block
	// pooler (BERT), dense (RoBERTa) and out: the head's linears, nil when
	// absent.
	pooler, dense, out *Linear
	linears            map[string]*Linear
	// deb holds DeBERTa's relative-position embeddings (nil for BERT).
	deb *debParts
	// emb are the embeddings' gradients when they are trained (TrainEverything).
	emb *embGrads
	// mlm is a masked-LM head (pre-training), nil otherwise.
	mlm *mlmHead
}

// embGrads are the gradients of the token, position and type embeddings.
type embGrads struct{ tok, pos, typ []float32 }

// block is one post-LN encoder layer.
type block struct {
	q, k, v, o, up, down *Linear
	ln1, ln2             layerNorm
}

// Load reads an encoder from a Hugging Face directory (config.json +
// safetensors, through convert's GGUF view; DeBERTa-v2/v3, which has no
// GGUF form, directly) or a GGUF file of architecture "bert". The head is BERT's when the file has cls.pooler,
// RoBERTa's when it has cls; a BERT GGUF written by llama.cpp's converter
// (cls.output without the pooler it dropped) loads without a head, since
// its logits cannot be computed.
func Load(path string) (*Model, error) {
	if cfg, ok, err := readHFConfig(path); err != nil {
		return nil, err
	} else if mt, _ := cfg.String("model_type"); ok && mt == "deberta-v2" {
		return loadDeBERTa(path, cfg)
	}
	var src format.Source
	var err error
	if convert.IsHFDir(path) {
		src, _, err = convert.OpenModel(path, "")
	} else {
		src, err = format.Open(path) // the tokenizer is not needed (and WordPiece GGUF vocabularies are not read)
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	cfg, err := configFrom(path, src.Metadata())
	if err != nil {
		return nil, err
	}
	return fromSource(path, src, cfg)
}

// fromSource reads every tensor as float32 and checks its shape.
func fromSource(path string, src format.Source, cfg Config) (*Model, error) {
	ts := map[string]format.TensorInfo{}
	for _, t := range src.Tensors() {
		ts[t.Name] = t
	}
	H := cfg.Hidden
	read := func(name string, shape ...int) ([]float32, error) {
		t, ok := ts[name]
		if !ok {
			return nil, fmt.Errorf("encoder: %s: tensor %q: %w", path, name, format.ErrNotFound)
		}
		if len(t.Shape) != len(shape) {
			return nil, fmt.Errorf("encoder: %s: tensor %q is %v, want %v: %w", path, name, t.Shape, shape, format.ErrShape)
		}
		for i, d := range shape {
			if d >= 0 && t.Shape[i] != int64(d) {
				return nil, fmt.Errorf("encoder: %s: tensor %q is %v, want %v: %w", path, name, t.Shape, shape, format.ErrShape)
			}
		}
		data, err := src.TensorData(name)
		if err != nil {
			return nil, fmt.Errorf("encoder: %s: %w", path, err)
		}
		v, err := floats(data, t)
		if err != nil {
			return nil, fmt.Errorf("encoder: %s: tensor %q: %w", path, name, err)
		}
		return v, nil
	}
	m := &Model{Config: cfg, linears: map[string]*Linear{}}
	var err error
	norm := func(prefix string) (layerNorm, error) {
		w, err := read(prefix+".weight", H)
		if err != nil {
			return layerNorm{}, err
		}
		b, err := read(prefix+".bias", H)
		return layerNorm{Name: prefix, W: w, B: b, eps: cfg.Eps}, err
	}
	if m.tok, err = read("token_embd.weight", -1, H); err != nil {
		return nil, err
	}
	// DeBERTa may have neither absolute positions (position_biased_input
	// false) nor token types (type_vocab_size 0).
	optional := func(name string) bool { _, ok := ts[name]; return cfg.DeBERTa != nil && !ok }
	if !optional("position_embd.weight") {
		if m.pos, err = read("position_embd.weight", -1, H); err != nil {
			return nil, err
		}
	}
	if !optional("token_types.weight") {
		if m.typ, err = read("token_types.weight", -1, H); err != nil {
			return nil, err
		}
	}
	m.Config.Vocab, m.Config.Positions, m.Config.Types = len(m.tok)/H, len(m.pos)/H, len(m.typ)/H
	if d := cfg.DeBERTa; d != nil {
		m.deb = &debParts{cfg: *d, hidden: H}
		if m.deb.rel, err = read("rel_embd.weight", -1, H); err != nil {
			return nil, err
		}
		if len(m.deb.rel)/H < 2*d.Span {
			return nil, fmt.Errorf("encoder: %s: rel_embeddings has %d rows, the attention span %d needs %d: %w", path, len(m.deb.rel)/H, d.Span, 2*d.Span, format.ErrShape)
		}
		if d.NormRel {
			n, err := norm("rel_embd_norm")
			if err != nil {
				return nil, err
			}
			m.deb.relNorm = &n
		}
	}
	lin := func(name string, out, in int) (*Linear, error) {
		w, err := read(name+".weight", out, in)
		if err != nil {
			return nil, err
		}
		b, err := read(name+".bias", int(len(w)/in))
		if err != nil {
			return nil, err
		}
		l := &Linear{Name: name, Out: len(w) / in, In: in, W: w, B: b}
		m.linears[name] = l
		return l, nil
	}
	if m.embNorm, err = norm("token_embd_norm"); err != nil {
		return nil, err
	}
	for i := range cfg.Layers {
		p := "blk." + strconv.Itoa(i) + "."
		var b block
		for _, x := range []struct {
			dst     **Linear
			name    string
			out, in int
		}{{&b.q, "attn_q", H, H}, {&b.k, "attn_k", H, H}, {&b.v, "attn_v", H, H}, {&b.o, "attn_output", H, H},
			{&b.up, "ffn_up", cfg.FF, H}, {&b.down, "ffn_down", H, cfg.FF}} {
			if *x.dst, err = lin(p+x.name, x.out, x.in); err != nil {
				return nil, err
			}
		}
		if b.ln1, err = norm(p + "attn_output_norm"); err != nil {
			return nil, err
		}
		if b.ln2, err = norm(p + "layer_output_norm"); err != nil {
			return nil, err
		}
		m.layers = append(m.layers, b)
	}
	_, hasOut := ts["cls.output.weight"]
	_, hasPooler := ts["cls.pooler.weight"]
	_, hasDense := ts["cls.weight"]
	switch {
	case hasOut && cfg.TokenClassification && !hasDense && !hasPooler:
		m.Config.Head = TokenHead
	case hasOut && hasDense:
		m.Config.Head = RoBERTaHead
		if m.dense, err = lin("cls", H, H); err != nil {
			return nil, err
		}
	case hasOut && hasPooler:
		m.Config.Head = BERTHead
		if cfg.DeBERTa != nil {
			m.Config.Head = DeBERTaHead
		}
		if m.pooler, err = lin("cls.pooler", H, H); err != nil {
			return nil, err
		}
	}
	if m.Config.Head != NoHead {
		if m.out, err = lin("cls.output", -1, H); err != nil {
			return nil, err
		}
		if len(m.Config.Labels) == 0 {
			m.Config.Labels = make([]string, m.out.Out)
		}
		if len(m.Config.Labels) != m.out.Out {
			return nil, fmt.Errorf("encoder: %s: %d labels, but cls.output has %d rows: %w", path, len(m.Config.Labels), m.out.Out, format.ErrShape)
		}
	}
	return m, nil
}

// floats decodes a tensor's elements to float32 (a copy: the source is
// closed after loading).
func floats(data []byte, t format.TensorInfo) ([]float32, error) {
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	if err := format.ToFloat32(out, data, t.DType); err != nil {
		return nil, err
	}
	return out, nil
}

// Linears lists the model's linear layers by GGUF module name, sorted.
func (m *Model) Linears() []string {
	names := make([]string, 0, len(m.linears))
	for n := range m.linears {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Linear returns the linear named by its GGUF module name, or nil.
func (m *Model) Linear(name string) *Linear { return m.linears[name] }
