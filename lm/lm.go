package lm

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/resolve"
	"github.com/lorakit/lorakit/tokenizer"
)

// Options say how Open loads a model.
type Options struct {
	// Tokenizer is a tokenizer file (tokenizer.model, tokenizer.bin,
	// tokenizer.json, a GGUF) to use instead of the one that comes with
	// the checkpoint.
	Tokenizer string
	// Adapters are attached at run time, each update multiplied by its
	// Scale (1 for llama.cpp's --lora). Two adapters on the same
	// projection are refused (format.ErrExists): merge them first
	// (merge.Combine).
	Adapters []merge.Input
	// Model are the options model.Load gets (see Run for inference).
	Model model.Options
}

// Run are the model options for inference: frozen quantized or
// half-precision weights stay in their type.
var Run = model.Options{KeepQuantized: true}

// LM is a loaded language model and its tokenizer.
type LM struct {
	// Name names the model in messages: its path, or the embedded
	// checkpoint's name.
	Name string
	// Model is the transformer, adapters attached.
	Model *model.Model
	// Tokenizer is the model's tokenizer, nil when none was found.
	Tokenizer *tokenizer.Tokenizer
}

// Open loads the model at path ("" for the embedded stories260K) with o: a
// GGUF file or split set, a llama2.c checkpoint (tokenizer beside it:
// tokenizer.model, tok*.model, tokenizer.bin, tok*.bin) or a Hugging Face
// directory, with o's tokenizer and adapters. A vocabulary larger than the
// model's embedding is refused (format.ErrShape).
func Open(path string, o Options) (*LM, error) {
	src, vocab, err := openSource(path, o.Tokenizer)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	l := &LM{Name: DisplayName(path)}
	if l.Model, err = model.Load(src, o.Model); err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name, err)
	}
	if vocab != nil {
		if vocab.Len() > l.Model.Config.Vocab {
			return nil, fmt.Errorf("%s: tokenizer has %d tokens, the model %d: %w", l.Name, vocab.Len(), l.Model.Config.Vocab, format.ErrShape)
		}
		if l.Tokenizer, err = tokenizer.New(vocab); err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name, err)
		}
	}
	base := resolve.View(l.Name, src)
	for _, in := range o.Adapters {
		if err := attach(l.Model, base, in); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// DisplayName is how Open names the model at path in messages.
func DisplayName(path string) string {
	if path == "" {
		return embedded.Name + " (embedded)"
	}
	return path
}

// NeedTokenizer returns l's tokenizer or an error saying how to give one.
func (l *LM) NeedTokenizer() (*tokenizer.Tokenizer, error) {
	if l.Tokenizer == nil {
		return nil, fmt.Errorf("%s: no tokenizer found: give --tokenizer: %w", l.Name, format.ErrNotFound)
	}
	return l.Tokenizer, nil
}

// openSource opens a checkpoint with llama.cpp names and finds its
// vocabulary (nil if none): tokPath when given, else the one that comes
// with the checkpoint (see convert.OpenModel).
func openSource(path, tokPath string) (format.Source, *tokenizer.Vocab, error) {
	if path != "" {
		if kind, _, err := lora.Detect(path); err == nil {
			return nil, nil, fmt.Errorf("%s: a LoRA adapter (%s), not a model: give it with --adapter: %w", path, kind, format.ErrUnsupported)
		}
		return convert.OpenModel(path, tokPath)
	}
	src, err := embedded.Source()
	if err != nil {
		return nil, nil, err
	}
	v, err := embedded.Vocab()
	if tokPath != "" {
		v, err = convert.LoadTokenizer(tokPath)
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, v, nil
}

// attach reads an adapter, names it for base through resolve (llama.cpp
// names, q/k RoPE permutation, scales folded), finds each module's base
// tensor there, and attaches it to m under that tensor's name: modules on
// stacked MoE experts (llama.cpp's *_exps LoRA tensors) expert by expert,
// as llama.cpp applies them at run time.
func attach(m *model.Model, base *resolve.Base, in merge.Input) error {
	if in.Adapter == nil {
		a, err := lora.OpenWithExperts(in.Path)
		if err != nil {
			return err
		}
		in.Adapter = a
	}
	a, err := in.Load()
	if err != nil {
		return err
	}
	if err := base.Adapt(a, in.Path); err != nil {
		return err
	}
	var dense, experts []*lora.Module
	for _, mod := range a.Modules {
		t, err := base.Module(mod)
		if err != nil {
			return fmt.Errorf("adapter %s: %w", in.Path, err)
		}
		mod.Name = strings.TrimSuffix(t.Tensor.Name, ".weight")
		if mod.Experts > 0 {
			experts = append(experts, mod)
		} else {
			dense = append(dense, mod)
		}
	}
	a.Modules = dense
	if err := m.ApplyAdapter(a, in.Scale); err != nil {
		return fmt.Errorf("%s: %w", in.Path, err)
	}
	for _, mod := range experts {
		// A is (Experts, Rank, In), B (Experts, Out, Rank), row-major
		na, nb := mod.Rank*mod.In, mod.Out*mod.Rank
		as, bs := make([][]float32, mod.Experts), make([][]float32, mod.Experts)
		for e := range mod.Experts {
			as[e], bs[e] = mod.A[e*na:(e+1)*na], mod.B[e*nb:(e+1)*nb]
		}
		if err := m.ApplyExpertLoRA(mod.Name, as, bs, mod.Rank, mod.Scale()*in.Scale); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
	}
	return nil
}
