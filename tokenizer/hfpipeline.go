package tokenizer

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// The pipelines of a tokenizer.json: the normalizer and pre-tokenizer
// nodes turned into a SentencePiece-style or a byte-level vocabulary.

func hasMetaspace(norms, pres []hfComponent) bool {
	for _, c := range pres {
		if c.Type == "Metaspace" {
			return true
		}
	}
	for _, c := range norms {
		if c.Type == "Replace" && c.Content == spaceMark {
			return true
		}
	}
	return false
}

// readNormalizer converts one normalizer node.
func readNormalizer(c hfComponent, k int) (Normalizer, error) {
	n := Normalizer{Type: c.Type}
	switch c.Type {
	case "Replace":
		pat, isRegex := patternString(c.Pattern)
		if isRegex {
			return n, fmt.Errorf("normalizer[%d]: Replace regex %q: %w (literal patterns only)", k, pat, format.ErrUnsupported)
		}
		n.Pattern, n.Content = pat, c.Content
	case "Prepend":
		n.Content = c.Prepend
	case "Strip":
		n.Left, n.Right = c.Left == nil || *c.Left, c.Right == nil || *c.Right
	}
	if err := checkNormalizer(n); err != nil {
		return n, fmt.Errorf("normalizer[%d]: %w", k, err)
	}
	return n, nil
}

// llamaFromJSON reads the pipeline of a SentencePiece-style BPE: Prepend
// "▁" + Replace " " -> "▁" normalizers (Llama 2) or a Metaspace
// pre-tokenizer (Mistral), other normalizers kept as they are.
func llamaFromJSON(norms, pres []hfComponent) (*Vocab, error) {
	v := newVocab(ModelLlama)
	v.AddBOS, v.AddSpacePrefix = false, false // set below
	for k, c := range norms {
		switch {
		case c.Type == "Prepend" && c.Prepend == spaceMark:
			v.AddSpacePrefix = true
		case c.Type == "Replace" && c.Content == spaceMark:
		default:
			n, err := readNormalizer(c, k)
			if err != nil {
				return nil, err
			}
			v.Normalizers = append(v.Normalizers, n)
		}
	}
	for k, c := range pres {
		if c.Type != "Metaspace" {
			return nil, fmt.Errorf("pre_tokenizer[%d] %s with byte-fallback BPE: %w", k, c.Type, format.ErrUnsupported)
		}
		if c.Replacement != "" && c.Replacement != spaceMark {
			return nil, fmt.Errorf("pre_tokenizer[%d]: Metaspace replacement %q: %w", k, c.Replacement, format.ErrUnsupported)
		}
		v.SpacePrefixMetaspace = true
		switch c.PrependScheme {
		case "always":
			v.AddSpacePrefix = true
		case "first":
			v.AddSpacePrefix, v.SpacePrefixFirstOnly = true, true
		case "never":
		case "":
			v.AddSpacePrefix = c.AddPrefixSpace == nil || *c.AddPrefixSpace
		default:
			return nil, fmt.Errorf("pre_tokenizer[%d]: Metaspace prepend_scheme %q: %w", k, c.PrependScheme, format.ErrUnsupported)
		}
	}
	return v, nil
}

// byteLevelFromJSON reads the pipeline of a byte-level BPE.
func byteLevelFromJSON(norms, pres []hfComponent, ignoreMerges bool) (*Vocab, error) {
	v := newVocab(ModelGPT2)
	for k, c := range norms {
		n, err := readNormalizer(c, k)
		if err != nil {
			return nil, err
		}
		v.Normalizers = append(v.Normalizers, n)
	}
	var steps []PreStep
	for k, c := range pres {
		var s PreStep
		switch c.Type {
		case "ByteLevel":
			if c.AddPrefixSpace != nil && *c.AddPrefixSpace {
				return nil, fmt.Errorf("pre_tokenizer[%d]: ByteLevel add_prefix_space: %w", k, format.ErrUnsupported)
			}
			s = PreStep{Type: "ByteLevel", UseRegex: c.UseRegex == nil || *c.UseRegex}
		case "Split":
			pat, _ := patternString(c.Pattern)
			if c.Behavior != "Isolated" || c.Invert {
				return nil, fmt.Errorf("pre_tokenizer[%d]: Split %q with behavior %q invert %t: %w (Isolated only)", k, pat, c.Behavior, c.Invert, format.ErrUnsupported)
			}
			s = PreStep{Type: "Split", Pattern: pat}
		case "Digits":
			s = PreStep{Type: "Digits", Individual: c.IndividualDigits}
		case "Punctuation":
			if c.Behavior != "Contiguous" && c.Behavior != "Isolated" && c.Behavior != "" {
				return nil, fmt.Errorf("pre_tokenizer[%d]: Punctuation behavior %q: %w", k, c.Behavior, format.ErrUnsupported)
			}
			s = PreStep{Type: "Punctuation", Contiguous: c.Behavior == "Contiguous"}
		default:
			return nil, fmt.Errorf("pre_tokenizer[%d]: %q: %w", k, c.Type, format.ErrUnsupported)
		}
		steps = append(steps, s)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("BPE without a ByteLevel or Metaspace/byte-fallback pipeline: %w", format.ErrUnsupported)
	}
	if _, err := compilePre(steps); err != nil {
		return nil, fmt.Errorf("pre_tokenizer %w", err)
	}
	v.PreSteps, v.IgnoreMerges = steps, ignoreMerges
	if v.Pre = namePre(steps, ignoreMerges); v.Pre == "" {
		// Never guess: a GGUF of it would tokenize otherwise in llama.cpp.
		return nil, fmt.Errorf("pre_tokenizer %s is none of llama.cpp's pre-tokenizer types: %w", preStepsString(steps), format.ErrUnsupported)
	}
	return v, nil
}
