package tokenizer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// llama2.c's tokenizer.bin (written by its tokenizer.py export): an int32
// max_token_length, then for each token a float32 score, an int32 byte
// length and the bytes. The export writes "▁" as a space and the BOS/EOS
// pieces as "\n<s>\n" and "\n</s>\n"; the token count is not stored (it is
// the model's vocab_size).

// LoadLlama2C reads a llama2.c tokenizer.bin holding n tokens (n <= 0: as
// many as the file holds).
func LoadLlama2C(path string, n int) (*Vocab, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseLlama2C(data, path, n)
}

// ParseLlama2C reads a llama2.c tokenizer.bin; name is used in errors. It
// reads n tokens (n <= 0: until the end of data) and fails, wrapping
// format.ErrFormat, when the file holds another number. The vocab is model
// "llama" with llama2.c's conventions undone: spaces back to "▁", types
// inferred (<unk> unknown, <s> and </s> control, <0xXX> byte) and the
// special ids unk 0, bos 1, eos 2 where those pieces sit there.
func ParseLlama2C(data []byte, name string, n int) (*Vocab, error) {
	fail := func(f string, a ...any) (*Vocab, error) {
		return nil, fmt.Errorf("tokenizer: %s: llama2.c tokenizer: %s: %w", name, fmt.Sprintf(f, a...), format.ErrFormat)
	}
	if len(data) < 4 {
		return fail("%d bytes, too short for a header", len(data))
	}
	maxLen := int32(binary.LittleEndian.Uint32(data))
	if maxLen < 0 {
		return fail("max_token_length %d", maxLen)
	}
	v := newVocab(ModelLlama)
	for off := 4; off < len(data); {
		if n > 0 && len(v.Tokens) == n {
			return fail("%d bytes after the %d tokens the model's vocab_size asks for", len(data)-off, n)
		}
		i := len(v.Tokens)
		if len(data)-off < 8 {
			return fail("token %d: truncated header", i)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		l := int32(binary.LittleEndian.Uint32(data[off+4:]))
		off += 8
		if l < 0 || l > maxLen || int(l) > len(data)-off {
			return fail("token %d: length %d (max_token_length %d, %d bytes left)", i, l, maxLen, len(data)-off)
		}
		text, typ := llama2cPiece(string(data[off:off+int(l)]), i)
		off += int(l)
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	if n > 0 && len(v.Tokens) != n {
		return fail("%d tokens, the model's vocab_size is %d", len(v.Tokens), n)
	}
	if len(v.Tokens) == 0 {
		return fail("no tokens")
	}
	for _, s := range []struct {
		id   int
		text string
		dst  *int
	}{{0, "<unk>", &v.UNK}, {1, "<s>", &v.BOS}, {2, "</s>", &v.EOS}} {
		if s.id < len(v.Tokens) && v.Tokens[s.id] == s.text {
			*s.dst = s.id
		}
	}
	return v, nil
}

// llama2cPiece undoes the export's rewriting of piece i.
func llama2cPiece(t string, i int) (string, TokenType) {
	switch {
	case t == "\n<s>\n" || t == "\n</s>\n":
		return strings.Trim(t, "\n"), Control
	case i == 0 && t == "<unk>":
		return t, Unknown
	}
	if _, ok := parseByteToken(t); ok {
		return t, Byte
	}
	return strings.ReplaceAll(t, " ", spaceMark), Normal
}

// WriteLlama2C writes v as a llama2.c tokenizer.bin (the inverse of
// ParseLlama2C for llama vocabularies).
func WriteLlama2C(w io.Writer, v *Vocab) error {
	if v.Model != ModelLlama {
		return fmt.Errorf("tokenizer: llama2.c tokenizer from a %q vocab: %w", v.Model, format.ErrUnsupported)
	}
	var body bytes.Buffer
	maxLen := 0
	for i, t := range v.Tokens {
		switch {
		case i == v.BOS || i == v.EOS:
			t = "\n" + t + "\n"
		case v.Type(i) != Byte:
			t = strings.ReplaceAll(t, spaceMark, " ")
		}
		maxLen = max(maxLen, len(t))
		var hdr [8]byte
		binary.LittleEndian.PutUint32(hdr[:], math.Float32bits(v.Score(i)))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(len(t)))
		body.Write(hdr[:])
		body.WriteString(t)
	}
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(maxLen))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := body.WriteTo(w)
	return err
}
