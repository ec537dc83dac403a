package tokenizer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"

	"github.com/lorakit/lorakit/format"
)

// Llama 3's original release (meta-llama/llama-models) ships its
// vocabulary as tiktoken ranks: a tokenizer.model of lines
// "<base64 bytes> <rank>", the rank being the token id. The special tokens
// are not in the file; Meta's tokenizer.py appends 256 of them.

// llama3Specials are the named special tokens of Llama 3.1 and later at
// ids 128000..., in order; "<|reserved_special_token_N|>" fill the rest
// of the 256.
var llama3Specials = []string{
	"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
	"<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
	"<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
}

const llama3NumSpecial = 256

// looksTiktoken reports whether data starts like a tiktoken ranks file.
func looksTiktoken(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	b64, rank, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(b64) == 0 {
		return false
	}
	if _, err := base64.StdEncoding.DecodeString(string(b64)); err != nil {
		return false
	}
	_, err := strconv.Atoi(string(bytes.TrimSpace(rank)))
	return err == nil
}

// ParseTiktoken reads tiktoken ranks (Llama 3's tokenizer.model) as a
// byte-level BPE vocabulary with Llama 3's pre-tokenizer ("llama-bpe"),
// its 256 special tokens, BOS <|begin_of_text|>, EOS <|end_of_text|>, EOT
// <|eot_id|> and EOM <|eom_id|>. The merges are derived from the ranks as
// Hugging Face's TikTokenConverter does: every split of a token into two
// tokens, ordered by the merged token's rank, then by the ranks of the
// parts. Ranks must be the ids 0..n-1, each once; name is used in errors.
func ParseTiktoken(data []byte, name string) (*Vocab, error) {
	bad := func(line int, f string, a ...any) (*Vocab, error) {
		return nil, fmt.Errorf("tokenizer: %s: line %d: %s: %w", name, line, fmt.Sprintf(f, a...), format.ErrFormat)
	}
	var raw []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		b64, rank, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return bad(i+1, "not \"base64 rank\"")
		}
		tok, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil || len(tok) == 0 {
			return bad(i+1, "token %q is not base64", b64)
		}
		r, err := strconv.Atoi(string(rank))
		if err != nil || r != len(raw) {
			return bad(i+1, "rank %q, want %d (ranks are the ids in order)", rank, len(raw))
		}
		raw = append(raw, string(tok))
	}
	if len(raw) == 0 {
		return bad(0, "no tokens")
	}
	ranks := make(map[string]int, len(raw))
	for id, t := range raw {
		if _, dup := ranks[t]; dup {
			return bad(id+1, "token %q twice", t)
		}
		ranks[t] = id
	}
	v := newVocab(ModelGPT2)
	pt, _ := lookupPre("llama-bpe")
	v.Pre, v.IgnoreMerges, v.AddBOS = "llama-bpe", pt.ignoreMerges, true
	n := len(raw)
	v.Tokens = make([]string, n, n+llama3NumSpecial)
	v.Types = make([]TokenType, n, n+llama3NumSpecial)
	var buf []byte
	for id, t := range raw {
		buf = buf[:0]
		for i := 0; i < len(t); i++ {
			buf = append(buf, byteToUTF8[t[i]]...)
		}
		v.Tokens[id], v.Types[id] = string(buf), Normal
	}
	type merge struct{ l, r, rank int }
	var ms []merge
	for id, t := range raw {
		start := len(ms)
		for k := 1; k < len(t); k++ {
			l, lok := ranks[t[:k]]
			r, rok := ranks[t[k:]]
			if lok && rok {
				ms = append(ms, merge{l, r, id})
			}
		}
		local := ms[start:]
		sort.Slice(local, func(a, b int) bool {
			if local[a].l != local[b].l {
				return local[a].l < local[b].l
			}
			return local[a].r < local[b].r
		})
	}
	v.Merges = make([]string, len(ms))
	for i, m := range ms {
		v.Merges[i] = v.Tokens[m.l] + " " + v.Tokens[m.r]
	}
	for k := 0; k < llama3NumSpecial; k++ {
		t := fmt.Sprintf("<|reserved_special_token_%d|>", k-len(llama3Specials)+3)
		if k < len(llama3Specials) {
			t = llama3Specials[k]
		}
		v.Tokens = append(v.Tokens, t)
		v.Types = append(v.Types, Control)
	}
	idx := v.index()
	v.BOS, v.EOS, v.EOT, v.EOM = idx["<|begin_of_text|>"], idx["<|end_of_text|>"], idx["<|eot_id|>"], idx["<|eom_id|>"]
	return v, v.Validate()
}
