package lora

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// Detect names the layout of the adapter at path, judged by content: a
// directory whose adapter_config.json has a peft_type is PEFT, one whose
// config has mlx-lm's lora_parameters / fine_tune_type (or that holds
// adapters.safetensors) is MLX; a file starting with "GGUF" is a GGUF
// adapter. A path to a file inside an adapter directory means that directory.
func Detect(path string) (Kind, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("lora: %s: %w: %w", path, format.ErrNotFound, err)
	}
	if !st.IsDir() {
		switch filepath.Base(path) {
		case peftConfigFile, peftWeightsFile, peftPickleFile, mlxWeightsFile:
			return Detect(filepath.Dir(path))
		}
		f, err := os.Open(path)
		if err != nil {
			return "", "", fmt.Errorf("lora: %w", err)
		}
		defer f.Close()
		head := make([]byte, 4)
		if _, err := io.ReadFull(f, head); err == nil && string(head) == "GGUF" {
			src, err := format.Open(path)
			if err != nil {
				return "", "", fmt.Errorf("lora: %w", err)
			}
			typ, _ := src.Metadata().String(keyType)
			src.Close()
			if typ == "adapter" {
				return KindGGUF, path, nil
			}
		}
		return "", "", fmt.Errorf("lora: %s: not a LoRA adapter lorakit recognises (want a PEFT or MLX directory or a GGUF adapter): %w", path, format.ErrUnsupported)
	}
	data, err := readSmallFile(filepath.Join(path, peftConfigFile))
	if err != nil {
		return "", "", err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", "", fmt.Errorf("lora: %s: %v: %w", filepath.Join(path, peftConfigFile), err, format.ErrFormat)
	}
	_, hasPeft := probe["peft_type"]
	_, hasLP := probe["lora_parameters"]
	_, hasFT := probe["fine_tune_type"]
	_, mlxErr := os.Stat(filepath.Join(path, mlxWeightsFile))
	switch {
	case hasPeft:
		return KindPEFT, path, nil
	case hasLP || hasFT || mlxErr == nil:
		return KindMLX, path, nil
	}
	return "", "", fmt.Errorf("lora: %s: adapter_config.json has neither peft_type (PEFT) nor lora_parameters (mlx-lm): %w", path, format.ErrFormat)
}

// Open reads the adapter at path, whatever its layout (see Detect).
func Open(path string) (*Adapter, error) {
	kind, p, err := Detect(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindPEFT:
		return ReadPEFT(p)
	case KindMLX:
		return ReadMLX(p)
	}
	return ReadGGUF(p)
}

// OpenWithExperts is Open: Open reads llama.cpp LoRA GGUF modules on
// stacked experts (MoE *_exps tensors) as Module.Experts too, and every
// part of lorakit (convert, merge, model, analyze) takes them. It is kept
// for callers written when only merging did.
func OpenWithExperts(path string) (*Adapter, error) { return Open(path) }
