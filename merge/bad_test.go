package merge

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestMergeBadInput(t *testing.T) {
	fixtures := sharedDir(t, "fixtures")
	dir := t.TempDir()
	hfBase := filepath.Join(dir, "base.safetensors")
	writeSafetensors(t, hfBase, []tensorSpec{{"lin.weight", []int64{2, 3}, semW}})
	nan := semModule("lin", 1)
	nan.A[1] = float32(math.NaN())
	wide := &lora.Module{Name: "lin", Rank: 1, In: 4, Out: 2, Alpha: 1, A: make([]float32, 4), B: make([]float32, 2)}
	cases := []struct {
		name  string
		base  string
		input Input
		want  error
	}{
		{"other architecture", filepath.Join(fixtures, "gpt2-f32.gguf"), Input{Path: filepath.Join(fixtures, "llama-lora-r8.gguf"), Scale: 1}, format.ErrShape},
		{"target missing", hfBase, Input{Path: "a", Scale: 1, Adapter: semAdapter(semModule("nope", 1))}, format.ErrNotFound},
		{"shape mismatch", hfBase, Input{Path: "a", Scale: 1, Adapter: semAdapter(wide)}, format.ErrShape},
		{"NaN in adapter", hfBase, Input{Path: "a", Scale: 1, Adapter: semAdapter(nan)}, format.ErrFormat},
		{"adapter as base", filepath.Join(fixtures, "gpt2-lora-r4.gguf"), Input{Path: filepath.Join(fixtures, "gpt2-lora-r4.gguf"), Scale: 1}, format.ErrFormat},
		{"missing base", filepath.Join(dir, "nope.gguf"), Input{Path: "a", Scale: 1, Adapter: semAdapter(semModule("lin", 1))}, format.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before [32]byte
			if _, err := os.Stat(tc.base); err == nil {
				before = fileHash(t, tc.base)
			}
			out := filepath.Join(t.TempDir(), "out"+filepath.Ext(tc.base))
			_, err := Merge(context.Background(), tc.base, []Input{tc.input}, out, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Merge = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("output %s exists after a failed merge", out)
			}
			if _, serr := os.Stat(tc.base); serr == nil && fileHash(t, tc.base) != before {
				t.Errorf("base changed")
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 0 {
				t.Errorf("leftovers beside the output: %v", entries)
			}
		})
	}
	t.Run("output exists", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "o.safetensors")
		os.WriteFile(out, []byte("keep"), 0o644)
		_, err := Merge(context.Background(), hfBase, []Input{{Path: "a", Scale: 1, Adapter: semAdapter(semModule("lin", 1))}}, out, Options{})
		if !errors.Is(err, format.ErrExists) {
			t.Fatalf("Merge over an existing output = %v, want ErrExists", err)
		}
	})
	t.Run("output is the base", func(t *testing.T) {
		_, err := Merge(context.Background(), hfBase, []Input{{Path: "a", Scale: 1, Adapter: semAdapter(semModule("lin", 1))}}, hfBase, Options{Force: true})
		if !errors.Is(err, format.ErrExists) {
			t.Fatalf("Merge onto its own base = %v, want ErrExists", err)
		}
	})
}

func TestExtractBadInput(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	writeSafetensors(t, a, []tensorSpec{{"lin.weight", []int64{2, 3}, semW}})
	writeSafetensors(t, b, []tensorSpec{{"lin.weight", []int64{3, 2}, semW}})
	if _, err := Extract(context.Background(), a, b, ExtractOptions{Rank: 1}); !errors.Is(err, format.ErrShape) {
		t.Errorf("Extract(shape mismatch) = %v, want ErrShape", err)
	}
	if _, err := Extract(context.Background(), a, a, ExtractOptions{Rank: 1}); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("Extract(identical) = %v, want ErrNotFound", err)
	}
	if _, err := Extract(context.Background(), a, a, ExtractOptions{Rank: 1, Energy: 0.9}); !errors.Is(err, format.ErrInvalidOption) {
		t.Errorf("Extract(rank and energy) = %v, want ErrInvalidOption", err)
	}
}
