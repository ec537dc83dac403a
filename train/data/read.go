package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/lorakit/lorakit/format"
)

// The formats Read accepts.
const (
	FormatE2E   = "e2e"
	FormatJSONL = "jsonl"
	FormatText  = "text"
)

// maxLine bounds one line of a data file.
const maxLine = 16 << 20

// Pair is one example as read: a prompt (the context, no loss) and its
// completion. Line is the 1-based line of the file it came from (the first
// line of a text document).
type Pair struct {
	Prompt     string
	Completion string
	Line       int
}

// Load reads the data file at path in the named format ("" picks it with
// Detect).
func Load(path, formatName string) ([]Pair, error) {
	f, err := format.OpenInput(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	if formatName == "" {
		formatName = detect(f, path)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	return Read(f, path, formatName)
}

// Detect guesses the format of the data file at path, as Load does when
// given none: .jsonl or .json → chat when its first line has "messages",
// else jsonl; else "||" on the first line → e2e; else text.
func Detect(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return detect(f, path), nil
}

// detect guesses the format of r, the contents of the file at path.
func detect(r io.Reader, path string) string {
	first, _ := bufio.NewReader(io.LimitReader(r, maxLine)).ReadString('\n')
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".json":
		if strings.Contains(first, `"messages"`) {
			return FormatChat
		}
		return FormatJSONL
	}
	if strings.Contains(first, "||") {
		return FormatE2E
	}
	return FormatText
}

// Read reads pairs from r in the named format; name is used in errors.
// Empty data is an error.
func Read(r io.Reader, name, formatName string) ([]Pair, error) {
	var pairs []Pair
	var err error
	switch formatName {
	case FormatE2E:
		pairs, err = readLines(r, name, parseE2E)
	case FormatJSONL:
		pairs, err = readLines(r, name, parseJSONL)
	case FormatText:
		pairs, err = readText(r, name)
	default:
		return nil, fmt.Errorf("data: %s: format %q (want e2e, jsonl or text; chat data is read with ReadChat): %w", name, formatName, format.ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("data: %s: no examples: %w", name, format.ErrFormat)
	}
	return pairs, nil
}

// LineError is a problem at one line of a data file. It wraps
// format.ErrFormat (malformed line) or format.ErrShape (too long).
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("data: %s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// scanLines calls f on every line of r (without its line ending), with
// its 1-based number, failing on over-long lines and invalid UTF-8.
func scanLines(r io.Reader, name string, f func(line []byte, n int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if !utf8.Valid(line) {
			return &LineError{name, n, fmt.Errorf("invalid UTF-8: %w", format.ErrFormat)}
		}
		if err := f(line, n); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{name, n + 1, fmt.Errorf("line longer than %d bytes: %w", maxLine, format.ErrFormat)}
		}
		return &LineError{name, n + 1, err}
	}
	return nil
}

// readLines reads one pair per non-blank line with parse.
func readLines(r io.Reader, name string, parse func([]byte) (Pair, error)) ([]Pair, error) {
	var pairs []Pair
	err := scanLines(r, name, func(line []byte, n int) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		p, err := parse(line)
		if err != nil {
			return &LineError{name, n, err}
		}
		p.Line = n
		pairs = append(pairs, p)
		return nil
	})
	return pairs, err
}

// parseE2E splits "MR||reference", trimming spaces around both (the E2E
// files end references with a space, which loralib's line.strip() drops).
func parseE2E(line []byte) (Pair, error) {
	mr, ref, ok := bytes.Cut(line, []byte("||"))
	switch {
	case !ok:
		return Pair{}, fmt.Errorf("no \"||\" between meaning representation and reference: %w", format.ErrFormat)
	case bytes.Contains(ref, []byte("||")):
		return Pair{}, fmt.Errorf("more than one \"||\": %w", format.ErrFormat)
	}
	p := Pair{Prompt: string(bytes.TrimSpace(mr)), Completion: string(bytes.TrimSpace(ref))}
	if p.Prompt == "" || p.Completion == "" {
		return Pair{}, fmt.Errorf("empty meaning representation or reference: %w", format.ErrFormat)
	}
	return p, nil
}

// parseJSONL reads {"prompt": ..., "completion": ...}.
func parseJSONL(line []byte) (Pair, error) {
	var obj struct {
		Prompt     *string `json:"prompt"`
		Context    *string `json:"context"`
		Completion *string `json:"completion"`
	}
	if err := json.Unmarshal(line, &obj); err != nil {
		return Pair{}, fmt.Errorf("%v: %w", err, format.ErrFormat)
	}
	if obj.Prompt == nil {
		obj.Prompt = obj.Context
	}
	switch {
	case obj.Completion == nil:
		return Pair{}, fmt.Errorf("no string \"completion\": %w", format.ErrFormat)
	case *obj.Completion == "":
		return Pair{}, fmt.Errorf("empty \"completion\": %w", format.ErrFormat)
	case obj.Prompt == nil:
		return Pair{}, fmt.Errorf("no string \"prompt\": %w", format.ErrFormat)
	}
	return Pair{Prompt: *obj.Prompt, Completion: *obj.Completion}, nil
}

// readText splits text into documents at blank lines; each becomes a Pair
// with an empty prompt and the document (lines joined by "\n") as the
// completion.
func readText(r io.Reader, name string) ([]Pair, error) {
	var pairs []Pair
	var doc strings.Builder
	start := 0
	flush := func() {
		if doc.Len() > 0 {
			pairs = append(pairs, Pair{Completion: doc.String(), Line: start})
			doc.Reset()
		}
	}
	err := scanLines(r, name, func(line []byte, n int) error {
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			return nil
		}
		if doc.Len() == 0 {
			start = n
		} else {
			doc.WriteByte('\n')
		}
		doc.Write(line)
		return nil
	})
	flush()
	return pairs, err
}

// Group is one prompt with all its references, for evaluation.
type Group struct {
	Prompt string
	Refs   []string
	Line   int // line of the prompt's first pair
}

// GroupByPrompt gathers the completions of equal prompts, groups in the
// order their prompts first appear and references in file order (as
// loralib's evaluation does; the E2E files keep a prompt's lines together,
// where this equals e2e-metrics' grouping of consecutive lines).
func GroupByPrompt(pairs []Pair) []Group {
	index := map[string]int{}
	var groups []Group
	for _, p := range pairs {
		i, ok := index[p.Prompt]
		if !ok {
			i = len(groups)
			index[p.Prompt] = i
			groups = append(groups, Group{Prompt: p.Prompt, Line: p.Line})
		}
		groups[i].Refs = append(groups[i].Refs, p.Completion)
	}
	return groups
}
