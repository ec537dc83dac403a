package main

import (
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model/encoder"
)

// convertEncoderAdapter converts an adapter of a BERT/RoBERTa encoder
// between PEFT and GGUF with its classification head (modules_to_save)
// under cls.* (see encoder.AdapterToGGUF). done is false for adapters of
// other architectures, which convert.Adapter handles.
func convertEncoderAdapter(in string, o convertOptions) (done bool, err error) {
	a, err := lora.Open(in)
	if err != nil {
		return false, nil // convert.Adapter reports it
	}
	f, err := a.Family()
	if err != nil || !encoderFamily(f.Name) || (o.arch != "" && !encoderFamily(o.arch)) {
		return false, nil
	}
	to := o.to
	if to == "" {
		to = "peft"
		if strings.EqualFold(filepath.Ext(o.output), ".gguf") {
			to = "gguf"
		}
	}
	wopt := lora.WriteOptions{Force: o.force, DType: a.DType}
	switch {
	case to == "gguf" && a.Kind != lora.KindGGUF:
		g, err := encoder.AdapterToGGUF(a)
		if err != nil {
			return true, err
		}
		return true, lora.WriteGGUF(g, o.output, wopt)
	case to == "peft" && a.Kind == lora.KindGGUF:
		prefix := ""
		if o.base != "" && convert.IsHFDir(o.base) {
			if m, err := encoder.Load(o.base); err == nil && m.Config.ModelType != "" {
				prefix = m.Config.ModelType + "."
			}
		}
		p, err := encoder.AdapterFromGGUF(a, prefix)
		if err != nil {
			return true, err
		}
		return true, lora.WritePEFT(p, o.output, wopt)
	}
	return false, nil
}
