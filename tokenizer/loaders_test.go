package tokenizer

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format/gguf"
)

// stories260KIDs are the first 30 ids stories260K decodes greedily from BOS
// (../shared/data/PROVENANCE.md §5a), and stories260KText llama2.c's
// documented output, of which their decoding must be a prefix.
var stories260KIDs = []int{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433}

const stories260KText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said, "

func TestStories260KTokenizers(t *testing.T) {
	model, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := LoadLlama2C("testdata/tok512.bin", 512)
	if err != nil {
		t.Fatal(err)
	}
	if model.Len() != 512 || bin.Len() != 512 {
		t.Fatalf("Len() = %d (model), %d (bin), want 512", model.Len(), bin.Len())
	}
	// PROVENANCE: the two files hold the same pieces and scores.
	if !slices.Equal(model.Tokens, bin.Tokens) || !slices.Equal(model.Scores, bin.Scores) || !slices.Equal(model.Types, bin.Types) {
		t.Errorf("tok512.model and tok512.bin differ in pieces, scores or types")
	}
	for _, v := range []*Vocab{model, bin} {
		if v.UNK != 0 || v.BOS != 1 || v.EOS != 2 || v.PAD != -1 || !v.AddBOS || !v.AddSpacePrefix {
			t.Errorf("special ids unk %d bos %d eos %d pad %d add_bos %t prefix %t, want 0 1 2 -1 true true",
				v.UNK, v.BOS, v.EOS, v.PAD, v.AddBOS, v.AddSpacePrefix)
		}
	}
	// llama2.c wrote tok512.bin from this vocabulary; writing it again
	// must give the same bytes.
	var buf bytes.Buffer
	if err := WriteLlama2C(&buf, model); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/tok512.bin")
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteLlama2C(tok512.model) differs from llama2.c's tok512.bin (%d vs %d bytes)", buf.Len(), len(want))
	}

	tok, err := New(model)
	if err != nil {
		t.Fatal(err)
	}
	text := tok.Decode(append([]int{1}, stories260KIDs...))
	if !strings.HasPrefix(stories260KText, text) || len(text) < 40 {
		t.Fatalf("Decode(ids) = %q, want a prefix of llama2.c's %q", text, stories260KText)
	}
	tok.AddBOS = false
	if got := tok.Encode(text); !slices.Equal(got, stories260KIDs) {
		t.Errorf("Encode(%q) = %v, want %v", text, got, stories260KIDs)
	}
}

func TestAidreams260KTokenizer(t *testing.T) {
	path := sharedFile(t, "models/aidreams260K/tok512.bin")
	v, err := LoadLlama2C(path, 512)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	// PROVENANCE §5b: greedy output from BOS.
	got := tok.Decode([]int{1, 319, 459, 355, 260, 275, 429, 339, 315, 374, 327})
	const want = `"Echoes of vectors unfold, a gentle hum of precision,`
	if !strings.HasPrefix(want, got) || len(got) < 10 {
		t.Errorf("Decode(aidreams ids) = %q, want a prefix of %q", got, want)
	}
}

// TestGGUFFixtureVocabs tokenizes with the hand-designed vocabularies of
// ../shared/fixtures (README: the gpt2 one has byte tokens 0-255 and merges
// "Ġ a", "t h", "th e", "o n" -> 256-259; the llama one <0xXX> at 3-258 and
// 45 pieces at 259-303 scored -(id-259)); the expected ids are worked out by
// hand from those definitions.
func TestGGUFFixtureVocabs(t *testing.T) {
	for _, tc := range []struct {
		file string
		n    int
		text string
		bos  bool
		want []int
	}{
		// "the" -> t h e -> th -> the; " a" -> Ġa; " on" -> Ġ, on.
		{"gpt2-f32.gguf", 261, "the a on", false, []int{258, 256, 32, 259}},
		// " cat": no merge applies -> the four bytes.
		{"gpt2-f32.gguf", 261, "the cat", false, []int{258, 32, 99, 97, 116}},
		// "▁the▁cat": t+h (-33), ▁+th (-34), ▁th+e (-35) -> ▁the; "c" has no
		// piece -> <0x63> = 3+0x63; then ▁ a t.
		{"llama-f32.gguf", 304, "the cat", true, []int{1, 294, 259, 102, 262, 261}},
	} {
		t.Run(tc.file+"/"+tc.text, func(t *testing.T) {
			r, err := gguf.Open(sharedDir(t) + "/fixtures/" + tc.file)
			if err != nil {
				t.Fatalf("fixture: %v", err)
			}
			defer r.Close()
			v, err := FromMetadata(r.Metadata())
			if err != nil {
				t.Fatal(err)
			}
			if v.Len() != tc.n {
				t.Fatalf("Len() = %d, want %d", v.Len(), tc.n)
			}
			tok, err := New(v)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AddBOS != tc.bos {
				t.Errorf("AddBOS = %t, want %t", tok.AddBOS, tc.bos)
			}
			got := tok.Encode(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
			}
			if back := tok.Decode(got); back != tc.text {
				t.Errorf("Decode(%v) = %q, want %q", got, back, tc.text)
			}
		})
	}
}

// TestSmallVocabs checks hand-computed encodings of the testdata
// vocabularies.
func TestSmallVocabs(t *testing.T) {
	gpt2, err := LoadGPT2("testdata/tiny-gpt2-vocab.json", "testdata/tiny-gpt2-merges.txt")
	if err != nil {
		t.Fatal(err)
	}
	llama, err := LoadTokenizerJSON("testdata/tiny-llama-tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    *Vocab
		text string
		want []int
	}{
		// Ġ l o w e r: "Ġ l", "Ġl o", "Ġlo w", "e r" -> Ġlow er.
		{"gpt2", gpt2, " lower", []int{14, 15}},
		// Only "e r" applies; Ġn exists but no rule makes it.
		{"gpt2", gpt2, " newer", []int{10, 9, 3, 2, 15}},
		// "▁hi▁hi\n": h+i twice, then ▁+hi twice; "\n" -> <0x0A>; BOS from
		// the TemplateProcessing.
		{"llama", llama, "hi hi\n", []int{1, 8, 8, 3}},
		// Without a piece or byte token, "x" falls back to unk.
		{"llama", llama, "x", []int{1, 4, 0}},
	} {
		t.Run(tc.name+"/"+tc.text, func(t *testing.T) {
			tok, err := New(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
	if gpt2.BOS != 20 || gpt2.EOS != 20 || gpt2.UNK != 19 || gpt2.Type(19) != Control {
		t.Errorf("tiny gpt2 special ids bos %d eos %d unk %d, want 20 20 19", gpt2.BOS, gpt2.EOS, gpt2.UNK)
	}
	if llama.Model != ModelLlama || llama.UNK != 0 || llama.Type(0) != Unknown || llama.Type(3) != Byte || llama.Type(1) != Control {
		t.Errorf("tiny llama: model %q unk %d types %v", llama.Model, llama.UNK, llama.Types)
	}
}

// TestMetadataRoundTrip: FromMetadata(v.Metadata()) gives v back.
func TestMetadataRoundTrip(t *testing.T) {
	loads := map[string]func() (*Vocab, error){
		"tok512.model": func() (*Vocab, error) { return LoadSentencePiece("testdata/tok512.model") },
		"tiny gpt2": func() (*Vocab, error) {
			return LoadGPT2("testdata/tiny-gpt2-vocab.json", "testdata/tiny-gpt2-merges.txt")
		},
		"tiny llama json": func() (*Vocab, error) { return LoadTokenizerJSON("testdata/tiny-llama-tokenizer.json") },
	}
	for name, load := range loads {
		t.Run(name, func(t *testing.T) {
			v, err := load()
			if err != nil {
				t.Fatal(err)
			}
			v.AddEOS, v.PAD = true, 2 // exercise every key
			back, err := FromMetadata(v.Metadata())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, v) {
				t.Errorf("FromMetadata(Metadata()) = %+v\nwant %+v", back, v)
			}
		})
	}
}

// TestTokenizerJSONRoundTrip: a written tokenizer.json reads back to the
// same tokens, types, special ids and flags.
func TestTokenizerJSONRoundTrip(t *testing.T) {
	for _, name := range []string{"tok512.model", "tiny-gpt2"} {
		t.Run(name, func(t *testing.T) {
			var v *Vocab
			var err error
			if name == "tok512.model" {
				v, err = LoadSentencePiece("testdata/tok512.model")
			} else {
				v, err = LoadGPT2("testdata/tiny-gpt2-vocab.json", "testdata/tiny-gpt2-merges.txt")
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := viaTokenizerJSON(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back.Tokens, v.Tokens) || !slices.Equal(back.Types, v.Types) {
				t.Errorf("tokens or types differ after tokenizer.json")
			}
			if back.BOS != v.BOS || back.EOS != v.EOS || back.UNK != v.UNK || back.AddBOS != v.AddBOS || back.AddSpacePrefix != v.AddSpacePrefix {
				t.Errorf("specials = %d %d %d %t %t, want %d %d %d %t %t", back.BOS, back.EOS, back.UNK, back.AddBOS, back.AddSpacePrefix,
					v.BOS, v.EOS, v.UNK, v.AddBOS, v.AddSpacePrefix)
			}
			if v.Model == ModelGPT2 && !slices.Equal(back.Merges, v.Merges) {
				t.Errorf("merges differ")
			}
			// Tokenization is unchanged on the stories text.
			a, _ := New(v)
			b, _ := New(back)
			if x, y := a.Encode(stories260KText), b.Encode(stories260KText); !slices.Equal(x, y) {
				t.Errorf("Encode differs after tokenizer.json: %v vs %v", x, y)
			}
		})
	}
}

func TestSpecialTokens(t *testing.T) {
	spm, err := loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-llama-spm.gguf")
	if err != nil {
		t.Fatal(err)
	}
	gpt2, err := loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-gpt-2.gguf")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		v             *Vocab
		parse, decode bool
		text          string
		want          []int
		back          string
	}{
		// AddBOS from the GGUF; ids as in the llama.cpp vectors.
		{"spm", spm, false, false, "Hello world", []int{1, 15043, 3186}, "Hello world"},
		// After a special token the text gets its space prefix again.
		{"spm", spm, true, false, "<s>Hello", []int{1, 1, 15043}, "Hello"},
		// With BOS shown, the prefix space stays (as HF's decoder and
		// llama.cpp keep it).
		{"spm", spm, true, true, "Hello</s>", []int{1, 15043, 2}, "<s> Hello</s>"},
		// Not parsed: the control token's text is plain text.
		{"gpt2", gpt2, false, false, "<|endoftext|>", []int{27, 91, 437, 1659, 5239, 91, 29}, "<|endoftext|>"},
		{"gpt2", gpt2, true, true, "a<|endoftext|>b", []int{64, 50256, 65}, "a<|endoftext|>b"},
		{"gpt2", gpt2, true, false, "a<|endoftext|>b", []int{64, 50256, 65}, "ab"},
	} {
		t.Run(tc.name+"/"+tc.text, func(t *testing.T) {
			tok, err := New(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			tok.ParseSpecial, tok.DecodeSpecial = tc.parse, tc.decode
			got := tok.Encode(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
			}
			if back := tok.Decode(got); back != tc.back {
				t.Errorf("Decode(%v) = %q, want %q", got, back, tc.back)
			}
		})
	}
}

// TestSplitGPT2 checks the hand-written pre-tokenizer against splits worked
// out from the regex's definition.
func TestSplitGPT2(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"a  \n\nb", []string{"a", "  \n", "\n", "b"}},
		{"a   ", []string{"a", "   "}},
		{"I'm we'll x'S", []string{"I", "'m", " we", "'ll", " x", "'", "S"}},
		{"3.14 42", []string{"3", ".", "14", " 42"}},
		{"!!! ?!", []string{"!!!", " ?!"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"héllo wörld", []string{"héllo", " wörld"}},
		{"a\xffb", []string{"a", "\xff", "b"}},
		{"!\u0378!", []string{"!\u0378!"}}, // unassigned code point: [^\s\p{L}\p{N}], as in Hugging Face's regex
		{"\t\tx", []string{"\t", "\t", "x"}},
		{"", nil},
	} {
		got := splitWith(t, "gpt-2", tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitGPT2(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSPMWordSplit: encoding word by word gives the same ids as the
// SentencePiece algorithm run over the whole text.
func TestSPMWordSplit(t *testing.T) {
	texts := []string{stories260KText, "  a  b ▁▁c▁ \n\n x", "ied 4 ½ months"}
	base := "llama.cpp-vocab/ggml-vocab-llama-spm.gguf"
	for _, tc := range readVocabTests(t, sharedFile(t, base+".inp"), sharedFile(t, base+".out")) {
		texts = append(texts, tc.text)
	}
	if e2e, err := os.ReadFile(sharedFile(t, "e2e/valid.txt")); err == nil {
		texts = append(texts, string(e2e[:20000]))
	}
	spm, err := loadGGUFVocab(t, base)
	if err != nil {
		t.Fatal(err)
	}
	tok512, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Vocab{spm, tok512} {
		words, _ := New(v)
		whole, _ := New(v)
		if !words.spm.words {
			t.Fatalf("vocab of %d pieces not split into words", v.Len())
		}
		whole.spm.words = false
		for _, text := range texts {
			if a, b := words.Encode(text), whole.Encode(text); !slices.Equal(a, b) {
				t.Errorf("Encode(%.40q) by words = %v, whole text %v", text, a, b)
			}
		}
	}
}

// splitWith returns the pieces of text under llama.cpp's pre-tokenizer
// type pre.
func splitWith(t *testing.T, pre, text string) []string {
	t.Helper()
	pt, ok := lookupPre(pre)
	if !ok {
		t.Fatalf("lookupPre(%q) failed", pre)
	}
	p, err := compilePre(pt.steps)
	if err != nil {
		t.Fatal(err)
	}
	spans, _ := p.split(text, nil, nil)
	var out []string
	for _, sp := range spans {
		out = append(out, text[sp.a:sp.b])
	}
	return out
}

// TestMetaspaceSchemes checks Hugging Face's Metaspace rules on the tiny
// Llama vocabulary (▁ 4, h 5, i 6, hi 7, ▁hi 8; merges "h i", "▁ hi"),
// worked out by hand: text that starts with a space gets no second "▁";
// "first" prefixes only at the start of the text, "always" also after a
// special token; the Prepend normalizer always prefixes.
func TestMetaspaceSchemes(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny-llama-tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	metaspace := func(scheme string) []byte {
		s := strings.Replace(string(data), `"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}`, `"normalizer": null`, 1)
		return []byte(strings.Replace(s, `"pre_tokenizer": null`, `"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "`+scheme+`", "split": false}`, 1))
	}
	for _, tc := range []struct {
		name string
		json []byte
		text string
		want []int
	}{
		{"prepend", data, " hi", []int{4, 8}},
		{"always", metaspace("always"), " hi", []int{8}},
		{"first", metaspace("first"), " hi", []int{8}},
		{"always", metaspace("always"), "hi", []int{8}},
		{"prepend", data, "hi</s>hi", []int{8, 2, 8}},
		{"always", metaspace("always"), "hi</s>hi", []int{8, 2, 8}},
		{"first", metaspace("first"), "hi</s>hi", []int{8, 2, 7}},
		{"never", metaspace("never"), "hi hi", []int{7, 8}},
	} {
		for _, src := range []string{"json", "json->json"} {
			v, err := ParseTokenizerJSON(tc.json, tc.name)
			if src == "json->json" {
				v, err = viaTokenizerJSON(v, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := New(v)
			if err != nil {
				t.Fatal(err)
			}
			tok.AddBOS, tok.ParseSpecial = false, true
			if got := tok.Encode(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("%s (%s): Encode(%q) = %v, want %v", tc.name, src, tc.text, got, tc.want)
			}
		}
	}
}
