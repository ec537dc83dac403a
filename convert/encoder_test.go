package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestEncoderConvert: BERT and RoBERTa sequence classifiers convert to
// llama.cpp's "bert" GGUF with every tensor llama.cpp's convert_hf_to_gguf.py
// writes, byte for byte (its llama-gguf-hash listing), the bert.* keys it
// writes, and BERT's pooler, which llama.cpp drops, under
// cls.pooler.weight / cls.pooler.bias with the checkpoint's bytes.
func TestEncoderConvert(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	for _, c := range []struct {
		dir, ref string
		pooler   bool
	}{
		{"bert-seqcls", "bert-seqcls-f32", true},
		{"bert-seqcls-merged", "bert-seqcls-merged-f32", true},
		{"roberta-seqcls", "roberta-seqcls-f32", false},
		{"roberta-seqcls-merged", "roberta-seqcls-merged-f32", false},
	} {
		t.Run(c.dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.gguf")
			mustModel(t, filepath.Join(root, "hf", c.dir), out, ModelOptions{})
			ref := testshared.TensorHashes(t, filepath.Join(root, "tensor-sha256", c.ref+".txt"))
			got := hashes(t, out)
			for name, h := range ref {
				if got[name] != h {
					t.Errorf("tensor %s: sha256 %.12s, llama.cpp's %.12s", name, got[name], h)
				}
			}
			extra := map[string]string{}
			for name, h := range got {
				if _, ok := ref[name]; !ok {
					extra[name] = h
				}
			}
			if !c.pooler {
				if len(extra) != 0 {
					t.Errorf("tensors beyond llama.cpp's: %v", extra)
				}
			} else {
				st, err := safetensors.Open(filepath.Join(root, "hf", c.dir, "model.safetensors"))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				want := map[string]string{arch.PoolerWeight: sha(t, st, "bert.pooler.dense.weight"), arch.PoolerBias: sha(t, st, "bert.pooler.dense.bias")}
				if len(extra) != len(want) {
					t.Errorf("tensors beyond llama.cpp's: %v, want only the pooler", extra)
				}
				for name, h := range want {
					if extra[name] != h {
						t.Errorf("%s: sha256 %.12s, the checkpoint's pooler %.12s", name, extra[name], h)
					}
				}
			}
			g, err := format.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			r, err := format.Open(filepath.Join(root, c.ref+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sameArchKeys(t, g.Metadata(), r.Metadata())
			if v, _ := g.Metadata().Get("tokenizer.ggml.token_type_count"); !sameValue(r.Metadata(), "tokenizer.ggml.token_type_count", v) {
				t.Errorf("tokenizer.ggml.token_type_count = %v, not llama.cpp's", v)
			}
		})
	}
}

// TestEncoderDropPooler: with DropPooler the GGUF holds exactly the
// tensors llama.cpp's converter writes, byte for byte.
func TestEncoderDropPooler(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	out := filepath.Join(t.TempDir(), "out.gguf")
	mustModel(t, filepath.Join(root, "hf", "bert-seqcls"), out, ModelOptions{DropPooler: true})
	sameHashes(t, "bert-seqcls --drop-pooler", hashes(t, out), testshared.TensorHashes(t, filepath.Join(root, "tensor-sha256", "bert-seqcls-f32.txt")))
}

func sameValue(md format.Metadata, key string, v any) bool {
	w, ok := md.Get(key)
	return ok && w == v
}

func sha(t *testing.T, src format.Source, name string) string {
	t.Helper()
	data, err := src.TensorData(name)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
