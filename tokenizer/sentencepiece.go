package tokenizer

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// SentencePiece's ModelProto (sentencepiece_model.proto), the fields read:
//
//	ModelProto      1 pieces (repeated SentencePiece)  2 trainer_spec  3 normalizer_spec
//	SentencePiece   1 piece (string)  2 score (float)  3 type (enum, default NORMAL)
//	TrainerSpec     40 unk_id  41 bos_id  42 eos_id  43 pad_id
//	NormalizerSpec  3 add_dummy_prefix (default true)
const (
	spModelPieces     = 1
	spModelTrainer    = 2
	spModelNormalizer = 3

	spPieceText  = 1
	spPieceScore = 2
	spPieceType  = 3

	spTrainerUnkID = 40
	spTrainerBosID = 41
	spTrainerEosID = 42
	spTrainerPadID = 43

	spNormalizerDummyPrefix = 3
)

// LoadSentencePiece reads a SentencePiece tokenizer.model.
func LoadSentencePiece(path string) (*Vocab, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSentencePiece(data, path)
}

// ParseSentencePiece reads a SentencePiece ModelProto; name is used in
// errors. The vocab is model "llama" with the pieces, scores and types of
// the file, the trainer's unk/bos/eos/pad ids, add_dummy_prefix as
// AddSpacePrefix, and llama.cpp's defaults AddBOS true, AddEOS false.
func ParseSentencePiece(data []byte, name string) (*Vocab, error) {
	fail := func(err error) (*Vocab, error) {
		return nil, fmt.Errorf("tokenizer: %s: sentencepiece model: %v: %w", name, err, format.ErrFormat)
	}
	v := newVocab(ModelLlama)
	ids := [4]int64{0, 1, 2, -1} // unk, bos, eos, pad: the proto's defaults
	err := parseMessage(data, func(num, wire int, x uint64, b []byte) error {
		switch num {
		case spModelPieces:
			if err := wantWire(wire, wireBytes); err != nil {
				return err
			}
			return v.addPiece(b)
		case spModelTrainer:
			if err := wantWire(wire, wireBytes); err != nil {
				return err
			}
			return parseMessage(b, func(num, wire int, x uint64, _ []byte) error {
				if num < spTrainerUnkID || num > spTrainerPadID {
					return nil
				}
				ids[num-spTrainerUnkID] = int64(int32(x)) // int32 fields are sign-extended varints
				return wantWire(wire, wireVarint)
			})
		case spModelNormalizer:
			if err := wantWire(wire, wireBytes); err != nil {
				return err
			}
			return parseMessage(b, func(num, wire int, x uint64, _ []byte) error {
				if num != spNormalizerDummyPrefix {
					return nil
				}
				v.AddSpacePrefix = x != 0
				return wantWire(wire, wireVarint)
			})
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if len(v.Tokens) == 0 {
		return fail(fmt.Errorf("no pieces"))
	}
	for i, dst := range []*int{&v.UNK, &v.BOS, &v.EOS, &v.PAD} {
		id := ids[i]
		if id >= int64(len(v.Tokens)) || id < -1 {
			return fail(fmt.Errorf("%s id %d out of range for %d pieces", [4]string{"unk", "bos", "eos", "pad"}[i], id, len(v.Tokens)))
		}
		*dst = int(id)
	}
	return v, nil
}

// addPiece appends one SentencePiece message {piece, score, type}.
func (v *Vocab) addPiece(b []byte) error {
	piece, score, typ := "", float32(0), Normal
	err := parseMessage(b, func(num, wire int, x uint64, b []byte) error {
		switch num {
		case spPieceText:
			piece = string(b)
			return wantWire(wire, wireBytes)
		case spPieceScore:
			score = math.Float32frombits(uint32(x))
			return wantWire(wire, wireFixed32)
		case spPieceType:
			if x < uint64(Normal) || x > uint64(Byte) {
				return fmt.Errorf("type %d", x)
			}
			typ = TokenType(x)
			return wantWire(wire, wireVarint)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("piece %d: %w", len(v.Tokens), err)
	}
	v.Tokens = append(v.Tokens, piece)
	v.Scores = append(v.Scores, score)
	v.Types = append(v.Types, typ)
	return nil
}
