package train

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model"
)

// What a run leaves in its directory at the end, beside the log, the plot
// and the checkpoint.
const (
	// FinalAdapterDir and FinalAdapterGGUF are a LoRA run's adapter in
	// both layouts.
	FinalAdapterDir  = "adapter"
	FinalAdapterGGUF = "adapter.gguf"
	// FinalModelGGUF is a full fine-tuning run's model: every weight, F32,
	// with the base's metadata, loadable like any GGUF model.
	FinalModelGGUF = "model.gguf"
)

// saveOutput writes the run's final output: the adapter, or with full
// fine-tuning the model.
func (t *Trainer) saveOutput() error {
	if t.cfg.Full {
		return t.SaveModel()
	}
	return t.SaveAdapter()
}

// adapter returns the model's adapter with Hugging Face (PEFT) names when
// its architecture has a mapping (peft true), else with GGUF names. The
// head counts travel in its metadata, which llama's q/k row permutation
// needs.
func (t *Trainer) adapter() (a *lora.Adapter, peft bool, err error) {
	return ModelAdapter(t.m, t.Base)
}

// ModelAdapter returns m's LoRA layers as an adapter for base (a name for
// PEFT's base_model_name_or_path): with PEFT names when the architecture
// has a Hugging Face mapping (peft true), else with llama.cpp's names.
func ModelAdapter(m *model.Model, base string) (a *lora.Adapter, peft bool, err error) {
	a = m.Adapter()
	c := m.Config
	a.Metadata = format.Metadata{
		{Key: c.Arch + ".attention.head_count", Value: uint32(c.Heads)},
		{Key: c.Arch + ".attention.head_count_kv", Value: uint32(c.KVHeads)},
	}
	if a.Config != nil {
		a.Config.BaseModel = base
	}
	h := *a
	h.Modules = make([]*lora.Module, len(a.Modules))
	for i, mod := range a.Modules {
		c := *mod
		c.B = append([]float32(nil), mod.B...)
		h.Modules[i] = &c
	}
	if err := convert.ToHFNames(&h, ""); err != nil {
		if errors.Is(err, format.ErrUnsupported) {
			return a, false, nil
		}
		return nil, false, fmt.Errorf("train: adapter: %w", err)
	}
	h.Kind = lora.KindPEFT
	return &h, true, nil
}

// SaveAdapter writes the final adapter to Dir/adapter (PEFT, when the
// architecture maps to Hugging Face names) and Dir/adapter.gguf.
func (t *Trainer) SaveAdapter() error {
	if t.cfg.Full {
		return nil
	}
	return WriteAdapter(t.m, t.Base, t.Dir)
}

// WriteAdapter writes m's adapter into dir as FinalAdapterDir (PEFT, when
// the architecture allows) and FinalAdapterGGUF, replacing earlier ones.
func WriteAdapter(m *model.Model, base, dir string) error {
	a, peft, err := ModelAdapter(m, base)
	if err != nil {
		return err
	}
	if peft {
		if err := lora.WritePEFT(a, filepath.Join(dir, FinalAdapterDir), lora.WriteOptions{Force: true}); err != nil {
			return err
		}
	}
	g := m.Adapter()
	g.Metadata = a.Metadata
	return lora.WriteGGUF(g, filepath.Join(dir, FinalAdapterGGUF), lora.WriteOptions{Force: true})
}

// SaveModel writes a full fine-tuning run's model to Dir/model.gguf, with
// the base's metadata and t.Metadata set over it. A LoRA run has no model
// to write (see MergeLoRA and WriteModel).
func (t *Trainer) SaveModel() error {
	if !t.cfg.Full {
		return fmt.Errorf("train: a LoRA run writes an adapter, not a model: %w", format.ErrUnsupported)
	}
	return WriteModel(context.Background(), t.m, t.Metadata, filepath.Join(t.Dir, FinalModelGGUF))
}

// WriteModel writes every weight of m (model.Weights) as a GGUF file at
// path, replacing an earlier one, with the metadata m was loaded with and
// the keys of extra set over it (say, the tokenizer's, when the base kept
// it in a file of its own). The file loads with model.Load (and lorakit
// generate) and computes m's logits. A model with unmerged LoRA layers is
// refused: merge them first (Model.MergeLoRA). ctx is checked between
// tensors; on cancellation or any error no file is left.
func WriteModel(ctx context.Context, m *model.Model, extra format.Metadata, path string) error {
	if !m.Options().FullFineTune && len(m.Params()) > 0 {
		return fmt.Errorf("train: %s: the model has LoRA layers; merge them first: %w", path, format.ErrUnsupported)
	}
	src := m.Weights()
	md := src.Metadata().Clone()
	for _, kv := range extra {
		md.Set(kv.Key, kv.Value)
	}
	if err := convert.Checkpoint(ctx, withMetadata{src, md}, path, convert.Options{Format: "gguf", Force: true}); err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	return nil
}

// withMetadata replaces a Source's metadata.
type withMetadata struct {
	format.Source
	md format.Metadata
}

func (w withMetadata) Metadata() format.Metadata { return w.md }
