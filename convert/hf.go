package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/tokenizer"
)

// HFModel is a Hugging Face model directory: config.json, weights in
// model.safetensors (or shards with model.safetensors.index.json) and
// optional tokenizer files.
type HFModel struct {
	// Dir is the directory; Config its parsed config.json (for a multimodal
	// checkpoint, its text model's view: see arch.TextConfig); Arch the
	// family its model_type selects.
	Dir    string
	Config arch.Config
	Arch   *arch.Family
	// Multimodal: config.json has a text_config; only the text tower is
	// converted (the vision tower and projector are left out).
	Multimodal bool
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

// readHFConfig reads dir/config.json and the family its model_type (the
// text model's, for a multimodal checkpoint) selects.
func readHFConfig(dir string) (arch.Config, *arch.Family, bool, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := format.ReadInput(cfgPath, format.ConfigLimit)
	if err != nil {
		return nil, nil, false, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, false, fmt.Errorf("%s: %v: %w", cfgPath, err, format.ErrFormat)
	}
	text, multimodal := arch.TextConfig(cfg)
	mt, _ := text.String("model_type")
	if mt == "" {
		return nil, nil, false, fmt.Errorf("%s: no \"model_type\": %w", cfgPath, format.ErrFormat)
	}
	f, err := arch.ForModelType(mt)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", cfgPath, err)
	}
	return text, f, multimodal, nil
}

// OpenHF opens a Hugging Face model directory. tokenizerPath, if set,
// overrides the tokenizer files found in dir.
func OpenHF(dir, tokenizerPath string) (*HFModel, error) {
	cfg, f, multimodal, err := readHFConfig(dir)
	if err != nil {
		return nil, err
	}
	m := &HFModel{Dir: dir, Config: cfg, Arch: f, Multimodal: multimodal}
	if m.Weights, err = safetensors.OpenDir(dir); err != nil {
		return nil, err
	}
	w := m.Weights
	if m.Weights, err = dequantizePrequantized(w, cfg, dir); err == nil {
		m.Weights, err = unfuseExperts(m.Weights, f, hiddenSize(cfg), dir)
	}
	if err != nil {
		w.Close()
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

// GGUFSource presents the model as llama.cpp's converter would write it:
// GGUF names and layouts, tensors in its order, generated tensors
// (rope_freqs, LongRoPE factors), 1-D tensors, norms and routers as F32,
// general.file_type true to the tensors, and metadata with general.*, the
// hyperparameters and the tokenizer. Tied output heads are dropped;
// buffers are skipped; a tensor the family does not have, or one whose
// shape contradicts config.json, is an error naming it.
func (m *HFModel) GGUFSource() (format.Source, error) {
	cfgName := filepath.Join(m.Dir, "config.json")
	f := m.Arch
	md := format.Metadata{{Key: "general.architecture", Value: f.Name}, {Key: "general.name", Value: filepath.Base(filepath.Clean(m.Dir))}}
	params, err := f.GGUFMetadata(m.Config, cfgName)
	if err != nil {
		return nil, err
	}
	gen, err := f.Generate(m.Config, cfgName)
	if err != nil {
		return nil, err
	}
	md = append(md, params...)
	if f.ExtraMetadata != nil {
		extra, err := f.ExtraMetadata(m.Config)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Dir, err)
		}
		md = append(md, extra...)
	}
	hp := f.Hyperparameters(params)
	if hp.Heads > 0 && (hp.KVHeads > hp.Heads || hp.Heads%hp.KVHeads != 0) {
		return nil, fmt.Errorf("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d: %w", cfgName, hp.Heads, hp.KVHeads, format.ErrFormat)
	}
	if hp.Experts > len(m.Weights.Tensors()) {
		// Checked before expert slots are allocated from the count.
		return nil, fmt.Errorf("%s: %d experts, but the checkpoint has %d tensors in all: %w", cfgName, hp.Experts, len(m.Weights.Tensors()), format.ErrFormat)
	}
	tied := f.TiedAlways || f.TiedByDefault
	if t, ok := m.Config["tie_word_embeddings"].(bool); ok {
		tied = f.TiedAlways || t
	}
	v := &view{base: m.Weights, entries: map[string]viewEntry{}}
	experts := map[string][]format.TensorInfo{} // stacked GGUF name -> HF tensor per expert
	for _, g := range gen {
		v.add(g.Name, viewEntry{data: f32Bytes(g.Values), dtype: format.F32})
	}
	for _, t := range m.Weights.Tensors() {
		if f.Skip(t.Name) || (m.Multimodal && arch.VisionTensor(t.Name)) {
			continue
		}
		match, ok := f.GGUF(t.Name)
		if !ok {
			tower := ""
			if m.Multimodal {
				tower = " (a multimodal checkpoint: lorakit converts its text tower only)"
			}
			return nil, fmt.Errorf("%s: tensor %q has no llama.cpp %s name%s: %w", m.Dir, t.Name, f.Name, tower, format.ErrUnsupported)
		}
		if match.Name == "output.weight" && tied {
			continue
		}
		if err := checkAgainstConfig(t, match, hp); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Dir, err)
		}
		if match.Tensor.Stacked() {
			if experts[match.Name] == nil {
				experts[match.Name] = make([]format.TensorInfo, hp.Experts)
			}
			if experts[match.Name][match.Expert].Name != "" {
				return nil, fmt.Errorf("%s: tensors %q and %q are both expert %d of %q: %w", m.Dir,
					experts[match.Name][match.Expert].Name, t.Name, match.Expert, match.Name, format.ErrFormat)
			}
			experts[match.Name][match.Expert] = t
			continue
		}
		if _, dup := v.entries[match.Name]; dup {
			return nil, fmt.Errorf("%s: tensors map twice to %q: %w", m.Dir, match.Name, format.ErrFormat)
		}
		e := newEntry(t, match.Tensor.Transform, true, ropeHeads(match.Tensor.Transform, hp))
		if match.Tensor.Transform == arch.PositionOffset {
			if e.skip, err = positionSkip(m.Config, t); err != nil {
				return nil, fmt.Errorf("%s: %w", m.Dir, err)
			}
		}
		if arch.KeepF32(match.Name, t.Shape) && t.DType.IsFloat() {
			e.dtype = format.F32
		}
		v.add(match.Name, e)
	}
	for _, name := range slices.Sorted(maps.Keys(experts)) {
		e, err := stackEntry(name, experts[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Dir, err)
		}
		v.add(name, e)
	}
	if err := v.fitEmbedding(f, m.Vocab, hp, m.Dir); err != nil {
		return nil, err
	}
	sortGGUF(f, v.infos, hp.Experts)
	if err := validateHF(f, m.Config, params, v.infos, cfgName, m.Dir); err != nil {
		return nil, err
	}
	md = append(md, format.KV{Key: "general.file_type", Value: fileType(v.infos)})
	if m.Vocab != nil {
		md = append(md, m.Vocab.Metadata()...)
	}
	v.md = md
	return v, nil
}

// fitEmbedding checks the token embedding against config.json's width and
// the tokenizer: a larger embedding pads the vocabulary with unused tokens
// (llama.cpp's converter does), except where the family cuts the
// embedding to the tokenizer instead (Gemma 3).
func (v *view) fitEmbedding(f *arch.Family, vocab *tokenizer.Vocab, hp arch.Hyper, where string) error {
	const name = "token_embd.weight"
	emb, ok := v.entries[name]
	if !ok {
		return nil
	}
	info := emb.info(name)
	if len(info.Shape) != 2 {
		return fmt.Errorf("%s: tensor %q is %v, want a matrix: %w", where, emb.from.Name, info.Shape, format.ErrShape)
	}
	if hp.Embd > 0 && info.Shape[1] != int64(hp.Embd) {
		return fmt.Errorf("%s: embedding_length %d from config.json, but tensor %q is %v: %w",
			where, hp.Embd, emb.from.Name, info.Shape, format.ErrShape)
	}
	if vocab == nil {
		return nil
	}
	rows := int(info.Shape[0])
	if f.TrimEmbedding && vocab.Len() < rows {
		rows = vocab.Len()
		emb.rows = int64(rows)
		v.entries[name] = emb
		i := slices.IndexFunc(v.infos, func(t format.TensorInfo) bool { return t.Name == name })
		v.infos[i] = emb.info(name)
	}
	return fitVocab(vocab, rows, where)
}

// stackEntry makes the view entry stacking a GGUF expert tensor from its
// HF experts, which must all be present, of one dtype and shape.
func stackEntry(name string, parts []format.TensorInfo) (viewEntry, error) {
	for e, p := range parts {
		if p.Name == "" {
			return viewEntry{}, fmt.Errorf("tensor %q: expert %d of %d is missing: %w", name, e, len(parts), format.ErrNotFound)
		}
		if p.DType != parts[0].DType || !format.SameShape(p.Shape, parts[0].Shape) {
			return viewEntry{}, fmt.Errorf("tensor %q: expert %d is %v %v, expert 0 %v %v: %w", name, e, p.DType, p.Shape,
				parts[0].DType, parts[0].Shape, format.ErrShape)
		}
	}
	return viewEntry{from: parts[0], stack: parts, dtype: parts[0].DType}, nil
}

// checkAgainstConfig refuses a tensor whose layer or rows contradict the
// hyperparameters config.json states.
func checkAgainstConfig(t format.TensorInfo, match arch.Match, hp arch.Hyper) error {
	if hp.Layers > 0 && match.Layer >= hp.Layers {
		return fmt.Errorf("tensor %q is layer %d, but config.json says %d layers: %w", t.Name, match.Layer, hp.Layers, format.ErrShape)
	}
	if match.Tensor.Stacked() && match.Expert >= hp.Experts {
		return fmt.Errorf("tensor %q is expert %d, but config.json says %d experts: %w", t.Name, match.Expert, hp.Experts, format.ErrShape)
	}
	want := hp.WantRows(match.Tensor.Rows)
	if match.Tensor.Rows == arch.ExpertRows && len(t.Shape) >= 1 && t.Shape[0] != int64(want) {
		return fmt.Errorf("router %q has %d rows, but config.json says %d experts: %w", t.Name, t.Shape[0], hp.Experts, format.ErrShape)
	}
	if want > 0 && len(t.Shape) >= 1 && t.Shape[0] != int64(want) {
		return fmt.Errorf("tensor %q has %d rows, but config.json's heads (%d, %d key/value) of size %d give %d: %w",
			t.Name, t.Shape[0], hp.Heads, hp.KVHeads, hp.HeadDim, want, format.ErrShape)
	}
	return nil
}

// ropeHeads returns the head count a RoPE row permutation needs.
func ropeHeads(tr arch.Transform, hp arch.Hyper) int {
	if tr == arch.RopeK {
		return hp.KVHeads
	}
	return hp.Heads
}

// fileType is llama.cpp's general.file_type for a model's tensors: the type
// of its first tensor of two or more dimensions (0 F32, 1 F16, 32 BF16),
// as llama.cpp's converter detects it.
func fileType(infos []format.TensorInfo) uint32 {
	for _, t := range infos {
		if len(t.Shape) >= 2 {
			if ft, ok := fileTypes[t.DType]; ok {
				return ft
			}
		}
	}
	return 0
}

// fileTypes are llama.cpp's LLAMA_FTYPE values of the float types.
var fileTypes = map[format.DType]uint32{format.F32: 0, format.F16: 1, format.BF16: 32}

// fitVocab checks a tokenizer against the embedding's rows, padding the
// vocabulary with unused tokens when the embedding is larger (as llama.cpp's
// converter does).
func fitVocab(v *tokenizer.Vocab, rows int, where string) error {
	if err := v.Resize(rows); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// sortGGUF orders tensors as llama.cpp's converter writes them (see
// arch.Family.SortKey).
func sortGGUF(f *arch.Family, infos []format.TensorInfo, nExperts int) {
	sort.SliceStable(infos, func(i, j int) bool {
		gi, ki, ii := f.SortKey(infos[i].Name, nExperts)
		gj, kj, ij := f.SortKey(infos[j].Name, nExperts)
		if gi != gj {
			return gi < gj
		}
		if ki != kj {
			return ki < kj
		}
		return ii < ij
	})
}
