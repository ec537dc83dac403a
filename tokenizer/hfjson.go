package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Hugging Face tokenizer.json, the parts lorakit reads: a BPE model (vocab,
// merges, byte_fallback, unk_token), added tokens, and the normalizer,
// pre-tokenizer, post-processor and decoder, which tell byte-level BPE
// (GPT-2) from SentencePiece-style BPE (Llama) and give the BOS framing.

type hfTokenizer struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
		UnkToken     *string         `json:"unk_token"`
	} `json:"model"`
}

type addedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// hfComponent is any normalizer / pre-tokenizer / decoder / post-processor
// node; Sequence nodes nest.
type hfComponent struct {
	Type            string          `json:"type"`
	Pattern         json.RawMessage `json:"pattern"`
	Content         string          `json:"content"`
	Prepend         string          `json:"prepend"`
	PrependScheme   string          `json:"prepend_scheme"`
	AddPrefixSpace  *bool           `json:"add_prefix_space"`
	UseRegex        *bool           `json:"use_regex"`
	Normalizers     []hfComponent   `json:"normalizers"`
	PreTokenizers   []hfComponent   `json:"pretokenizers"`
	Decoders        []hfComponent   `json:"decoders"`
	Processors      []hfComponent   `json:"processors"`
	Single          []hfTemplate    `json:"single"`
	SpecialTokensIn json.RawMessage `json:"special_tokens"`
}

type hfTemplate struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

// walk calls f on c and every node nested in it.
func (c *hfComponent) walk(f func(*hfComponent)) {
	if c == nil {
		return
	}
	f(c)
	for _, list := range [][]hfComponent{c.Normalizers, c.PreTokenizers, c.Decoders, c.Processors} {
		for i := range list {
			list[i].walk(f)
		}
	}
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
// name is used in errors. Byte-level BPE becomes model "gpt2" (pre "gpt-2"
// for GPT-2's own pre-tokenizer; other split patterns are refused with
// format.ErrUnsupported). BPE with byte_fallback or a "▁" normalizer
// becomes model "llama"; as tokenizer.json has no scores, each token made
// by a merge gets the score -rank of its first merge, which orders
// SentencePiece-style merging as the merge list does. Other models
// (Unigram, WordPiece) wrap format.ErrUnsupported.
func ParseTokenizerJSON(data []byte, name string) (*Vocab, error) {
	fail := func(err error) (*Vocab, error) {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	bad := func(f string, a ...any) (*Vocab, error) {
		return fail(fmt.Errorf("%s: %w", fmt.Sprintf(f, a...), format.ErrFormat))
	}
	var hf hfTokenizer
	if err := json.Unmarshal(data, &hf); err != nil {
		return bad("%v", err)
	}
	if hf.Model.Type != "BPE" && !(hf.Model.Type == "" && hf.Model.Merges != nil) {
		return fail(fmt.Errorf("tokenizer model %q: %w (BPE only)", hf.Model.Type, format.ErrUnsupported))
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
	norm, pre, post, dec := comps[0], comps[1], comps[2], comps[3]
	var byteLevel, metaspace, prependSpace bool
	var splits []string
	for _, c := range []*hfComponent{norm, pre, dec} {
		c.walk(func(n *hfComponent) {
			switch n.Type {
			case "ByteLevel":
				byteLevel = true
			case "Metaspace":
				metaspace = true
				prependSpace = prependSpace || (n.PrependScheme != "never" && (n.AddPrefixSpace == nil || *n.AddPrefixSpace))
			case "Prepend":
				prependSpace = prependSpace || n.Prepend == spaceMark
			case "Replace":
				metaspace = metaspace || n.Content == spaceMark
			case "Split":
				splits = append(splits, patternString(n.Pattern))
			}
		})
	}
	var v *Vocab
	switch {
	case hf.Model.ByteFallback || (metaspace && !byteLevel):
		v = newVocab(ModelLlama)
		v.AddBOS = false // set below from the post-processor
		v.AddSpacePrefix = prependSpace
	case byteLevel:
		v = newVocab(ModelGPT2)
		if v.Pre, err = preFromSplits(splits); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("BPE without a ByteLevel or Metaspace/byte-fallback pipeline: %w", format.ErrUnsupported))
	}
	if err := v.setTokens(vocab, hf.AddedTokens); err != nil {
		return fail(err)
	}
	v.Merges = merges
	idx := v.index()
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
	v.applyTemplate(post, idx)
	v.guessSpecialIDs()
	if err := v.Validate(); err != nil {
		return fail(err)
	}
	return v, nil
}

// applyTemplate reads BOS/EOS framing from a TemplateProcessing
// post-processor: special tokens before $A are BOS, after it EOS.
func (v *Vocab) applyTemplate(post *hfComponent, idx map[string]int) {
	post.walk(func(n *hfComponent) {
		if n.Type != "TemplateProcessing" {
			return
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
	})
}

// parseJSONMerges accepts both merge layouts: ["a b", ...] and (tokenizers
// 0.20+) [["a", "b"], ...].
func parseJSONMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var flat []string
	if err := json.Unmarshal(raw, &flat); err == nil {
		for i, m := range flat {
			if _, _, ok := splitMerge(m); !ok {
				return nil, fmt.Errorf("merge %d %q is not two tokens separated by a space", i, m)
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
			return nil, fmt.Errorf("merge %d is not a pair of tokens", i)
		}
		out[i] = p[0] + " " + p[1]
	}
	return out, nil
}

// patternString reads a Split pattern {"Regex": "..."} or {"String": "..."}.
func patternString(raw json.RawMessage) string {
	var p map[string]string
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	for _, s := range p {
		return s
	}
	return ""
}

// gpt2Pattern is GPT-2's pre-tokenizer regex, which ByteLevel applies when
// use_regex is on and which some tokenizer.json files spell out in a Split.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// preFromSplits names the pre-tokenizer of a byte-level tokenizer.json. Only
// GPT-2's pattern is known; others would tokenize differently.
func preFromSplits(splits []string) (string, error) {
	for _, s := range splits {
		if s != gpt2Pattern {
			return "", fmt.Errorf("pre-tokenizer pattern %q: %w (only GPT-2's)", s, format.ErrUnsupported)
		}
	}
	return "gpt-2", nil
}

// jsonString is json.Marshal for a string, without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
