package tokenizer

import (
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestNoneTokenID: a special-token id of 0xFFFFFFFF, as
// llama-convert-llama2c-to-ggml writes padding_token_id, means "none"
// (llama.cpp reads it so); the vocabulary loads with that token unset.
func TestNoneTokenID(t *testing.T) {
	md := format.Metadata{
		{Key: KeyModel, Value: ModelLlama},
		{Key: KeyTokens, Value: []string{"<unk>", "<s>", "</s>", "a"}},
		{Key: KeyScores, Value: []float32{0, 0, 0, -1}},
		{Key: KeyTokenType, Value: []int32{2, 3, 3, 1}},
		{Key: KeyBOS, Value: uint32(1)},
		{Key: KeyPAD, Value: uint32(0xFFFFFFFF)},
	}
	v, err := FromMetadata(md)
	if err != nil {
		t.Fatalf("FromMetadata with padding_token_id 0xFFFFFFFF: %v", err)
	}
	if v.PAD != -1 || v.BOS != 1 {
		t.Errorf("PAD %d, BOS %d; want -1 (none), 1", v.PAD, v.BOS)
	}
}
