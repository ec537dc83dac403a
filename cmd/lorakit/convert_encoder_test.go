package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestConvertEncoderAdapter: lorakit convert takes the real RoBERTa
// sequence-classification adapter (klue/roberta-base, a 60-label head in
// modules_to_save) to a GGUF LoRA with the head under cls.* and back to
// PEFT files identical byte for byte.
func TestConvertEncoderAdapter(t *testing.T) {
	src := sharedPath(t, "data/adapters/roberta-seqcls-lora-r8-modules_to_save")
	dir := t.TempDir()
	gguf, back := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "peft")
	for _, args := range [][]string{{"convert", src, "-o", gguf}, {"convert", gguf, "-o", back}} {
		if _, stderr, code := lorakit(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	for _, f := range []string{"adapter_model.safetensors", "adapter_config.json"} {
		a, _ := os.ReadFile(filepath.Join(src, f))
		b, err := os.ReadFile(filepath.Join(back, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: not identical after PEFT -> GGUF -> PEFT (%v)", f, err)
		}
	}
}
