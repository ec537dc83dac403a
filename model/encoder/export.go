package encoder

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// headHFName is the Hugging Face module of a head's trainable linear ("").
func (m *Model) headHFName(gguf string) string {
	switch {
	case (m.Config.Head == BERTHead || m.Config.Head == TokenHead || m.Config.Head == DeBERTaHead) && gguf == "cls.output":
		return "classifier"
	case m.Config.Head == RoBERTaHead && gguf == "cls":
		return "classifier.dense"
	case m.Config.Head == RoBERTaHead && gguf == "cls.output":
		return "classifier.out_proj"
	}
	return ""
}

// ExportAdapter returns the model's LoRAs and trained head as a PEFT
// adapter for sequence classification: lora_A/lora_B under the HF module
// paths of model type modelType ("bert", "roberta"; the model's own when
// ""; DeBERTa's names for a DeBERTa model), the head under PEFT's saved names (base_model.model.classifier...)
// with modules_to_save ["classifier"], task_type SEQ_CLS. alpha is the
// adapter's lora_alpha (each LoRA's scale must be alpha/rank).
func (m *Model) ExportAdapter(modelType, baseName string, alpha float64) (*lora.Adapter, error) {
	if modelType == "" {
		modelType = m.Config.ModelType
	}
	if modelType != "bert" && modelType != "roberta" && m.deb == nil {
		return nil, fmt.Errorf("encoder: model type %q: PEFT names need \"bert\" or \"roberta\" (a GGUF does not say which): %w", modelType, format.ErrUnsupported)
	}
	a := &lora.Adapter{Kind: lora.KindPEFT, DType: format.F32}
	cfg := lora.NewConfig(0, alpha)
	cfg.TaskType, cfg.BaseModel = "SEQ_CLS", baseName
	for _, name := range m.Linears() {
		l := m.linears[name]
		if p := l.LoRA; p != nil {
			hf, _, ok := arch.BERT.HFName(name + ".weight")
			if ok && !strings.HasPrefix(hf, "classifier") {
				hf = modelType + "." + hf
			}
			if m.deb != nil {
				hf, ok = debertaHFName(name)
				hf += ".weight"
			}
			if h := m.headHFName(name); h != "" {
				hf, ok = h+".weight", true
			}
			if !ok {
				return nil, fmt.Errorf("encoder: linear %q has no Hugging Face name: %w", name, format.ErrUnsupported)
			}
			if d := p.Scale*float64(p.Rank) - alpha; d > 1e-9*alpha || d < -1e-9*alpha {
				return nil, fmt.Errorf("encoder: LoRA of %s has scale %g, not alpha/rank = %g/%d: %w", name, p.Scale, alpha, p.Rank, format.ErrUnsupported)
			}
			mod := strings.TrimSuffix(hf, ".weight")
			a.Modules = append(a.Modules, &lora.Module{Name: mod, A: p.A, B: p.B, Rank: p.Rank, In: l.In, Out: l.Out, Alpha: alpha})
			cfg.R = p.Rank
			short := mod[strings.LastIndex(mod, ".")+1:]
			cfg.TargetModules.Add(short)
		}
		if l.DW != nil {
			h := m.headHFName(name)
			if h == "" {
				return nil, fmt.Errorf("encoder: %s is trained in full but is not part of the classifier: %w", name, format.ErrUnsupported)
			}
			a.Saved = append(a.Saved,
				lora.Tensor{Name: h + ".weight", DType: format.F32, Shape: []int64{int64(l.Out), int64(l.In)}, Data: f32Bytes(l.W)},
				lora.Tensor{Name: h + ".bias", DType: format.F32, Shape: []int64{int64(l.Out)}, Data: f32Bytes(l.B)})
			if len(cfg.ModulesToSave) == 0 {
				cfg.ModulesToSave = []string{"classifier"}
			}
		}
	}
	if len(a.Modules) == 0 {
		return nil, fmt.Errorf("encoder: the model has no LoRA to export: %w", format.ErrNotFound)
	}
	a.Config = cfg
	return a, nil
}

func f32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	if err := format.FromFloat32(out, v, format.F32); err != nil {
		panic(err) // sizes are ours
	}
	return out
}

// NewHead replaces the classification head with a freshly initialised one
// for labels (N(0, 0.02) weights, zero biases, as transformers initialises
// a head it did not find): RoBERTa's for model type roberta, BERT's
// otherwise, whose pooler is kept when the model has one.
func (m *Model) NewHead(labels []string, rng *rand.Rand) error {
	if len(labels) == 0 {
		return fmt.Errorf("encoder: a head needs at least one label: %w", format.ErrFormat)
	}
	H := m.Config.Hidden
	lin := func(name string, out int) *Linear {
		w := make([]float32, out*H)
		for i := range w {
			w[i] = float32(0.02 * rng.NormFloat64())
		}
		l := &Linear{Name: name, Out: out, In: H, W: w, B: make([]float32, out)}
		m.linears[name] = l
		return l
	}
	if m.Config.ModelType == "roberta" || m.Config.Head == RoBERTaHead {
		m.Config.Head = RoBERTaHead
		m.dense = lin("cls", H)
	} else {
		m.Config.Head = BERTHead
		if m.pooler == nil {
			m.pooler = lin("cls.pooler", H)
		}
	}
	m.out = lin("cls.output", len(labels))
	m.Config.Labels = labels
	return nil
}
