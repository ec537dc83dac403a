package arch

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/lorakit/lorakit/format"
)

// BERT is the encoder of Hugging Face's BertModel and RobertaModel (and
// their ...ForSequenceClassification), which llama.cpp converts to one
// GGUF architecture, "bert", for both: post-LayerNorm blocks, bidirectional
// attention, learned absolute positions, token types.
//
// llama.cpp's converter, reproduced here:
//   - RoBERTa's position embedding loses its first pad_token_id + 1 rows
//     (HF numbers positions from pad_token_id + 1), and context_length is
//     max_position_embeddings minus those rows (PositionOffset);
//   - the classification head becomes cls (RoBERTa's classifier.dense) and
//     cls.output (RoBERTa's classifier.out_proj, BERT's classifier), with the
//     labels in bert.classifier.output_labels.
//
// Where lorakit departs from it: llama.cpp drops BERT's pooler
// (bert.pooler.dense), without which BertForSequenceClassification's logits
// cannot be computed; lorakit keeps it as cls.pooler.weight / cls.pooler.bias
// (GGUF names of its own: llama.cpp refuses a file with tensors it does not
// create, so convert --drop-pooler writes llama.cpp's tensor set exactly).
// BERT's classifier always becomes cls.output, also for transformers'
// default LABEL_i names, where llama.cpp writes a cls.weight it cannot load.
// DeBERTa-v2 has no GGUF counterpart in llama.cpp and is not in this table.
var BERT = register(&Family{
	Name:        "bert",
	ModelTypes:  []string{"bert", "roberta"},
	HFClass:     "BertModel",
	HFModelType: "bert",
	Params: []Param{
		{JSON: "num_hidden_layers", Key: "block_count"},
		{Key: "context_length", Default: encoderContext},
		{JSON: "hidden_size", Key: "embedding_length"},
		{JSON: "intermediate_size", Key: "feed_forward_length"},
		{JSON: "num_attention_heads", Key: "attention.head_count"},
		{JSON: "layer_norm_eps", Key: "attention.layer_norm_epsilon", Type: F32, Default: constant(1e-12)},
	},
	Tensors: []Tensor{
		{HF: "embeddings.word_embeddings.weight", GGUF: "token_embd.weight"},
		{HF: "embeddings.position_embeddings.weight", GGUF: "position_embd.weight", Transform: PositionOffset},
		{HF: "embeddings.token_type_embeddings.weight", GGUF: "token_types.weight"},
		{HF: "embeddings.LayerNorm.weight", GGUF: "token_embd_norm.weight"},
		{HF: "embeddings.LayerNorm.bias", GGUF: "token_embd_norm.bias"},
		{HF: "encoder.layer.{L}.attention.self.query.weight", GGUF: "blk.{L}.attn_q.weight", Rows: QRows},
		{HF: "encoder.layer.{L}.attention.self.query.bias", GGUF: "blk.{L}.attn_q.bias", Rows: QRows},
		{HF: "encoder.layer.{L}.attention.self.key.weight", GGUF: "blk.{L}.attn_k.weight", Rows: KVRows},
		{HF: "encoder.layer.{L}.attention.self.key.bias", GGUF: "blk.{L}.attn_k.bias", Rows: KVRows},
		{HF: "encoder.layer.{L}.attention.self.value.weight", GGUF: "blk.{L}.attn_v.weight", Rows: KVRows},
		{HF: "encoder.layer.{L}.attention.self.value.bias", GGUF: "blk.{L}.attn_v.bias", Rows: KVRows},
		{HF: "encoder.layer.{L}.attention.output.dense.weight", GGUF: "blk.{L}.attn_output.weight"},
		{HF: "encoder.layer.{L}.attention.output.dense.bias", GGUF: "blk.{L}.attn_output.bias"},
		{HF: "encoder.layer.{L}.attention.output.LayerNorm.weight", GGUF: "blk.{L}.attn_output_norm.weight"},
		{HF: "encoder.layer.{L}.attention.output.LayerNorm.bias", GGUF: "blk.{L}.attn_output_norm.bias"},
		{HF: "encoder.layer.{L}.intermediate.dense.weight", GGUF: "blk.{L}.ffn_up.weight"},
		{HF: "encoder.layer.{L}.intermediate.dense.bias", GGUF: "blk.{L}.ffn_up.bias"},
		{HF: "encoder.layer.{L}.output.dense.weight", GGUF: "blk.{L}.ffn_down.weight"},
		{HF: "encoder.layer.{L}.output.dense.bias", GGUF: "blk.{L}.ffn_down.bias"},
		{HF: "encoder.layer.{L}.output.LayerNorm.weight", GGUF: "blk.{L}.layer_output_norm.weight"},
		{HF: "encoder.layer.{L}.output.LayerNorm.bias", GGUF: "blk.{L}.layer_output_norm.bias"},
		{HF: "pooler.dense.weight", GGUF: PoolerWeight},
		{HF: "pooler.dense.bias", GGUF: PoolerBias},
		{HF: "classifier.dense.weight", GGUF: "cls.weight"},
		{HF: "classifier.dense.bias", GGUF: "cls.bias"},
		{HF: "classifier.out_proj.weight", GGUF: "cls.output.weight"},
		{HF: "classifier.out_proj.bias", GGUF: "cls.output.bias"},
		{HF: "classifier.weight", GGUF: "cls.output.weight"},
		{HF: "classifier.bias", GGUF: "cls.output.bias"},
	},
	HFPrefixes:    []Prefix{{From: "bert.", To: ""}, {From: "roberta.", To: ""}},
	HFSkip:        positionIDs,
	Check:         bertCheck,
	ExtraMetadata: bertMetadata,
})

// The GGUF names lorakit gives BERT's pooler (llama.cpp has none).
const (
	PoolerWeight = "cls.pooler.weight"
	PoolerBias   = "cls.pooler.bias"
)

// positionIDs matches the position_ids / token_type_ids buffers older
// transformers versions saved.
var positionIDs = regexp.MustCompile(`(^|\.)embeddings\.(position_ids|token_type_ids)$`)

// EncoderPositionOffset is the number of leading rows of an encoder's position
// embedding that no token uses: RoBERTa numbers positions from
// pad_token_id + 1 (transformers' create_position_ids_from_input_ids), BERT
// from 0. llama.cpp's converter cuts those rows.
func EncoderPositionOffset(c Config) (int, error) {
	mt, _ := c.String("model_type")
	if mt != "roberta" {
		return 0, nil
	}
	pad, ok := c.Number("pad_token_id")
	if !ok || pad < 0 || pad != float64(int(pad)) {
		return 0, errUnsupported("config.json: RoBERTa without a valid pad_token_id (its positions start at pad_token_id + 1)")
	}
	return int(pad) + 1, nil
}

// encoderContext is llama.cpp's bert.context_length: the positions left
// after the offset rows are cut.
func encoderContext(c Config) (float64, bool) {
	p, ok := c.Number("max_position_embeddings")
	off, err := EncoderPositionOffset(c)
	if !ok || err != nil || p <= float64(off) {
		return 0, false
	}
	return p - float64(off), true
}

// bertCheck refuses encoders llama.cpp's bert graph would run differently:
// relative position embeddings and activations other than GELU.
func bertCheck(c Config) error {
	if pt, ok := c.String("position_embedding_type"); ok && pt != "absolute" {
		return errUnsupported("config.json: position_embedding_type %q (only \"absolute\" is supported)", pt)
	}
	if act, ok := c.String("hidden_act"); ok && act != "gelu" {
		return errUnsupported("config.json: hidden_act %q (BERT's exact GELU, \"gelu\", is supported)", act)
	}
	if _, err := EncoderPositionOffset(c); err != nil {
		return err
	}
	if _, ok := encoderContext(c); !ok {
		return fmt.Errorf("config.json: max_position_embeddings missing or not above the position offset: %w", format.ErrFormat)
	}
	return nil
}

// bertMetadata is what llama.cpp writes besides the numeric
// hyperparameters: attention.causal false, the labels of id2label in id
// order, and tokenizer.ggml.token_type_count.
func bertMetadata(c Config) (format.Metadata, error) {
	md := format.Metadata{{Key: "bert.attention.causal", Value: false}}
	labels, err := Labels(c)
	if err != nil {
		return nil, err
	}
	if len(labels) > 0 {
		md = append(md, format.KV{Key: "bert.classifier.output_labels", Value: labels})
	}
	tt, ok := c.Number("type_vocab_size")
	if !ok {
		tt = 2
	}
	md = append(md, format.KV{Key: "tokenizer.ggml.token_type_count", Value: uint32(tt)})
	return md, nil
}

// Labels returns config.json's id2label names in id order (nil when it has
// none). Ids must be 0..n-1.
func Labels(c Config) ([]string, error) {
	raw, ok := c["id2label"].(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, nil
	}
	ids := make([]int, 0, len(raw))
	for k := range raw {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 || id >= len(raw) {
			return nil, fmt.Errorf("config.json: id2label key %q is not a label id below %d: %w", k, len(raw), format.ErrFormat)
		}
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		if id != i {
			return nil, fmt.Errorf("config.json: id2label has no label %d: %w", i, format.ErrFormat)
		}
		s, ok := raw[strconv.Itoa(id)].(string)
		if !ok {
			return nil, fmt.Errorf("config.json: id2label %d is not a string: %w", id, format.ErrFormat)
		}
		out[i] = s
	}
	return out, nil
}

// IsEncoder reports whether a family is an encoder (no causal mask, no
// language-model head).
func IsEncoder(f *Family) bool { return f != nil && slices.Contains(encoders, f.Name) }

var encoders = []string{"bert"}
