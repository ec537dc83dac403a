package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Hugging Face tokenizer.json: a BPE model (vocab, merges as "a b" strings
// or ["a", "b"] pairs, byte_fallback, ignore_merges, unk_token), added
// tokens with their flags, and the normalizer, pre-tokenizer and
// post-processor. Byte-level BPE becomes model "gpt2" with the
// pre-tokenizer's steps (named as llama.cpp's pre-tokenizer type when it is
// one); BPE with byte_fallback or a "▁" normalizer/Metaspace becomes model
// "llama".

type hfTokenizer struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string          `json:"type"`
		Vocab                   json.RawMessage `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	} `json:"model"`
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Normalized bool   `json:"normalized"`
}

// hfComponent is any normalizer / pre-tokenizer / decoder / post-processor
// node; Sequence nodes nest.
type hfComponent struct {
	Type             string          `json:"type"`
	Pattern          json.RawMessage `json:"pattern"`
	Content          string          `json:"content"`
	Prepend          string          `json:"prepend"`
	Replacement      string          `json:"replacement"`
	PrependScheme    string          `json:"prepend_scheme"`
	AddPrefixSpace   *bool           `json:"add_prefix_space"`
	UseRegex         *bool           `json:"use_regex"`
	Behavior         string          `json:"behavior"`
	Invert           bool            `json:"invert"`
	IndividualDigits bool            `json:"individual_digits"`
	Left             *bool           `json:"left"`
	Right            *bool           `json:"right"`
	Normalizers      []hfComponent   `json:"normalizers"`
	PreTokenizers    []hfComponent   `json:"pretokenizers"`
	Decoders         []hfComponent   `json:"decoders"`
	Processors       []hfComponent   `json:"processors"`
	Single           []hfTemplate    `json:"single"`
}

type hfTemplate struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

// flatten returns the leaves of c's Sequence tree, in order.
func (c *hfComponent) flatten() []hfComponent {
	if c == nil {
		return nil
	}
	if c.Type != "Sequence" {
		return []hfComponent{*c}
	}
	var out []hfComponent
	for _, list := range [][]hfComponent{c.Normalizers, c.PreTokenizers, c.Decoders, c.Processors} {
		for i := range list {
			out = append(out, list[i].flatten()...)
		}
	}
	return out
}

func parseComponent(raw json.RawMessage) (*hfComponent, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json.
func LoadTokenizerJSON(path string) (*Vocab, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTokenizerJSON(data, path)
}

// ParseTokenizerJSON reads a Hugging Face tokenizer.json with a BPE model;
// name is used in errors, with the place in the file (model.merges[3],
// pre_tokenizer). Byte-level BPE becomes model "gpt2" with the file's
// pre-tokenizer steps and Pre naming llama.cpp's type for them. A Split regex that lorakit does not implement wraps
// format.ErrUnsupported and is named, and so does a pipeline of known steps
// that matches none of llama.cpp's pre-tokenizer types. BPE with byte_fallback or a "▁"
// normalizer/Metaspace becomes model "llama"; as tokenizer.json has no
// scores, each token made by a merge gets the score -rank of its first
// merge, which orders SentencePiece-style merging as the merge list does.
// Other models (Unigram, WordPiece) wrap format.ErrUnsupported; a merge
// naming a token that is not in the vocab wraps format.ErrFormat.
func ParseTokenizerJSON(data []byte, name string) (*Vocab, error) {
	fail := func(err error) (*Vocab, error) {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	bad := func(f string, a ...any) (*Vocab, error) {
		return fail(fmt.Errorf("%s: %w", fmt.Sprintf(f, a...), format.ErrFormat))
	}
	var hf hfTokenizer
	if err := json.Unmarshal(data, &hf); err != nil {
		return bad("%v", jsonErr(data, err))
	}
	if hf.Model.Type != "BPE" && !(hf.Model.Type == "" && hf.Model.Merges != nil) {
		return fail(fmt.Errorf("model.type %q: %w (BPE only)", hf.Model.Type, format.ErrUnsupported))
	}
	for key, s := range map[string]*string{"continuing_subword_prefix": hf.Model.ContinuingSubwordPrefix, "end_of_word_suffix": hf.Model.EndOfWordSuffix} {
		if s != nil && *s != "" {
			return fail(fmt.Errorf("model.%s %q: %w", key, *s, format.ErrUnsupported))
		}
	}
	var vocab map[string]int
	if err := json.Unmarshal(hf.Model.Vocab, &vocab); err != nil {
		return bad("model.vocab: %v", err)
	}
	merges, err := parseJSONMerges(hf.Model.Merges)
	if err != nil {
		return bad("model.merges: %v", err)
	}
	var comps [4]*hfComponent
	for i, raw := range []json.RawMessage{hf.Normalizer, hf.PreTokenizer, hf.PostProcessor, hf.Decoder} {
		if comps[i], err = parseComponent(raw); err != nil {
			return bad("%s: %v", [4]string{"normalizer", "pre_tokenizer", "post_processor", "decoder"}[i], err)
		}
	}
	norms, pres := comps[0].flatten(), comps[1].flatten()
	var v *Vocab
	if hf.Model.ByteFallback || hasMetaspace(norms, pres) {
		v, err = llamaFromJSON(norms, pres)
	} else {
		v, err = byteLevelFromJSON(norms, pres, hf.Model.IgnoreMerges)
	}
	if err != nil {
		return fail(err)
	}
	if err := v.setTokens(vocab, hf.AddedTokens); err != nil {
		return fail(err)
	}
	for _, a := range hf.AddedTokens {
		if f := (AddedFlags{a.LStrip, a.RStrip, a.SingleWord, a.Normalized}); f != (AddedFlags{}) {
			if v.Added == nil {
				v.Added = map[int]AddedFlags{}
			}
			v.Added[a.ID] = f
		}
	}
	v.Merges = merges
	idx := v.index()
	for i, m := range merges {
		l, r, _ := splitMerge(m)
		for _, part := range []string{l, r, l + r} {
			if _, ok := idx[part]; !ok {
				return bad("model.merges[%d] %q: %q is not in the vocab", i, m, part)
			}
		}
	}
	if hf.Model.UnkToken != nil {
		if id, ok := idx[*hf.Model.UnkToken]; ok {
			v.UNK = id
		}
	}
	if v.Model == ModelLlama {
		v.Scores = make([]float32, len(v.Tokens))
		scored := make([]bool, len(v.Tokens))
		for rank, m := range merges {
			l, r, _ := splitMerge(m)
			if id, ok := idx[l+r]; ok && !scored[id] {
				v.Scores[id], scored[id] = -float32(rank), true
			}
		}
		for id, t := range v.Tokens {
			if _, isByte := parseByteToken(t); isByte && v.Types[id] == Normal {
				v.Types[id] = Byte
			}
		}
		v.Merges = nil // SentencePiece vocabularies merge by score
		if v.UNK >= 0 && v.Types[v.UNK] != Unused {
			v.Types[v.UNK] = Unknown
		}
	}
	v.applyTemplate(comps[2], idx)
	v.guessSpecialIDs()
	if err := v.Validate(); err != nil {
		return fail(err)
	}
	return v, nil
}

// jsonErr adds the line and column of a syntax error.
func jsonErr(data []byte, err error) error {
	if se, ok := err.(*json.SyntaxError); ok {
		off := min(max(int(se.Offset)-1, 0), len(data)) // the offending byte
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := off - bytes.LastIndexByte(data[:off], '\n')
		return fmt.Errorf("line %d column %d: %v", line, col, err)
	}
	return err
}

// applyTemplate reads BOS/EOS framing from a TemplateProcessing
// post-processor: special tokens before $A are BOS, after it EOS.
func (v *Vocab) applyTemplate(post *hfComponent, idx map[string]int) {
	for _, n := range post.flatten() {
		switch n.Type {
		case "TemplateProcessing":
		case "RobertaProcessing", "BertProcessing":
			v.AddBOS, v.AddEOS = true, true
			continue
		default:
			continue
		}
		seenSeq := false
		for _, t := range n.Single {
			switch {
			case t.Sequence != nil:
				seenSeq = true
			case t.SpecialToken != nil:
				id, ok := idx[t.SpecialToken.ID]
				if !ok {
					continue
				}
				if seenSeq {
					v.EOS, v.AddEOS = id, true
				} else {
					v.BOS, v.AddBOS = id, true
				}
			}
		}
	}
}

// parseJSONMerges accepts both merge layouts: ["a b", ...] and (tokenizers
// 0.20+) [["a", "b"], ...]; in pairs a space inside a token is written as
// "Ġ" (U+0120), as llama.cpp's converter does.
func parseJSONMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var flat []string
	if err := json.Unmarshal(raw, &flat); err == nil {
		for i, m := range flat {
			if _, _, ok := splitMerge(m); !ok {
				return nil, fmt.Errorf("[%d] %q is not two tokens separated by a space", i, m)
			}
		}
		return flat, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, err
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 || p[0] == "" || p[1] == "" {
			return nil, fmt.Errorf("[%d] is not a pair of tokens", i)
		}
		out[i] = strings.ReplaceAll(p[0], " ", "Ġ") + " " + strings.ReplaceAll(p[1], " ", "Ġ")
	}
	return out, nil
}

// patternString reads a pattern {"Regex": "..."} or {"String": "..."}.
func patternString(raw json.RawMessage) (string, bool) {
	var p struct {
		Regex  *string
		String *string
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", false
	}
	if p.Regex != nil {
		return *p.Regex, true
	}
	if p.String != nil {
		return *p.String, false
	}
	return "", false
}

// jsonString is json.Marshal for a string, without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
