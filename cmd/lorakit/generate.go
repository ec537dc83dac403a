package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/tokenizer"
)

type generateOptions struct {
	lmOptions
	prompt        string
	maxNew        int
	temp          float64
	topK          int
	topP          float64
	beams         int
	lengthPenalty float64
	noRepeat      int
	seed          uint64
	stop          []int
	json          bool
	chat          chatOptions
}

func newGenerateCmd() *cobra.Command {
	var o generateOptions
	cmd := &cobra.Command{
		Use:   "generate [MODEL]",
		Short: "Generate text with a model (stories260K, built in, when no MODEL is given)",
		Long: `Continue a prompt with a language model. MODEL is a GGUF file, a llama2.c
checkpoint (its tokenizer is the tokenizer.model / tok*.model / tokenizer.bin /
tok*.bin beside it, or --tokenizer) or a Hugging Face model directory. With
no MODEL, lorakit runs stories260K, a 260K-parameter Llama trained on
TinyStories that is compiled into the program (MIT, Andrej Karpathy).

Without --prompt (or with an empty one) generation starts from the BOS token.
Decoding is greedy unless --temp > 0 (sampling, seeded by --seed, narrowed by
--top-k and --top-p) or --beam > 1 (beam search as loralib decodes E2E: the
LoRA paper uses --beam 10 --length-penalty 0.9 --no-repeat-ngram 4). It stops
at the vocabulary's EOS or BOS token (a llama2.c model starts each story with
BOS), at any --stop id, after -n tokens, or when the context is full.

--chat wraps the prompt in the model's chat template (GGUF
tokenizer.chat_template, or the HF directory's; --chat-template SRC gives
another: a directory, tokenizer_config.json, .jinja or GGUF) as a user
message after an optional --system message, with the generation prompt, and
tokenizes it as transformers does (special-token text becomes those tokens,
no BOS beyond the template's own). Generation also stops at the token that
ends an assistant turn in that template (<|eot_id|>, <|im_end|>, ...), and
only the reply is printed.

--adapter PATH[:SCALE] applies a LoRA adapter (PEFT directory, llama.cpp LoRA
GGUF) at run time, its update multiplied by SCALE (default 1).

The text goes to stdout as it is generated; --json prints one object instead:
{"prompt_tokens":[...], "tokens":[generated ids], "text":"generated text",
"reason":"stop|length|context"}.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return interrupted("", runGenerate(cmd, path, o))
		},
	}
	f := cmd.Flags()
	addLMFlags(cmd, &o.lmOptions)
	f.StringVar(&o.prompt, "prompt", "", "text to continue (default: start from BOS)")
	f.IntVarP(&o.maxNew, "max-tokens", "n", 256, "most tokens to generate")
	f.Float64Var(&o.temp, "temp", 0, "sampling temperature (0: greedy)")
	f.IntVar(&o.topK, "top-k", 0, "sample from the K most likely tokens (0: all)")
	f.Float64Var(&o.topP, "top-p", 1, "sample from the most likely tokens whose probability reaches P")
	f.IntVar(&o.beams, "beam", 1, "beam width (> 1: beam search)")
	f.Float64Var(&o.lengthPenalty, "length-penalty", 1, "beam search: rank finished beams by log p / length^L")
	f.IntVar(&o.noRepeat, "no-repeat-ngram", 0, "never repeat an n-gram of this size among generated tokens (0: off)")
	f.Uint64Var(&o.seed, "seed", 0, "sampling seed")
	f.IntSliceVar(&o.stop, "stop", nil, "extra stop token ids (comma-separated)")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	addChatFlags(cmd, &o.chat)
	return cmd
}

// addLMFlags declares the flags of commands that load a model.
func addLMFlags(cmd *cobra.Command, o *lmOptions) {
	f := cmd.Flags()
	f.StringVar(&o.adapter, "adapter", "", "apply a LoRA adapter at run time: PATH[:SCALE]")
	f.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer file (tokenizer.json, tokenizer.model, llama2.c tokenizer.bin)")
}

// generateReport is generate's --json output.
type generateReport struct {
	PromptTokens []int  `json:"prompt_tokens"`
	Tokens       []int  `json:"tokens"`
	Text         string `json:"text"`
	Reason       string `json:"reason"`
}

func runGenerate(cmd *cobra.Command, path string, o generateOptions) error {
	l, err := openLM(path, o.lmOptions, runOptions)
	if err != nil {
		return err
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		return err
	}
	v := tok.Vocab()
	prompt, chatStops, err := o.chat.encode(path, o.prompt, tok)
	if err != nil {
		return err
	}
	if len(prompt) == 0 {
		if v.BOS < 0 {
			return usageError{fmt.Errorf("%s: the vocabulary has no BOS token to start from: give a --prompt", l.Name)}
		}
		prompt = []int{v.BOS}
	}
	opts := generate.Options{
		MaxNew:        o.maxNew,
		Context:       l.Model.Config.Context,
		Temperature:   o.temp,
		TopK:          o.topK,
		TopP:          o.topP,
		Seed:          o.seed,
		Beams:         o.beams,
		LengthPenalty: o.lengthPenalty,
		NoRepeatNGram: o.noRepeat,
		Stop:          slices.Concat(specialStops(v.EOS, v.BOS), chatStops, o.stop),
	}
	if err := opts.Validate(); err != nil {
		return usageError{err}
	}
	if err := checkStops(o.stop, l.Model.Config.Vocab); err != nil {
		return err
	}
	if err := checkBeams(o.beams, l.Model.Config, min(len(prompt)+o.maxNew, l.Model.Config.Context)); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var stream *textStream
	if !o.json {
		// The prompt is written with the first token (or at the end), after
		// Generate has checked it.
		stream = &textStream{w: out, tok: tok}
		if !o.chat.on {
			stream.pending = slices.Clone(prompt)
		}
		opts.Emit = stream.add
	}
	start := time.Now()
	res, err := generate.Generate(cmd.Context(), generate.FromModel(l.Model), prompt, opts)
	if err != nil {
		return err
	}
	if errOut := cmd.ErrOrStderr(); isTerminal(errOut) {
		d := time.Since(start)
		fmt.Fprintf(errOut, "\n%d tokens in %.2fs (%.1f tokens/s), %s\n", len(res.Tokens), d.Seconds(), float64(len(res.Tokens))/d.Seconds(), res.Reason)
	}
	if !o.json {
		stream.flush()
		_, err := fmt.Fprintln(out)
		return err
	}
	full := tok.Decode(slices.Concat(prompt, res.Tokens))
	rep := generateReport{
		PromptTokens: prompt,
		Tokens:       append([]int{}, res.Tokens...),
		Text:         full[len(tok.Decode(prompt)):],
		Reason:       res.Reason.String(),
	}
	return writeJSON(out, rep)
}

// maxBeamBytes bounds the memory beam search may plan for (each beam holds
// its own KV cache and logits), so that a mistyped --beam fails at once
// instead of exhausting the machine.
const maxBeamBytes = 8 << 30

// checkBeams refuses a beam width wider than the vocabulary (the first step
// cannot fill it) or one whose KV caches for seq positions would exceed
// maxBeamBytes.
func checkBeams(beams int, c model.Config, seq int) error {
	if beams <= 1 {
		return nil
	}
	if beams > c.Vocab {
		return usageError{fmt.Errorf("--beam %d: wider than the vocabulary of %d tokens", beams, c.Vocab)}
	}
	// K and V per layer, float32, with up to 2x append slack; plus logits.
	perBeam := 2*2*4*int64(c.Layers)*int64(seq)*int64(c.KVDim()) + 4*int64(c.Vocab)
	if need := int64(beams) * perBeam; need > maxBeamBytes {
		return usageError{fmt.Errorf("--beam %d: the beams' KV caches would need about %.1f GiB (limit %d GiB)",
			beams, float64(need)/(1<<30), maxBeamBytes>>30)}
	}
	return nil
}

// checkStops refuses --stop ids outside the vocabulary.
func checkStops(ids []int, vocab int) error {
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return usageError{fmt.Errorf("--stop %d: token id out of range [0, %d)", id, vocab)}
		}
	}
	return nil
}

// specialStops lists the distinct special ids that end generation.
func specialStops(ids ...int) []int {
	var out []int
	for _, id := range ids {
		if id >= 0 && (len(out) == 0 || out[0] != id) {
			out = append(out, id)
		}
	}
	return out
}

// textStream writes the text of a growing token sequence as it grows.
// Until some text has come out it decodes the whole sequence (so that the
// space a SentencePiece vocabulary puts before the first piece is dropped
// as Decode drops it); after that each token adds its Piece, which is what
// Decode would append, so nothing is decoded twice.
type textStream struct {
	w       io.Writer
	tok     *tokenizer.Tokenizer
	pending []int // ids whose text has not been written (only before the first text)
	started bool
}

func (s *textStream) add(id int) {
	if s.started {
		io.WriteString(s.w, s.tok.Piece(id))
		return
	}
	s.pending = append(s.pending, id)
	s.flush()
}

// flush writes the pending ids' text, if they have any.
func (s *textStream) flush() {
	if s.started {
		return
	}
	if text := s.tok.Decode(s.pending); text != "" {
		io.WriteString(s.w, text)
		s.started, s.pending = true, nil
	}
}
