package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model/encoder"
)

// encoderLogitsReport is logits' --json output for an encoder: the class
// logits, or with --hidden the last hidden states (tokens x hidden).
type encoderLogitsReport struct {
	Logits any         `json:"logits,omitempty"` // []float64, or per token [][]float64 (token classification)
	Hidden [][]float64 `json:"hidden,omitempty"`
}

// rows splits v into rows of w values.
func rows(v []float64, w int) [][]float64 {
	var out [][]float64
	for i := 0; i+w <= len(v); i += w {
		out = append(out, v[i:i+w])
	}
	return out
}

// runEncoderLogits runs a BERT/RoBERTa encoder over the tokens as one
// sequence (token types from --types, no padding) and prints its head's
// logits, or with --hidden its last hidden states.
func runEncoderLogits(cmd *cobra.Command, path string, o logitsOptions) error {
	m, err := openEncoder(path, o.adapter)
	if err != nil {
		return err
	}
	out, err := m.Forward(encoder.Sequence{IDs: o.tokens, Types: o.types})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rep := encoderLogitsReport{Logits: out.Logits}
	if m.Config.Head == encoder.TokenHead {
		rep.Logits = rows(out.Logits, m.Config.NumLabels())
	}
	vals := out.Logits
	if o.hidden {
		rep.Logits, vals = nil, out.Hidden
		rep.Hidden = rows(out.Hidden, m.Config.Hidden)
	} else if m.Config.Head == encoder.NoHead {
		return fmt.Errorf("%s: the encoder has no classification head (a BERT GGUF from llama.cpp's converter lacks the pooler): give --hidden for hidden states: %w", path, format.ErrUnsupported)
	}
	w := cmd.OutOrStdout()
	if o.json {
		return writeJSON(w, rep)
	}
	buf := make([]byte, 0, 24*len(vals))
	for _, v := range vals {
		buf = strconv.AppendFloat(buf, v, 'g', 17, 64)
		buf = append(buf, '\n')
	}
	_, err = w.Write(buf)
	return err
}

// openEncoder loads an encoder and applies --adapter PATH[:SCALE].
func openEncoder(path, adapter string) (*encoder.Model, error) {
	m, err := encoder.Load(path)
	if err != nil {
		return nil, err
	}
	return m, applyEncoderAdapter(m, adapter)
}

// applyEncoderAdapter applies --adapter PATH[:SCALE] ("" none) to m.
func applyEncoderAdapter(m *encoder.Model, adapter string) error {
	if adapter == "" {
		return nil
	}
	in, err := merge.ParseInput(adapter)
	if err != nil {
		return usageError{fmt.Errorf("--adapter: %w", err)}
	}
	a, err := lora.Open(in.Path)
	if err != nil {
		return err
	}
	if in.Scale != 1 {
		if len(a.Saved) > 0 {
			return fmt.Errorf("%s: modules_to_save replace the head and cannot be applied at scale %g: %w", in.Path, in.Scale, format.ErrUnsupported)
		}
		for _, mod := range a.Modules {
			mod.Alpha *= in.Scale
		}
	}
	return m.ApplyAdapter(a)
}

// refuseEncoderAdapter stops an encoder adapter (BERT/RoBERTa module
// names) from being applied to a decoder model.
func refuseEncoderAdapter(modelPath, adapter string) error {
	if adapter == "" {
		return nil
	}
	in, err := merge.ParseInput(adapter)
	if err != nil {
		return nil // reported by the decoder path
	}
	a, err := lora.Open(in.Path)
	if err != nil {
		return nil
	}
	if f, err := a.Family(); err == nil && encoderFamily(f.Name) {
		return fmt.Errorf("%s: an adapter for an encoder (%s: BERT/RoBERTa), but %s is a decoder: %w", in.Path, f.Name, displayName(modelPath), format.ErrUnsupported)
	}
	return nil
}

// encoderFamily reports whether a GGUF architecture name is an encoder's.
func encoderFamily(name string) bool {
	f, err := arch.Lookup(name)
	return err == nil && arch.IsEncoder(f)
}
