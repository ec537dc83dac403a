package tokenizer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// PreStep is one step of a byte-level BPE pre-tokenizer, as a Hugging Face
// tokenizer.json describes it (a member of a pre_tokenizers.Sequence).
type PreStep struct {
	// Type is "Split", "ByteLevel", "Digits" or "Punctuation".
	Type string
	// Pattern is a Split's regex (behavior Isolated, invert false).
	Pattern string
	// Individual is Digits' individual_digits.
	Individual bool
	// Contiguous is Punctuation's behavior "Contiguous" (else "Isolated").
	Contiguous bool
	// UseRegex is ByteLevel's use_regex: split with GPT-2's pattern.
	UseRegex bool
}

// String names the step for messages, as tokenizer.json spells it.
func (s PreStep) String() string {
	switch s.Type {
	case "Split":
		return fmt.Sprintf("Split %q", s.Pattern)
	case "Digits":
		return fmt.Sprintf("Digits(individual_digits=%t)", s.Individual)
	case "Punctuation":
		if s.Contiguous {
			return "Punctuation(Contiguous)"
		}
		return "Punctuation(Isolated)"
	case "ByteLevel":
		return fmt.Sprintf("ByteLevel(use_regex=%t)", s.UseRegex)
	}
	return s.Type
}

// The pre-tokenizer regexes of today's models, exactly as their
// tokenizer.json files spell them.
const (
	gpt2Pattern    = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	llama3Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Pattern   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen35Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	tekkenPattern  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt4oPattern   = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	dsv3Pattern    = `[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_` + "`" + `{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	dsv3Digits     = `\p{N}{1,3}`
	dsv3CJK        = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
	dsNewline      = "[\r\n]"
	dsCoderLetters = `\s?\p{L}+`
	dsCoderPunct   = `\s?\p{P}+`
	dsCJK          = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
	dsLLMLetters   = `\s?[` + dsLLMLetterClass + `]+`
	dsLLMPunct     = "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"
	dsTrailSpace   = `\s+$`
	threeDigits    = `[0-9][0-9][0-9]`
	defaultPunct   = `[\p{P}\$\+<=>\^~\|]+`
	numberRuns     = `\p{N}+`

	dsLLMLetterClass = "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943"
)

// rawMatchers maps each known Split regex to its matcher on raw text.
var rawMatchers = map[string]matcher{
	gpt2Pattern:    matchGPT2,
	llama3Pattern:  wordPattern{contractions: true, digits: 3}.match,
	qwen2Pattern:   wordPattern{contractions: true, digits: 1}.match,
	qwen35Pattern:  wordPattern{contractions: true, marks: true, digits: 1}.match,
	tekkenPattern:  wordPattern{caseWords: true, digits: 1, slash: true}.match,
	gpt4oPattern:   wordPattern{caseWords: true, suffixContractions: true, digits: 3, slash: true}.match,
	dsv3Pattern:    matchDeepSeekV3,
	dsv3Digits:     runMatcher(func(_ rune, c charCat) bool { return isNumber(c) }, false, 3),
	dsv3CJK:        classMatcher("\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff", false),
	dsNewline:      runMatcher(func(_ rune, c charCat) bool { return isCRLF(c) }, false, 1),
	dsCoderLetters: runMatcher(func(_ rune, c charCat) bool { return isLetter(c) }, true, 0),
	dsCoderPunct:   runMatcher(func(_ rune, c charCat) bool { return c&catP != 0 }, true, 0),
	dsCJK:          classMatcher("\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff", false),
	dsLLMLetters:   classMatcher(dsLLMLetterClass, true),
	dsLLMPunct:     classMatcher("!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002", true),
	dsTrailSpace:   matchTrailingSpace,
	threeDigits:    matchThreeDigits,
	defaultPunct: runMatcher(func(r rune, c charCat) bool {
		return c&catP != 0 || strings.ContainsRune("$+<=>^~|", r)
	}, false, 0),
	numberRuns: runMatcher(func(_ rune, c charCat) bool { return isNumber(c) }, false, 0),
}

// classMatcher matches "[class]+" (with a leading "\s?" when optSpace).
func classMatcher(class string, optSpace bool) matcher {
	rr := parseClass(class)
	return runMatcher(func(r rune, _ charCat) bool { return rr.has(r) }, optSpace, 0)
}

// compilePre compiles a pre-tokenizer. Steps after ByteLevel see the mapped
// text, which only Digits and the three-digit Split are known to need. A
// step or regex that is not known wraps format.ErrUnsupported and names it.
func compilePre(steps []PreStep) (*pipeline, error) {
	p := &pipeline{}
	mapped := false
	for k, s := range steps {
		var m matcher
		switch {
		case s.Type == "ByteLevel":
			if mapped {
				return nil, fmt.Errorf("step %d: a second ByteLevel: %w", k, format.ErrUnsupported)
			}
			mapped = true
			if !s.UseRegex {
				continue
			}
			m = matchGPT2
		case s.Type == "Digits" && mapped:
			m = mappedDigits(s.Individual)
		case s.Type == "Digits":
			max := 0
			if s.Individual {
				max = 1
			}
			m = runMatcher(func(_ rune, c charCat) bool { return isNumber(c) }, false, max)
		case s.Type == "Split" && mapped && s.Pattern == threeDigits:
			m = matchThreeDigits
		case s.Type == "Split" && !mapped:
			var ok bool
			if m, ok = rawMatchers[s.Pattern]; !ok {
				return nil, fmt.Errorf("step %d: Split regex %q is not one lorakit knows (it implements the patterns of llama.cpp's pre-tokenizer types by hand): %w", k, s.Pattern, format.ErrUnsupported)
			}
		case s.Type == "Punctuation" && !mapped:
			max := 1
			if s.Contiguous {
				max = 0
			}
			m = runMatcher(isPunctuation, false, max)
		default:
			return nil, fmt.Errorf("step %d: %v: %w", k, s, format.ErrUnsupported)
		}
		p.steps = append(p.steps, m)
	}
	if !mapped {
		return nil, fmt.Errorf("pre-tokenizer %v has no ByteLevel step: %w (byte-level BPE needs one)", steps, format.ErrUnsupported)
	}
	return p, nil
}

// preType is one of llama.cpp's pre-tokenizer types (tokenizer.ggml.pre):
// its names, the Hugging Face pre-tokenizer that means the same splitting,
// whether llama.cpp skips merging for a piece that is a token, and whether
// it adds BOS when the GGUF does not say (tokenizer.ggml.add_bos_token).
type preType struct {
	names        []string
	steps        []PreStep
	ignoreMerges bool
	addBOS       bool
}

func split(pattern string) PreStep { return PreStep{Type: "Split", Pattern: pattern} }

var (
	byteLevel        = PreStep{Type: "ByteLevel", UseRegex: true}
	byteLevelNoRegex = PreStep{Type: "ByteLevel"}
)

// preTypes lists llama.cpp's byte-level pre-tokenizer types
// (llama-vocab.cpp) with the pre_tokenizer of the models they stand for.
// The first name is the one lorakit writes.
var preTypes = []preType{
	{names: []string{"gpt-2", "mpt", "olmo", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "exaone4", "jais", "trillion", "granite-docling", "jina-v1-en", "jina-v2-code", "roberta-bpe"},
		steps: []PreStep{byteLevel}},
	{names: []string{"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
		steps: []PreStep{split(llama3Pattern), byteLevelNoRegex}, ignoreMerges: true, addBOS: true},
	{names: []string{"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"},
		steps: []PreStep{split(llama3Pattern), byteLevelNoRegex}},
	{names: []string{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "hunyuan", "solar-open", "grok-2", "megrez"},
		steps: []PreStep{split(qwen2Pattern), byteLevelNoRegex}},
	{names: []string{"qwen35"}, steps: []PreStep{split(qwen35Pattern), byteLevelNoRegex}},
	{names: []string{"tekken"}, steps: []PreStep{split(tekkenPattern), byteLevelNoRegex}, ignoreMerges: true, addBOS: true},
	{names: []string{"gpt-4o", "llama4", "kanana2", "minimax-m2"}, steps: []PreStep{split(gpt4oPattern), byteLevelNoRegex}},
	{names: []string{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
		steps: []PreStep{{Type: "Digits", Individual: true}, byteLevel}},
	{names: []string{"falcon"},
		steps: []PreStep{{Type: "Punctuation", Contiguous: true}, byteLevel, {Type: "Digits"}, split(threeDigits)}},
	// llama.cpp's regexes for a BPE vocabulary without a pre-tokenizer
	// type (older GGUF files), which it applies to the raw text.
	{names: []string{"default", ""},
		steps: []PreStep{split(defaultPunct), split(gpt2Pattern), split(numberRuns), split(threeDigits), byteLevelNoRegex}},
	{names: []string{"deepseek-llm"},
		steps: []PreStep{split(dsNewline), split(dsLLMLetters), split(dsLLMPunct), split(dsTrailSpace), split(dsCJK), {Type: "Digits"}, byteLevelNoRegex}},
	{names: []string{"deepseek-coder"},
		steps: []PreStep{split(dsNewline), split(dsCoderLetters), split(dsCoderPunct), split(dsCJK), {Type: "Digits", Individual: true}, byteLevelNoRegex}},
	{names: []string{"deepseek-v3", "hunyuan-dense", "joyai-llm"},
		steps: []PreStep{split(dsv3Digits), split(dsv3CJK), split(dsv3Pattern), byteLevelNoRegex}},
}

// lookupPre returns llama.cpp's pre-tokenizer type of that name.
func lookupPre(name string) (*preType, bool) {
	for k := range preTypes {
		if slices.Contains(preTypes[k].names, name) {
			return &preTypes[k], true
		}
	}
	return nil, false
}

// namePre returns llama.cpp's name for a pre-tokenizer: the type with these
// steps and this ignore_merges, else the first with these steps; "" when
// llama.cpp knows none.
func namePre(steps []PreStep, ignoreMerges bool) string {
	name := ""
	for _, t := range preTypes {
		if !slices.Equal(t.steps, steps) {
			continue
		}
		if t.ignoreMerges == ignoreMerges {
			return t.names[0]
		}
		if name == "" {
			name = t.names[0]
		}
	}
	return name
}

// preStepsString lists steps for messages.
func preStepsString(steps []PreStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
