package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/lorakit/lorakit/tokenizer"
)

// The checksums PROVENANCE.md (§5a) lists for the shared copies.
func TestChecksums(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"stories260K.bin", checkpoint, "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"},
		{"tok512.model", vocabulary, "822b28dcdee7b4f2de3332e0066a3f33688e08afb26e9e7808a58aa6426bd55b"},
	}
	for _, c := range cases {
		sum := sha256.Sum256(c.data)
		if got := hex.EncodeToString(sum[:]); got != c.want {
			t.Errorf("sha256(%s) = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSource(t *testing.T) {
	src, err := Source()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	md := src.Metadata()
	// PROVENANCE.md §5a: dim 64, 5 layers, 8 heads, 4 KV heads, context 512.
	for key, want := range map[string]int64{
		"llama.embedding_length":        64,
		"llama.block_count":             5,
		"llama.attention.head_count":    8,
		"llama.attention.head_count_kv": 4,
		"llama.context_length":          512,
		"llama.feed_forward_length":     172,
	} {
		if got, ok := md.Int(key); !ok || got != want {
			t.Errorf("metadata %s = %d (%v), want %d", key, got, ok, want)
		}
	}
	var n int64
	for _, ti := range src.Tensors() {
		k, _ := ti.NumElements()
		n += k
	}
	// 264,128 values less the RoPE tables llama2.c stores (2·512·4).
	if want := int64(264128 - 2*512*4); n != want {
		t.Errorf("%d weights, want %d", n, want)
	}
}

func TestVocab(t *testing.T) {
	v, err := Vocab()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 512 || v.BOS != 1 || v.EOS != 2 {
		t.Errorf("vocab of %d tokens, BOS %d, EOS %d; want 512, 1, 2", v.Len(), v.BOS, v.EOS)
	}
	// The first greedy ids of PROVENANCE.md decode to llama2.c's text.
	ids := []int{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426}
	if got, want := tok.Decode(ids), "Once upon a time, there was a little girl named Lily."; got != want {
		t.Errorf("Decode(%v) = %q, want %q", ids, got, want)
	}
}
