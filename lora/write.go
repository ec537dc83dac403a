package lora

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Write writes the adapter at path in the layout kind names: KindGGUF
// (WriteGGUF) or KindPEFT (WritePEFT); kind "" picks by path, a ".gguf"
// file for GGUF and a PEFT directory otherwise. It is Open's counterpart:
// the adapter's names are written as they are, so rename them first for
// the layout (convert.ToGGUFNames, convert.ToHFNames) when they are not
// the layout's own. mlx-lm output is not written (ErrUnsupported).
func Write(a *Adapter, path string, kind Kind, opts WriteOptions) error {
	if kind == "" {
		kind = KindFor(path)
	}
	switch kind {
	case KindGGUF:
		return WriteGGUF(a, path, opts)
	case KindPEFT:
		return WritePEFT(a, path, opts)
	}
	return fmt.Errorf("lora: %s: writing %q adapters: %w (write gguf or peft)", path, kind, format.ErrUnsupported)
}

// KindFor is the layout Write picks for path when none is given: KindGGUF
// for a ".gguf" file, KindPEFT (a directory) otherwise.
func KindFor(path string) Kind {
	if strings.EqualFold(filepath.Ext(path), ".gguf") {
		return KindGGUF
	}
	return KindPEFT
}
