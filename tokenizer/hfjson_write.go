package tokenizer

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
)

// SaveTokenizerJSON writes v as a Hugging Face tokenizer.json at path,
// atomically (see atomicfile.Create for force).
func SaveTokenizerJSON(path string, v *Vocab, force bool) error {
	f, err := atomicfile.Create(path, force)
	if err != nil {
		return err
	}
	if err := WriteTokenizerJSON(f, v); err != nil {
		f.Abort()
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return f.Commit()
}

// WriteTokenizerJSON writes v as a Hugging Face tokenizer.json: a BPE model
// with the vocab in id order, added tokens for the control, user-defined and
// unknown tokens, and the pipeline transformers uses for the family
// (ByteLevel for gpt2; Prepend/Replace "▁", byte fallback and a
// TemplateProcessing BOS for llama). A llama vocab has no merge list, so
// one is derived from the scores the way transformers'
// SentencePieceExtractor does: every split of a piece into two pieces, in
// order of the merged piece's score. The output is deterministic. A text
// held by two tokens, other than by an added token, cannot be written
// (format.ErrUnsupported).
func WriteTokenizerJSON(w io.Writer, v *Vocab) error {
	if err := v.Validate(); err != nil {
		return err
	}
	// A JSON object holds a text once: a token whose text came earlier
	// can only be an added token.
	var vocabIDs []int
	first := make(map[string]int, len(v.Tokens))
	for id, t := range v.Tokens {
		if prev, dup := first[t]; dup {
			if typ := v.Type(id); typ == Control || typ == UserDefined || typ == Unknown {
				continue
			}
			return fmt.Errorf("tokens %d and %d are both %q: %w", prev, id, t, format.ErrUnsupported)
		}
		first[t] = id
		vocabIDs = append(vocabIDs, id)
	}
	bw := bufio.NewWriter(w)
	p := func(s string) { bw.WriteString(s) }
	q := func(s string) { bw.Write(jsonString(s)) }

	p("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	n := 0
	for id, t := range v.Tokens {
		typ := v.Type(id)
		if typ != Control && typ != UserDefined && typ != Unknown {
			continue
		}
		if n > 0 {
			p(",")
		}
		n++
		special := typ != UserDefined
		fl, ok := v.Added[id]
		if !ok {
			fl.Normalized = !special
		}
		fmt.Fprintf(bw, "\n    {\"id\": %d, \"content\": ", id)
		q(t)
		fmt.Fprintf(bw, ", \"single_word\": %t, \"lstrip\": %t, \"rstrip\": %t, \"normalized\": %t, \"special\": %t}", fl.SingleWord, fl.LStrip, fl.RStrip, fl.Normalized, special)
	}
	p("\n  ],\n")

	merges := v.Merges
	unk := "null"
	if v.UNK >= 0 {
		unk = string(jsonString(v.Tokens[v.UNK]))
	}
	switch v.Model {
	case ModelGPT2:
		steps, ignore := v.PreSteps, v.IgnoreMerges
		if len(steps) == 0 {
			pt, ok := lookupPre(v.Pre)
			if !ok {
				return fmt.Errorf("pre-tokenizer type %q: %w", v.Pre, format.ErrUnsupported)
			}
			steps, ignore = pt.steps, ignore || pt.ignoreMerges
		}
		p("  \"normalizer\": " + normalizersJSON(v.Normalizers) + ",\n  \"pre_tokenizer\": " + preStepsJSON(steps) + ",\n  \"post_processor\": ")
		if !writeTemplate(bw, v) {
			p(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`)
		}
		p(`,
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": ` + unk + `, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": ` + fmt.Sprint(ignore) + `,
    "vocab": {`)
	case ModelLlama:
		norms, pre := v.Normalizers, "null"
		switch {
		case v.SpacePrefixMetaspace:
			scheme := "never"
			switch {
			case v.AddSpacePrefix && v.SpacePrefixFirstOnly:
				scheme = "first"
			case v.AddSpacePrefix:
				scheme = "always"
			}
			pre = `{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "` + scheme + `", "split": false}`
		case v.AddSpacePrefix:
			norms = append(slices.Clip(norms), Normalizer{Type: "Prepend", Content: spaceMark}, Normalizer{Type: "Replace", Pattern: " ", Content: spaceMark})
		default:
			norms = append(slices.Clip(norms), Normalizer{Type: "Replace", Pattern: " ", Content: spaceMark})
		}
		p("  \"normalizer\": " + normalizersJSON(norms) + ",\n  \"pre_tokenizer\": " + pre + ",\n  \"post_processor\": ")
		if !writeTemplate(bw, v) {
			p("null")
		}
		p(`,
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}`)
		if v.AddSpacePrefix {
			p(`, {"type": "Strip", "content": " ", "start": 1, "stop": 0}`)
		}
		p(`]},
  "model": {"type": "BPE", "dropout": null, "unk_token": ` + unk + `, "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
    "vocab": {`)
		if len(merges) == 0 {
			merges = mergesFromScores(v)
		}
	}
	for i, id := range vocabIDs {
		if i > 0 {
			p(",")
		}
		p("\n      ")
		q(v.Tokens[id])
		fmt.Fprintf(bw, ": %d", id)
	}
	p("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			p(",")
		}
		p("\n      ")
		q(m)
	}
	p("\n    ]\n  }\n}\n")
	return bw.Flush()
}

// writeTemplate writes a TemplateProcessing post-processor that frames text
// with BOS/EOS per AddBOS/AddEOS; false when there is nothing to add.
func writeTemplate(w *bufio.Writer, v *Vocab) bool {
	bos, eos := v.AddBOS && v.BOS >= 0, v.AddEOS && v.EOS >= 0
	if !bos && !eos {
		return false
	}
	special := func(id int) string {
		return `{"SpecialToken": {"id": ` + string(jsonString(v.Tokens[id])) + `, "type_id": 0}}`
	}
	seq := func(name string) string { return `{"Sequence": {"id": "` + name + `", "type_id": 0}}` }
	frame := func(body ...string) string {
		out := "["
		add := func(s string) {
			if len(out) > 1 {
				out += ", "
			}
			out += s
		}
		for _, b := range body {
			if bos {
				add(special(v.BOS))
			}
			add(b)
			if eos {
				add(special(v.EOS))
			}
		}
		return out + "]"
	}
	w.WriteString(`{"type": "TemplateProcessing", "single": ` + frame(seq("A")) + `, "pair": ` + frame(seq("A"), seq("B")) + `, "special_tokens": {`)
	ids := []int{}
	if bos {
		ids = append(ids, v.BOS)
	}
	if eos && (!bos || v.EOS != v.BOS) {
		ids = append(ids, v.EOS)
	}
	for i, id := range ids {
		if i > 0 {
			w.WriteString(", ")
		}
		name := string(jsonString(v.Tokens[id]))
		fmt.Fprintf(w, `%s: {"id": %s, "ids": [%d], "tokens": [%s]}`, name, name, id, name)
	}
	w.WriteString("}}")
	return true
}

// mergesFromScores derives BPE merges from a SentencePiece vocab: for every
// normal piece, each split into two pieces that are both in the vocab, the
// splits of one piece ordered by the ids of their halves, and pieces in
// order of descending score (ties by id).
func mergesFromScores(v *Vocab) []string {
	idx := v.index()
	type merge struct {
		piece, l, r int
	}
	var ms []merge
	for id, t := range v.Tokens {
		if v.Type(id) != Normal && v.Type(id) != UserDefined {
			continue
		}
		for k := 0; k < len(t); {
			_, w := utf8.DecodeRuneInString(t[k:])
			k += w
			if k >= len(t) {
				break
			}
			l, lok := idx[t[:k]]
			r, rok := idx[t[k:]]
			if lok && rok && isMergeable(v, l) && isMergeable(v, r) {
				ms = append(ms, merge{id, l, r})
			}
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if sa, sb := v.Score(a.piece), v.Score(b.piece); sa != sb {
			return sa > sb
		}
		if a.piece != b.piece {
			return a.piece < b.piece
		}
		if a.l != b.l {
			return a.l < b.l
		}
		return a.r < b.r
	})
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = v.Tokens[m.l] + " " + v.Tokens[m.r]
	}
	return out
}

func isMergeable(v *Vocab, id int) bool {
	t := v.Type(id)
	return t == Normal || t == UserDefined
}

// normalizersJSON writes normalizers as tokenizer.json does ("null" for
// none, a Sequence for several).
func normalizersJSON(ns []Normalizer) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		switch n.Type {
		case "Replace":
			parts[i] = `{"type": "Replace", "pattern": {"String": ` + string(jsonString(n.Pattern)) + `}, "content": ` + string(jsonString(n.Content)) + `}`
		case "Prepend":
			parts[i] = `{"type": "Prepend", "prepend": ` + string(jsonString(n.Content)) + `}`
		case "Strip":
			parts[i] = fmt.Sprintf(`{"type": "Strip", "left": %t, "right": %t}`, n.Left, n.Right)
		default:
			parts[i] = `{"type": ` + string(jsonString(n.Type)) + `}`
		}
	}
	return sequenceJSON("normalizers", parts)
}

// preStepsJSON writes a byte-level pre-tokenizer.
func preStepsJSON(steps []PreStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		switch s.Type {
		case "ByteLevel":
			parts[i] = fmt.Sprintf(`{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": %t}`, s.UseRegex)
		case "Split":
			parts[i] = `{"type": "Split", "pattern": {"Regex": ` + string(jsonString(s.Pattern)) + `}, "behavior": "Isolated", "invert": false}`
		case "Digits":
			parts[i] = fmt.Sprintf(`{"type": "Digits", "individual_digits": %t}`, s.Individual)
		case "Punctuation":
			b := "Isolated"
			if s.Contiguous {
				b = "Contiguous"
			}
			parts[i] = `{"type": "Punctuation", "behavior": "` + b + `"}`
		default:
			parts[i] = `{"type": ` + string(jsonString(s.Type)) + `}`
		}
	}
	return sequenceJSON("pretokenizers", parts)
}

func sequenceJSON(field string, parts []string) string {
	switch len(parts) {
	case 0:
		return "null"
	case 1:
		return parts[0]
	}
	return `{"type": "Sequence", "` + field + `": [` + strings.Join(parts, ", ") + `]}`
}
