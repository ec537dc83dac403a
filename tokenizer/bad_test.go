package tokenizer

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// pb builds protobuf bytes for the bad-input tables.
func pbTag(num, wire int) []byte { return binary.AppendUvarint(nil, uint64(num)<<3|uint64(wire)) }

func pbBytes(num int, b []byte) []byte {
	out := append(pbTag(num, wireBytes), binary.AppendUvarint(nil, uint64(len(b)))...)
	return append(out, b...)
}

func pbVarint(num int, x uint64) []byte {
	return append(pbTag(num, wireVarint), binary.AppendUvarint(nil, x)...)
}

func pbPiece(text string, score float32, typ int) []byte {
	var p []byte
	p = append(p, pbBytes(spPieceText, []byte(text))...)
	p = append(p, pbTag(spPieceScore, wireFixed32)...)
	p = binary.LittleEndian.AppendUint32(p, math.Float32bits(score))
	p = append(p, pbVarint(spPieceType, uint64(typ))...)
	return pbBytes(spModelPieces, p)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// threePieces is a valid minimal model: <unk> <s> </s>.
var threePieces = cat(pbPiece("<unk>", 0, 2), pbPiece("<s>", 0, 3), pbPiece("</s>", 0, 3))

func TestParseSentencePieceBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, format.ErrFormat},
		{"pieces as varint", pbVarint(spModelPieces, 1), format.ErrFormat},
		{"huge length", cat(pbTag(spModelPieces, wireBytes), binary.AppendUvarint(nil, 1<<62)), format.ErrFormat},
		{"truncated piece", cat(threePieces, pbPiece("abc", -1, 1)[:6]), format.ErrFormat},
		{"varint too long", cat(threePieces, pbTag(99, wireVarint), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), format.ErrFormat},
		{"group wire type", cat(threePieces, pbTag(99, 3)), format.ErrFormat},
		{"field number 0", cat(threePieces, []byte{0x00, 0x00}), format.ErrFormat},
		{"piece type 9", pbPiece("x", 0, 9), format.ErrFormat},
		{"score as varint", pbBytes(spModelPieces, pbVarint(spPieceScore, 3)), format.ErrFormat},
		{"bos out of range", cat(threePieces, pbBytes(spModelTrainer, pbVarint(spTrainerBosID, 7))), format.ErrFormat},
		{"negative eos", cat(threePieces, pbBytes(spModelTrainer, pbVarint(spTrainerEosID, math.MaxUint64-4))), format.ErrFormat},
		{"trainer spec truncated", cat(threePieces, pbTag(spModelTrainer, wireBytes), []byte{5, 0x08}), format.ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseSentencePiece(tc.data, "bad.model")
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseSentencePiece(%x) = %v, %v; want error %v", tc.data, v, err, tc.want)
			}
			if !strings.Contains(err.Error(), "bad.model") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	v, err := ParseSentencePiece(threePieces, "ok.model")
	if err != nil || v.Len() != 3 || v.Type(0) != Unknown || v.BOS != 1 {
		t.Errorf("ParseSentencePiece(three pieces) = %+v, %v", v, err)
	}
}

// TestTruncatedModel cuts tok512.model at every length: each prefix either
// parses (a cut between two pieces is a valid, smaller model) or fails with
// ErrFormat; none panics.
func TestTruncatedModel(t *testing.T) {
	data, err := os.ReadFile("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	fails := 0
	for n := range len(data) {
		_, err := ParseSentencePiece(data[:n], "cut.model")
		if err != nil {
			fails++
			if !errors.Is(err, format.ErrFormat) {
				t.Fatalf("ParseSentencePiece(first %d bytes) = %v, want ErrFormat", n, err)
			}
		}
	}
	if fails < len(data)/2 {
		t.Errorf("only %d of %d prefixes rejected", fails, len(data))
	}
}

func TestParseLlama2CBad(t *testing.T) {
	good, err := os.ReadFile("testdata/tok512.bin")
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	hugeLen := append([]byte(nil), good...)
	le.PutUint32(hugeLen[8:], 1<<30) // first token's length
	negLen := append([]byte(nil), good...)
	le.PutUint32(negLen[8:], math.MaxUint32)
	negMax := append([]byte(nil), good...)
	le.PutUint32(negMax, math.MaxUint32)
	for _, tc := range []struct {
		name string
		data []byte
		n    int
	}{
		{"empty", nil, 0},
		{"header only", good[:4], 0},
		{"truncated token header", good[:10], 0},
		{"truncated token text", good[:len(good)-1], 512},
		{"huge length", hugeLen, 512},
		{"negative length", negLen, 512},
		{"negative max_token_length", negMax, 512},
		{"fewer tokens than vocab_size", good, 513},
		{"more tokens than vocab_size", good, 511},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLlama2C(tc.data, "bad.bin", tc.n)
			if !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), "bad.bin") {
				t.Errorf("ParseLlama2C(%s) = %v, want ErrFormat naming bad.bin", tc.name, err)
			}
		})
	}
}

func TestParseTokenizerJSONBad(t *testing.T) {
	const bl = `"pre_tokenizer": {"type": "ByteLevel"}, `
	for _, tc := range []struct {
		name, json string
		want       error
		place      string // the error names this place in the file
	}{
		{"not json", `{"model": `, format.ErrFormat, "line 1 column 10"},
		{"syntax error on line 3", "{\n\"model\": {\n\"type\": BPE}}", format.ErrFormat, "line 3 column 9"},
		{"unigram", `{"model": {"type": "Unigram", "vocab": [["a", 0]]}}`, format.ErrUnsupported, `model.type "Unigram"`},
		{"wordpiece", `{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, format.ErrUnsupported, `model.type "WordPiece"`},
		{"subword prefix", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "continuing_subword_prefix": "##"}}`, format.ErrUnsupported, "continuing_subword_prefix"},
		{"no pipeline", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, "ByteLevel"},
		{"negative id", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}`, format.ErrFormat, `"a"`},
		{"huge id", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 1000000000}, "merges": []}}`, format.ErrFormat, "1000000000"},
		{"one id twice", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}}`, format.ErrFormat, "id 0"},
		{"added token clash", `{"added_tokens": [{"id": 0, "content": "<s>"}], ` + bl + `"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrFormat, "id 0"},
		{"merge without space", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}}`, format.ErrFormat, "model.merges: [0]"},
		{"merge of three", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b", "c"]]}}`, format.ErrFormat, "model.merges: [0]"},
		{"merge of unknown token", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}}`, format.ErrFormat, `model.merges[1] "a c": "c" is not in the vocab`},
		{"merge to unknown token", `{` + bl + `"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}`, format.ErrFormat, `model.merges[0] "a b": "ab"`},
		{"empty vocab", `{` + bl + `"model": {"type": "BPE", "vocab": {}, "merges": []}}`, format.ErrFormat, "empty vocabulary"},
		{"unknown regex", `{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{L}+|\\p{N}{1,4}"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, `pre_tokenizer step 0: Split regex "\\p{L}+|\\p{N}{1,4}"`},
		{"split removed", `{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Removed"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, "pre_tokenizer[0]"},
		{"unknown pre-tokenizer", `{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "UnicodeScripts"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, `pre_tokenizer[0]: "UnicodeScripts"`},
		{"add_prefix_space", `{"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, "add_prefix_space"},
		{"unknown normalizer", `{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "BertNormalizer"}]}, ` + bl + `"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, `normalizer[1]: normalizer "BertNormalizer"`},
		{"replace regex", `{"normalizer": {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}, ` + bl + `"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, `Replace regex " {2,}"`},
		{"metaspace scheme", `{"pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"}, "model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}, "merges": []}}`, format.ErrUnsupported, `prepend_scheme "sometimes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTokenizerJSON([]byte(tc.json), "bad.json")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), tc.place) {
				t.Errorf("ParseTokenizerJSON(%s) = %v, want %v naming bad.json and %s", tc.json, err, tc.want, tc.place)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// TestLoadDirBad checks the other files of a tokenizer directory.
func TestLoadDirBad(t *testing.T) {
	model, err := os.ReadFile("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, content string
		place               string
	}{
		{"generation_config syntax", "generation_config.json", `{"eos_token_id": [2,}`, "generation_config.json: line 1 column 21"},
		{"generation_config id", "generation_config.json", `{"eos_token_id": [2, 9999]}`, "eos_token_id 9999 out of range"},
		{"generation_config type", "generation_config.json", `{"eos_token_id": "x"}`, `eos_token_id "x"`},
		{"chat_template type", "tokenizer_config.json", `{"chat_template": 3}`, "chat_template"},
		{"added_tokens.json", "added_tokens.json", `{"<x>": -5}`, "added_tokens.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file == "added_tokens.json" {
				os.WriteFile(dir+"/vocab.json", []byte(`{"a": 0, "b": 1}`), 0o644)
				os.WriteFile(dir+"/merges.txt", []byte("#version: 0.2\n"), 0o644)
			} else {
				os.WriteFile(dir+"/tokenizer.model", model, 0o644)
			}
			os.WriteFile(dir+"/"+tc.file, []byte(tc.content), 0o644)
			_, err := LoadDir(dir)
			if !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.place) {
				t.Errorf("LoadDir(%s = %s) = %v, want ErrFormat naming %s and %s", tc.file, tc.content, err, tc.file, tc.place)
			}
		})
	}
}

func TestParseGPT2Bad(t *testing.T) {
	for _, tc := range []struct{ name, vocab, merges, file string }{
		{"vocab not json", `["a"]`, "", "v.json"},
		{"vocab empty", `{}`, "", "v.json"},
		{"merge of one token", `{"a": 0}`, "#version: 0.2\nab\n", "m.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGPT2([]byte(tc.vocab), []byte(tc.merges), "v.json", "m.txt")
			if !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("ParseGPT2(%s) = %v, want ErrFormat naming %s", tc.name, err, tc.file)
			}
		})
	}
	if _, err := LoadGPT2("testdata/missing.json", "testdata/tiny-gpt2-merges.txt"); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("LoadGPT2(missing) = %v, want ErrNotFound", err)
	}
}

func TestFromMetadataBad(t *testing.T) {
	base := func() format.Metadata {
		return format.Metadata{
			{Key: KeyModel, Value: "llama"},
			{Key: KeyTokens, Value: []string{"<unk>", "<s>", "</s>"}},
			{Key: KeyScores, Value: []float32{0, 0, 0}},
			{Key: KeyTokenType, Value: []int32{2, 3, 3}},
		}
	}
	with := func(key string, value any) format.Metadata {
		md := base()
		md.Set(key, value)
		return md
	}
	without := func(key string) format.Metadata {
		md := base()
		md.Delete(key)
		return md
	}
	for _, tc := range []struct {
		name string
		md   format.Metadata
		want error
	}{
		{"no tokenizer", without(KeyModel), format.ErrNotFound},
		{"no tokens", without(KeyTokens), format.ErrNotFound},
		{"bert", with(KeyModel, "bert"), format.ErrUnsupported},
		{"model not a string", with(KeyModel, uint32(1)), format.ErrFormat},
		{"tokens as []any", with(KeyTokens, []any{[]string{"a"}}), format.ErrFormat},
		{"scores as f64", with(KeyScores, []float64{0, 0, 0}), format.ErrFormat},
		{"too few scores", with(KeyScores, []float32{0}), format.ErrFormat},
		{"too many types", with(KeyTokenType, []int32{1, 1, 1, 1}), format.ErrFormat},
		{"type 9", with(KeyTokenType, []int32{1, 9, 1}), format.ErrFormat},
		{"bos out of range", with(KeyBOS, uint32(3)), format.ErrFormat},
		{"bos as string", with(KeyBOS, "1"), format.ErrFormat},
		{"add_bos as int", with(KeyAddBOS, uint8(1)), format.ErrFormat},
		{"empty vocab", with(KeyTokens, []string{}), format.ErrFormat},
		{"eom out of range", with(KeyEOM, uint32(7)), format.ErrFormat},
		{"chat template as int", with(KeyChatTemplate, uint32(7)), format.ErrFormat},
		{"pre not a string", with(KeyPre, []string{"x"}), format.ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := FromMetadata(tc.md)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "tokenizer") {
				t.Errorf("FromMetadata(%s) = %v, %v; want %v", tc.name, v, err, tc.want)
			}
		})
	}
	// 0xFFFFFFFF (LLAMA_TOKEN_NULL as uint32) and -1 mean "no such token".
	md := with(KeyBOS, uint32(0xFFFFFFFF))
	md.Set(KeyEOT, int32(-1))
	md.Set(KeyEOS, uint32(2))
	v, err := FromMetadata(md)
	if err != nil {
		t.Fatalf("FromMetadata(bos 0xFFFFFFFF, eot -1) = %v", err)
	}
	if v.BOS != -1 || v.EOT != -1 || v.EOS != 2 {
		t.Errorf("FromMetadata(bos 0xFFFFFFFF, eot -1) = bos %d eot %d eos %d; want -1 -1 2", v.BOS, v.EOT, v.EOS)
	}
}

// TestOutOfRangeIDs: Decode skips ids outside the vocabulary.
func TestOutOfRangeIDs(t *testing.T) {
	v, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := New(v)
	if got := tok.Decode([]int{-1, 512, 1 << 40}); got != "" {
		t.Errorf("Decode(out of range) = %q, want \"\"", got)
	}
	if got := tok.Piece(9999); got != "" {
		t.Errorf("Piece(9999) = %q, want \"\"", got)
	}
}
