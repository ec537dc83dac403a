package encoder

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// HeadKind is the classification head an encoder carries.
type HeadKind int

// The heads.
const (
	// NoHead: an encoder only (hidden states, no logits).
	NoHead HeadKind = iota
	// BERTHead is BertForSequenceClassification's pooler (cls.pooler) and
	// classifier (cls.output).
	BERTHead
	// RoBERTaHead is RobertaClassificationHead: dense (cls) and out_proj
	// (cls.output).
	RoBERTaHead
	// DeBERTaHead is DebertaV2ForSequenceClassification's ContextPooler
	// (dense, GELU; cls.pooler) and classifier (cls.output).
	DeBERTaHead
	// TokenHead is ...ForTokenClassification's classifier (cls.output) on
	// every token: logits (tokens, labels).
	TokenHead
)

// String names the head ("none", "bert", "roberta", "deberta", "token").
func (k HeadKind) String() string {
	return [...]string{"none", "bert", "roberta", "deberta", "token"}[k]
}

// Config are an encoder's hyperparameters.
type Config struct {
	Layers, Hidden, Heads, FF int
	Vocab, Positions, Types   int
	Eps                       float64
	// PadID is the padding token (-1: none known). RoBERTaPositions: the
	// positions count non-padding tokens only (RoBERTa from an HF directory).
	PadID            int
	RoBERTaPositions bool
	// ModelType is config.json's model_type ("bert", "roberta"); "" for a
	// GGUF, which does not say. It gives PEFT module names on export.
	ModelType string
	// Head is the classification head; Labels its label names (len = the
	// number of outputs; one output is regression).
	Head   HeadKind
	Labels []string
	// DeBERTa, when set, makes the encoder DeBERTa-v2/v3: disentangled
	// attention with relative positions instead of (or besides) absolute
	// ones.
	DeBERTa *DeBERTaConfig
	// TokenClassification: config.json's architectures name a
	// ...ForTokenClassification (its classifier is cls.output, per token).
	TokenClassification bool
}

// NumLabels is the number of head outputs (0 without a head).
func (c Config) NumLabels() int {
	if c.Head == NoHead {
		return 0
	}
	return len(c.Labels)
}

// Regression reports whether the head has one output trained with MSE.
func (c Config) Regression() bool { return c.NumLabels() == 1 }

// HeadDim is Hidden / Heads.
func (c Config) HeadDim() int { return c.Hidden / c.Heads }

// configFrom reads the hyperparameters from a GGUF view's metadata (bert.*
// keys), and for an HF directory its config.json's padding and position
// rules.
func configFrom(path string, md format.Metadata) (Config, error) {
	a, _ := md.String("general.architecture")
	if !arch.IsEncoder(mustFamily(a)) {
		return Config{}, fmt.Errorf("encoder: %s: architecture %q is not an encoder (BERT, RoBERTa): %w", path, a, format.ErrUnsupported)
	}
	get := func(k string) (int, error) {
		v, ok := md.Int(a + "." + k)
		if !ok || v <= 0 {
			return 0, fmt.Errorf("encoder: %s: missing or invalid %s.%s: %w", path, a, k, format.ErrFormat)
		}
		return int(v), nil
	}
	var c Config
	var err error
	for _, f := range []struct {
		key string
		dst *int
	}{{"block_count", &c.Layers}, {"embedding_length", &c.Hidden}, {"attention.head_count", &c.Heads}, {"feed_forward_length", &c.FF}} {
		if *f.dst, err = get(f.key); err != nil {
			return c, err
		}
	}
	if c.Hidden%c.Heads != 0 {
		return c, fmt.Errorf("encoder: %s: embedding_length %d is not a multiple of head_count %d: %w", path, c.Hidden, c.Heads, format.ErrFormat)
	}
	eps, ok := md.Float(a + ".attention.layer_norm_epsilon")
	if !ok {
		return c, fmt.Errorf("encoder: %s: missing %s.attention.layer_norm_epsilon: %w", path, a, format.ErrFormat)
	}
	c.Eps = eps
	c.PadID = -1
	if v, ok := md.Int("tokenizer.ggml.padding_token_id"); ok {
		c.PadID = int(v)
	}
	if labels, ok := md.Get(a + ".classifier.output_labels"); ok {
		ls, isList := labels.([]string)
		if !isList {
			return c, fmt.Errorf("encoder: %s: %s.classifier.output_labels is %T, want strings: %w", path, a, labels, format.ErrFormat)
		}
		c.Labels = ls
	}
	if cfg, ok, err := readHFConfig(path); err != nil {
		return c, err
	} else if ok {
		mt, _ := cfg.String("model_type")
		c.RoBERTaPositions = mt == "roberta"
		c.ModelType = mt
		if as, ok := cfg["architectures"].([]any); ok && len(as) == 1 {
			a, _ := as[0].(string)
			c.TokenClassification = strings.HasSuffix(a, "ForTokenClassification")
		}
		if p, ok := cfg.Number("pad_token_id"); ok {
			c.PadID = int(p)
		}
		if n, ok := cfg.Number("num_labels"); ok && len(c.Labels) == 0 {
			c.Labels = make([]string, int(n))
		}
	}
	return c, nil
}

func mustFamily(name string) *arch.Family {
	f, _ := arch.Lookup(name)
	return f
}

// readHFConfig reads dir/config.json when path is a Hugging Face directory.
func readHFConfig(path string) (arch.Config, bool, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return nil, false, nil
	}
	p := filepath.Join(path, "config.json")
	raw, err := format.ReadInput(p, format.ConfigLimit)
	if err != nil {
		return nil, false, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, false, fmt.Errorf("encoder: %s: %v: %w", p, err, format.ErrFormat)
	}
	return arch.Config(cfg), true, nil
}
