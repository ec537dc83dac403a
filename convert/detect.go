package convert

import (
	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// DetectArch names the architecture of a checkpoint: its
// general.architecture metadata, else the family under which every tensor
// name maps (HF names) or is known (GGUF names) when exactly one does;
// "" if none or several fit (HF names of the llama layout fit Llama, Qwen
// and Gemma alike: only config.json tells them apart).
func DetectArch(src format.Source) string {
	if name, ok := src.Metadata().String("general.architecture"); ok {
		return name
	}
	infos := src.Tensors()
	if len(infos) == 0 {
		return ""
	}
	found := ""
	for _, name := range arch.Names() {
		f, _ := arch.Lookup(name)
		all := true
		for _, t := range infos {
			_, hf := f.GGUF(t.Name)
			_, gg := f.HF(t.Name)
			if !hf && !gg && !f.Skip(t.Name) && !arch.Generated[t.Name] {
				all = false
				break
			}
		}
		if all {
			if found != "" {
				return ""
			}
			found = name
		}
	}
	return found
}

// ModelArch names the architecture of a model checkpoint at path (opened
// as src): a Hugging Face directory's config.json model_type, else
// DetectArch. An architecture lorakit does not know is returned with an
// error listing the known ones.
func ModelArch(path string, src format.Source) (string, error) {
	if IsHFDir(path) {
		_, f, _, err := readHFConfig(path)
		if err != nil {
			return "", err
		}
		return f.Name, nil
	}
	name := DetectArch(src)
	if name == "" {
		return "", nil
	}
	if _, err := arch.Lookup(name); err != nil {
		return name, err
	}
	return name, nil
}
