package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/tokenizer"
)

// HFModel is a Hugging Face model directory: config.json, weights in
// model.safetensors (or shards with model.safetensors.index.json) and
// optional tokenizer files.
type HFModel struct {
	// Dir is the directory; Config its parsed config.json; Arch the
	// architecture table its model_type selects.
	Dir    string
	Config map[string]any
	Arch   *Arch
	// Weights are the checkpoint's tensors under their HF names.
	Weights format.Source
	// Vocab is the tokenizer, nil if the directory has none.
	Vocab *tokenizer.Vocab
}

// IsHFDir reports whether dir looks like a Hugging Face model directory.
func IsHFDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil
}

// OpenHF opens a Hugging Face model directory. tokenizerPath, if set,
// overrides the tokenizer files found in dir.
func OpenHF(dir, tokenizerPath string) (*HFModel, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := format.ReadInput(cfgPath, format.ConfigLimit)
	if err != nil {
		return nil, err
	}
	m := &HFModel{Dir: dir}
	if err := json.Unmarshal(raw, &m.Config); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", cfgPath, err, format.ErrFormat)
	}
	mt, _ := m.Config["model_type"].(string)
	if mt == "" {
		return nil, fmt.Errorf("%s: no \"model_type\": %w", cfgPath, format.ErrFormat)
	}
	if m.Arch, err = ArchForModelType(mt); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	if m.Weights, err = safetensors.OpenDir(dir); err != nil {
		return nil, err
	}
	if m.Vocab, err = loadTokenizer(dir, tokenizerPath, 0); err != nil {
		m.Weights.Close()
		return nil, err
	}
	return m, nil
}

// Close releases the weights.
func (m *HFModel) Close() error { return m.Weights.Close() }

// LoadTokenizer reads a tokenizer file: a tokenizer.json, a SentencePiece
// .model, or a llama2.c tokenizer .bin (all its tokens).
func LoadTokenizer(path string) (*tokenizer.Vocab, error) {
	return loadTokenizer("", path, 0)
}

// loadTokenizer finds a tokenizer: explicit (a tokenizer.json, a
// SentencePiece .model, or a llama2.c tokenizer .bin of n tokens), else the
// Hugging Face tokenizer files in dir (tokenizer.LoadDir). It returns nil
// when there is none.
func loadTokenizer(dir, explicit string, n int) (*tokenizer.Vocab, error) {
	if explicit != "" {
		switch {
		case strings.HasSuffix(explicit, ".json"):
			return tokenizer.LoadTokenizerJSON(explicit)
		case strings.HasSuffix(explicit, ".bin"):
			return tokenizer.LoadLlama2C(explicit, n)
		default:
			return tokenizer.LoadSentencePiece(explicit)
		}
	}
	if dir == "" {
		return nil, nil
	}
	v, err := tokenizer.LoadDir(dir)
	if errors.Is(err, format.ErrNotFound) {
		return nil, nil // a model without a tokenizer still converts
	}
	return v, err
}

// numbers returns config.json's numeric fields (null fields are absent).
func numbers(cfg map[string]any) map[string]float64 {
	out := map[string]float64{}
	for k, v := range cfg {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

// GGUFMetadata returns the hyperparameters of config.json as llama.cpp's
// <arch>.* keys, typed as llama.cpp writes them.
func (a *Arch) GGUFMetadata(cfg map[string]any, cfgName string) (format.Metadata, error) {
	nums := numbers(cfg)
	var md format.Metadata
	for _, p := range a.Params {
		v, ok := nums[p.JSON]
		if !ok && p.Default != nil {
			v, ok = p.Default(nums)
		}
		if !ok {
			return nil, fmt.Errorf("%s: missing %q (needed for %s.%s): %w", cfgName, p.JSON, a.Name, p.Key, format.ErrFormat)
		}
		key := a.Name + "." + p.Key
		switch p.Type {
		case "f32":
			md = append(md, format.KV{Key: key, Value: float32(v)})
		default:
			if v < 0 || v > math.MaxUint32 || v != math.Trunc(v) {
				return nil, fmt.Errorf("%s: %q = %v is not a count: %w", cfgName, p.JSON, v, format.ErrFormat)
			}
			md = append(md, format.KV{Key: key, Value: uint32(v)})
		}
	}
	return md, nil
}

// GGUFSource presents the model as llama.cpp would have it: GGUF names and
// layouts, tensors in llama.cpp's order (token embedding, layers in order,
// output), and metadata with general.*, the hyperparameters and the
// tokenizer. Tied output heads are dropped; buffers are skipped; unknown
// tensors are an error naming them.
func (m *HFModel) GGUFSource() (format.Source, error) {
	cfgName := filepath.Join(m.Dir, "config.json")
	a := m.Arch
	md := format.Metadata{{Key: "general.architecture", Value: a.Name}, {Key: "general.name", Value: filepath.Base(filepath.Clean(m.Dir))}}
	params, err := a.GGUFMetadata(m.Config, cfgName)
	if err != nil {
		return nil, err
	}
	md = append(md, params...)
	md = append(md, format.KV{Key: "general.file_type", Value: uint32(0)})
	heads, _ := params.Int(a.Name + ".attention.head_count")
	kvHeads, ok := params.Int(a.Name + ".attention.head_count_kv")
	if !ok {
		kvHeads = heads
	}
	tied := true
	if t, ok := m.Config["tie_word_embeddings"].(bool); ok {
		tied = t
	}
	v := &view{base: m.Weights, entries: map[string]viewEntry{}}
	for _, t := range m.Weights.Tensors() {
		if a.HFSkip != nil && a.HFSkip.MatchString(t.Name) {
			continue
		}
		name, tn, ok := a.GGUFName(t.Name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q has no llama.cpp %s name: %w", m.Dir, t.Name, a.Name, format.ErrUnsupported)
		}
		if name == "output.weight" && tied {
			continue
		}
		if _, dup := v.entries[name]; dup {
			return nil, fmt.Errorf("%s: tensors map twice to %q: %w", m.Dir, name, format.ErrFormat)
		}
		e := viewEntry{from: t, transform: tn.Transform, toGGUF: true, heads: int(heads)}
		if tn.Transform == RopeK {
			e.heads = int(kvHeads)
		}
		v.entries[name] = e
		v.infos = append(v.infos, e.info(name))
	}
	sortGGUF(a, v.infos)
	if err := validateHF(a, m.Config, params, v.infos, cfgName, m.Dir); err != nil {
		return nil, err
	}
	if emb, ok := format.TensorIndex(v.infos, "token_embd.weight"); ok {
		// config.json's width must be the embedding's, or the GGUF written
		// would declare hyperparameters its tensors contradict.
		if n, has := params.Int(a.Name + ".embedding_length"); has && len(emb.Shape) == 2 && emb.Shape[1] != n {
			return nil, fmt.Errorf("%s: embedding_length %d from config.json, but tensor %q is %v: %w",
				m.Dir, n, emb.Name, emb.Shape, format.ErrShape)
		}
		if m.Vocab != nil {
			if err := fitVocab(m.Vocab, int(emb.Shape[0]), m.Dir); err != nil {
				return nil, err
			}
		}
	}
	if m.Vocab != nil {
		md = append(md, m.Vocab.Metadata()...)
	}
	v.md = md
	return v, nil
}

// fitVocab checks a tokenizer against the embedding's rows, padding the
// vocabulary with unused tokens when the embedding is larger (as llama.cpp's
// converter does).
func fitVocab(v *tokenizer.Vocab, rows int, where string) error {
	if err := v.Resize(rows); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// sortGGUF orders tensors as llama.cpp's converters emit them: the tensors
// before the layers (embeddings), each layer in table order, then the rest.
func sortGGUF(a *Arch, infos []format.TensorInfo) {
	rank := func(name string) (group, layer, idx int) {
		for i, tn := range a.Tensors {
			if namePattern(tn.GGUF).MatchString(name) {
				idx = i
				break
			}
		}
		if l, ok := layerOf(name); ok {
			return 1, l, idx
		}
		if strings.HasPrefix(name, "output") {
			return 2, 0, idx
		}
		return 0, 0, idx
	}
	sort.SliceStable(infos, func(i, j int) bool {
		gi, li, ii := rank(infos[i].Name)
		gj, lj, ij := rank(infos[j].Name)
		if gi != gj {
			return gi < gj
		}
		if li != lj {
			return li < lj
		}
		return ii < ij
	})
}
