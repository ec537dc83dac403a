package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/tokenizer"
)

type tokenizeOptions struct {
	text    string
	file    string
	jsonl   string
	noBOS   bool
	special bool
	json    bool
}

func newTokenizeCmd() *cobra.Command {
	var o tokenizeOptions
	cmd := &cobra.Command{
		Use:   "tokenize SRC (--text T | --file F | --jsonl F) [--no-bos] [--special] [--json]",
		Short: "Turn text into token ids with a model's tokenizer",
		Long: `Tokenize text as the model's tokenizer does. SRC is a GGUF file, a Hugging
Face model directory, a tokenizer.json, a tokenizer.model (SentencePiece, or
Llama 3's tiktoken ranks) or a llama2.c tokenizer .bin.

--text T    tokenize T; --file F the whole of file F ("-": standard input)
--jsonl F   one text per line of F, each a JSON string or {"text": ...};
            prints one {"ids": [...], "pieces": [...]} per line
--special   text that spells an added or special token ("<|im_start|>")
            becomes that token, as Hugging Face does by default and
            llama.cpp with parse_special; without it such text is plain text
            (user-defined added tokens always match)
--no-bos    leave out the BOS token the tokenizer adds by its own rule
            (EOS is added when the tokenizer's rule says so)
--json      print {"ids": [...], "pieces": [...]} instead of the ids

Pieces are the tokens as the vocabulary spells them ("Ġworld", "▁world").`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenize(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.text, "text", "", "text to tokenize")
	f.StringVar(&o.file, "file", "", "file whose whole content is tokenized (- for standard input)")
	f.StringVar(&o.jsonl, "jsonl", "", "JSON Lines file, one text per line (a string or {\"text\": ...})")
	f.BoolVar(&o.noBOS, "no-bos", false, "do not add the BOS token")
	f.BoolVar(&o.special, "special", false, "match special-token text as special tokens")
	f.BoolVar(&o.json, "json", false, "print ids and pieces as JSON")
	return cmd
}

// tokenized is the JSON form of one tokenized text.
type tokenized struct {
	IDs    []int    `json:"ids"`
	Pieces []string `json:"pieces"`
}

func runTokenize(cmd *cobra.Command, src string, o tokenizeOptions) error {
	n := 0
	for _, set := range []bool{cmd.Flags().Changed("text"), o.file != "", o.jsonl != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError{fmt.Errorf("give exactly one of --text, --file and --jsonl")}
	}
	v, err := tokenizer.Load(src)
	if err != nil {
		return err
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	tok.ParseSpecial = o.special
	if o.noBOS {
		tok.AddBOS = false
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	encode := func(text string) tokenized {
		ids := tok.Encode(text)
		pieces := make([]string, len(ids))
		for i, id := range ids {
			pieces[i] = v.Tokens[id]
		}
		return tokenized{ids, pieces}
	}
	if o.jsonl != "" {
		return tokenizeJSONL(o.jsonl, cmd.InOrStdin(), out, encode)
	}
	text := o.text
	if o.file != "" {
		data, err := readInput(o.file, cmd.InOrStdin())
		if err != nil {
			return err
		}
		text = string(data)
	}
	r := encode(text)
	if o.json {
		return writeJSON(out, r)
	}
	parts := make([]string, len(r.IDs))
	for i, id := range r.IDs {
		parts[i] = strconv.Itoa(id)
	}
	_, err = fmt.Fprintln(out, strings.Join(parts, " "))
	return err
}

// tokenizeJSONL tokenizes each line of a JSON Lines file.
func tokenizeJSONL(path string, stdin io.Reader, out io.Writer, encode func(string) tokenized) error {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for line := 1; sc.Scan(); line++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var text string
		if err := json.Unmarshal([]byte(raw), &text); err != nil {
			var obj struct {
				Text *string `json:"text"`
			}
			if json.Unmarshal([]byte(raw), &obj) != nil || obj.Text == nil {
				return fmt.Errorf("%s: line %d: not a JSON string or an object with a \"text\" string", path, line)
			}
			text = *obj.Text
		}
		if err := writeJSON(out, encode(text)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readInput reads a whole file, or standard input for "-".
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}
