package encoder

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// GGUF keys lorakit adds to an encoder's LoRA GGUF so that it converts
// back to the PEFT adapter it came from without loss.
const (
	// KeyPEFTPrefix is the module path in front of the encoder's HF
	// names ("roberta.", "bert."): llama.cpp's bert architecture does not
	// say which family the encoder came from.
	KeyPEFTPrefix = "adapter.lorakit.peft_prefix"
	// KeyPEFTConfig is the adapter_config.json, byte for byte.
	KeyPEFTConfig = "adapter.lorakit.peft_config"
)

// Head tensors in an encoder's LoRA GGUF carry llama.cpp's model names for
// the classification head: cls.weight / cls.bias (RoBERTa's
// classifier.dense), cls.output.weight / cls.output.bias (RoBERTa's
// classifier.out_proj, BERT's classifier). llama.cpp's adapter loader
// refuses any tensor besides lora_a / lora_b, so such a file is for lorakit
// (logits, merge, conversion back to PEFT); a file for llama.cpp leaves the
// head out (the head can then only travel in the model GGUF).

// AdapterToGGUF renames a PEFT adapter of a BERT/RoBERTa classifier to
// llama.cpp's names: LoRA pairs as blk.N.attn_q etc., the saved head as
// cls.*; the module prefix and the PEFT config are kept in metadata.
func AdapterToGGUF(a *lora.Adapter) (*lora.Adapter, error) {
	if a.Kind == lora.KindGGUF {
		return nil, fmt.Errorf("encoder: %s: already a GGUF adapter: %w", a.Path, format.ErrFormat)
	}
	out := &lora.Adapter{Kind: lora.KindGGUF, Arch: arch.BERT.Name, DType: a.DType, Path: a.Path}
	prefix := ""
	for i, m := range a.Modules {
		p, rest := splitPrefix(m.Name)
		if i > 0 && p != prefix {
			return nil, fmt.Errorf("encoder: %s: modules under both %q and %q: %w", a.Path, prefix, p, format.ErrFormat)
		}
		prefix = p
		g, _, ok := arch.BERT.GGUFName(rest + ".weight")
		if !ok {
			return nil, fmt.Errorf("encoder: %s: module %q is not a BERT/RoBERTa linear: %w", a.Path, m.Name, format.ErrUnsupported)
		}
		c := *m
		c.Name = strings.TrimSuffix(g, ".weight")
		out.Modules = append(out.Modules, &c)
	}
	for _, t := range a.Saved {
		g, _, ok := arch.BERT.GGUFName(t.Name)
		if !ok || !strings.HasPrefix(g, "cls.") || g == PoolerName+".weight" || g == PoolerName+".bias" {
			return nil, fmt.Errorf("encoder: %s: saved tensor %q is not a classification head: %w", a.Path, t.Name, format.ErrUnsupported)
		}
		t.Name = g
		out.Saved = append(out.Saved, t)
	}
	if a.Config != nil {
		cfg, err := a.Config.Marshal()
		if err != nil {
			return nil, err
		}
		out.Metadata = append(out.Metadata, format.KV{Key: KeyPEFTConfig, Value: string(cfg)})
	}
	out.Metadata = append(out.Metadata, format.KV{Key: KeyPEFTPrefix, Value: prefix})
	return out, nil
}

// PoolerName is the GGUF module of BERT's pooler.
const PoolerName = "cls.pooler"

// splitPrefix cuts "roberta." / "bert." off a module path.
func splitPrefix(name string) (prefix, rest string) {
	for _, p := range arch.BERT.HFPrefixes {
		if r, ok := strings.CutPrefix(name, p.From); ok {
			return p.From, r
		}
	}
	return "", name
}

// AdapterFromGGUF is AdapterToGGUF's inverse: the PEFT adapter (HF module
// paths, the head under classifier.*, the stored adapter_config.json).
// prefix gives the module prefix ("roberta.", "bert.") when the file has
// no KeyPEFTPrefix (a llama.cpp LoRA GGUF).
func AdapterFromGGUF(g *lora.Adapter, prefix string) (*lora.Adapter, error) {
	if g.Kind != lora.KindGGUF {
		return nil, fmt.Errorf("encoder: %s: not a GGUF adapter: %w", g.Path, format.ErrFormat)
	}
	md := format.Metadata(g.Metadata)
	if p, ok := md.String(KeyPEFTPrefix); ok {
		prefix = p
	}
	if prefix == "" {
		return nil, fmt.Errorf("encoder: %s: the file does not say whether the encoder is BERT or RoBERTa (%s): give the module prefix: %w", g.Path, KeyPEFTPrefix, format.ErrUnsupported)
	}
	out := &lora.Adapter{Kind: lora.KindPEFT, DType: g.DType, Path: g.Path}
	for _, m := range g.Modules {
		hf, _, ok := arch.BERT.HFName(m.Name + ".weight")
		if !ok {
			return nil, fmt.Errorf("encoder: %s: module %q is not a BERT/RoBERTa linear: %w", g.Path, m.Name, format.ErrUnsupported)
		}
		c := *m
		c.Name = prefix + strings.TrimSuffix(hf, ".weight")
		out.Modules = append(out.Modules, &c)
	}
	roberta := false
	for _, t := range g.Saved {
		roberta = roberta || strings.HasPrefix(t.Name, "cls.weight") || strings.HasPrefix(t.Name, "cls.bias")
	}
	for _, t := range g.Saved {
		switch {
		case strings.HasPrefix(t.Name, "cls.output."):
			t.Name = "classifier." + strings.TrimPrefix(t.Name, "cls.output.")
			if roberta {
				t.Name = "classifier.out_proj." + strings.TrimPrefix(t.Name, "classifier.")
			}
		case t.Name == "cls.weight" || t.Name == "cls.bias":
			t.Name = "classifier.dense." + strings.TrimPrefix(t.Name, "cls.")
		default:
			return nil, fmt.Errorf("encoder: %s: tensor %q is not a LoRA pair or a classification head: %w", g.Path, t.Name, format.ErrUnsupported)
		}
		out.Saved = append(out.Saved, t)
	}
	if s, ok := md.String(KeyPEFTConfig); ok {
		cfg, err := lora.ParseConfig([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("encoder: %s: %s: %w", g.Path, KeyPEFTConfig, err)
		}
		out.Config = cfg
	} else {
		out.Config = g.Config.Clone()
		out.Config.TaskType = "SEQ_CLS"
	}
	return out, nil
}
