package lora

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestOpenWithExperts: LoRA on llama.cpp's stacked experts (*_exps, 3-D
// lora_a / lora_b) is read expert by expert by OpenWithExperts, its values
// those of the file in row-major (E, r, in) and (E, out, r) order, and
// refused by Open, never dropped.
func TestOpenWithExperts(t *testing.T) {
	path := filepath.Join(sharedDir(t, "fixtures/arch"), "mixtral-lora-r4.gguf")
	if _, err := Open(path); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("Open(%s) = %v, want ErrUnsupported", path, err)
	}
	a, err := OpenWithExperts(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	experts := 0
	for _, m := range a.Modules {
		if !strings.HasSuffix(m.Name, "_exps") {
			if m.Experts != 0 {
				t.Errorf("%s: %d experts, want 0", m.Name, m.Experts)
			}
			continue
		}
		experts++
		infoA, _ := format.TensorIndex(src.Tensors(), m.Name+ggufSufA)
		infoB, _ := format.TensorIndex(src.Tensors(), m.Name+ggufSufB)
		if m.Experts != int(infoA.Shape[0]) || m.Rank != int(infoA.Shape[1]) || m.In != int(infoA.Shape[2]) || m.Out != int(infoB.Shape[1]) {
			t.Errorf("%s: experts %d rank %d in %d out %d; lora_a %v, lora_b %v", m.Name, m.Experts, m.Rank, m.In, m.Out, infoA.Shape, infoB.Shape)
		}
		rawA, _ := readFloats(src, infoA)
		rawB, _ := readFloats(src, infoB)
		for i := range rawA {
			if rawA[i] != m.A[i] {
				t.Fatalf("%s: A[%d] = %v, file %v", m.Name, i, m.A[i], rawA[i])
			}
		}
		for i := range rawB {
			if rawB[i] != m.B[i] {
				t.Fatalf("%s: B[%d] = %v, file %v", m.Name, i, m.B[i], rawB[i])
			}
		}
	}
	if experts == 0 {
		t.Error("no module on stacked experts")
	}
}
