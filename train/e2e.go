package train

import (
	"bytes"
	_ "embed"

	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/data"
)

// A slice of the E2E NLG data (CC BY-SA 4.0; e2e/README.md gives the lines
// and the credit): 584 training pairs from the validation split and the
// first 25 meaning representations of the test split with all their
// references.
var (
	//go:embed e2e/train.txt
	e2eTrain []byte
	//go:embed e2e/test.txt
	e2eTest []byte
)

// EmbeddedE2E returns the embedded E2E slice as pairs: the training part
// (from the validation split) and the test part.
func EmbeddedE2E() (trainPairs, testPairs []data.Pair, err error) {
	if trainPairs, err = data.Read(bytes.NewReader(e2eTrain), "embedded e2e/train.txt", data.FormatE2E); err != nil {
		return nil, nil, err
	}
	if testPairs, err = data.Read(bytes.NewReader(e2eTest), "embedded e2e/test.txt", data.FormatE2E); err != nil {
		return nil, nil, err
	}
	return trainPairs, testPairs, nil
}

// Separator is put between a prompt and its completion for SentencePiece
// (Llama) vocabularies, which have no end-of-text token to use as
// loralib's GPT-2 recipe does.
const Separator = " ||"

// BuilderFor returns how examples are tokenized for a model with vocabulary
// tok and context seq: loralib's E2E recipe for a GPT-2 vocabulary (prompt,
// end-of-text, " " + completion, end-of-text); for others BOS (if any),
// prompt, Separator, completion, EOS.
func BuilderFor(tok *tokenizer.Tokenizer, seq int) data.Builder {
	enc := *tok
	enc.AddBOS, enc.AddEOS = false, false
	v := tok.Vocab()
	if v.Model == tokenizer.ModelGPT2 {
		return data.LoRAE2E(enc.Encode, v.EOS, seq)
	}
	return data.Builder{Encode: enc.Encode, BOS: v.BOS, EOS: v.EOS, Sep: enc.Encode(Separator), Seq: seq}
}

// PromptTokens returns the tokens a model is given to generate the
// completion of prompt, as BuilderFor frames it in training.
func PromptTokens(b data.Builder, prompt string) []int {
	var toks []int
	if b.BOS >= 0 {
		toks = append(toks, b.BOS)
	}
	toks = append(toks, b.Encode(prompt)...)
	return append(toks, b.Sep...)
}
