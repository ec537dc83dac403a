// Package lm loads a language model ready to run: a checkpoint lorakit
// reads (GGUF, llama2.c, a Hugging Face directory, or the embedded
// stories260K), the tokenizer that comes with it or one given, and
// optionally a LoRA adapter applied at run time, as llama.cpp's
// --lora-scaled applies it. It is what `lorakit generate`, `logits`,
// `score`, `eval` and `train` load.
package lm

import (
	"fmt"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
)

// Options control Load.
type Options struct {
	// Tokenizer is a tokenizer file replacing the checkpoint's own (a
	// tokenizer.json, a SentencePiece .model or a llama2.c tokenizer .bin).
	Tokenizer string
	// Adapter is a LoRA adapter (any kind lora.Open reads) applied at run
	// time with AdapterScale; "" for none.
	Adapter      string
	AdapterScale float64
	// Model are the options model.Load gets (RunOptions for inference).
	Model model.Options
}

// RunOptions load a model for inference: frozen quantized or
// half-precision weights stay in their type.
var RunOptions = model.Options{KeepQuantized: true}

// LM is a loaded language model.
type LM struct {
	// Name is the path it was loaded from, or the embedded model's name.
	Name  string
	Model *model.Model
	// Tokenizer is nil when none was found (see NeedTokenizer).
	Tokenizer *tokenizer.Tokenizer
}

// Load loads the model at path ("" for the embedded stories260K): a GGUF
// file, a llama2.c checkpoint (its tokenizer found beside it:
// tokenizer.model, tok*.model, tokenizer.bin, tok*.bin) or a Hugging Face
// directory, with o's tokenizer and adapter. A LoRA adapter given as the
// model is refused (ErrUnsupported), as is a tokenizer larger than the
// model's vocabulary (ErrShape).
func Load(path string, o Options) (*LM, error) {
	src, vocab, err := OpenSource(path, o.Tokenizer)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	name := DisplayName(path)
	m, err := model.Load(src, o.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l := &LM{Name: name, Model: m}
	if vocab != nil {
		if vocab.Len() > m.Config.Vocab {
			return nil, fmt.Errorf("%s: tokenizer has %d tokens, the model %d: %w", name, vocab.Len(), m.Config.Vocab, format.ErrShape)
		}
		if l.Tokenizer, err = tokenizer.New(vocab); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if o.Adapter != "" {
		if err := ApplyAdapter(m, src, o.Adapter, o.AdapterScale); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// DisplayName is how errors and logs name the model at path.
func DisplayName(path string) string {
	if path == "" {
		return embedded.Name + " (embedded)"
	}
	return path
}

// OpenSource opens a checkpoint with llama.cpp names and finds its
// vocabulary (nil if none): tokPath when given, else the one that comes
// with the checkpoint (see convert.OpenModel). path "" is the embedded
// stories260K.
func OpenSource(path, tokPath string) (format.Source, *tokenizer.Vocab, error) {
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

// ApplyAdapter reads the adapter at path and attaches it to m at run time
// with the given scale; base is the checkpoint m was loaded from, whose
// names and heads the adapter is mapped to.
func ApplyAdapter(m *model.Model, base format.Source, path string, scale float64) error {
	a, err := lora.Open(path)
	if err != nil {
		return err
	}
	if err := convert.ToGGUFNamesFor(a, base); err != nil {
		return err
	}
	if err := m.ApplyAdapter(a, scale); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// NeedTokenizer returns l's tokenizer, or an error wrapping ErrNotFound
// that says how to give one.
func (l *LM) NeedTokenizer() (*tokenizer.Tokenizer, error) {
	if l.Tokenizer == nil {
		return nil, fmt.Errorf("%s: no tokenizer found: give --tokenizer: %w", l.Name, format.ErrNotFound)
	}
	return l.Tokenizer, nil
}
