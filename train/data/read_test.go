package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedE2E returns ../shared/data/e2e/<name> (testshared.Path: skips only
// when ../shared is absent).
func sharedE2E(tb testing.TB, name string) string {
	tb.Helper()
	return testshared.Path(tb, filepath.Join("data", "e2e", name))
}

// TestLoadE2EShared checks the counts PROVENANCE.md gives: valid 4,672
// lines / 547 meaning representations, test 4,693 / 630.
func TestLoadE2EShared(t *testing.T) {
	tests := []struct {
		file          string
		lines, groups int
	}{{"valid.txt", 4672, 547}, {"test.txt", 4693, 630}}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			pairs, err := Load(sharedE2E(t, tc.file), "")
			if err != nil {
				t.Fatal(err)
			}
			groups := GroupByPrompt(pairs)
			if len(pairs) != tc.lines || len(groups) != tc.groups {
				t.Errorf("Load(%s) = %d pairs in %d groups, want %d in %d", tc.file, len(pairs), len(groups), tc.lines, tc.groups)
			}
			// The E2E files keep a prompt's lines together: grouping all
			// occurrences equals grouping consecutive lines (e2e-metrics).
			runs := 0
			for i := range pairs {
				if i == 0 || pairs[i].Prompt != pairs[i-1].Prompt {
					runs++
				}
			}
			if runs != len(groups) {
				t.Errorf("%d runs of equal prompts, %d groups", runs, len(groups))
			}
		})
	}
	pairs, _ := Load(sharedE2E(t, "valid.txt"), FormatE2E)
	want := Pair{
		Prompt:     "name : Alimentum | area : city centre | family friendly : no",
		Completion: "There is a place in the city centre , Alimentum , that is not family - friendly .",
		Line:       1,
	}
	if pairs[0] != want {
		t.Errorf("first pair = %+v, want %+v", pairs[0], want)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, format, in string
		want             []Pair
	}{
		{"e2e", FormatE2E, "a : 1||Ref one . \r\n\na : 1||Ref two\n", []Pair{{"a : 1", "Ref one .", 1}, {"a : 1", "Ref two", 3}}},
		{"jsonl", FormatJSONL, `{"prompt":"p","completion":"c","x":1}` + "\n\n" + `{"context":"q","completion":"d"}`,
			[]Pair{{"p", "c", 1}, {"q", "d", 3}}},
		{"text", FormatText, "line one\nline two\n\n\nnext doc\n", []Pair{{"", "line one\nline two", 1}, {"", "next doc", 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tc.in), "f", tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Read = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("Read[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	groups := GroupByPrompt([]Pair{{"a", "1", 1}, {"b", "2", 2}, {"a", "3", 3}})
	if len(groups) != 2 || groups[0].Prompt != "a" || len(groups[0].Refs) != 2 || groups[0].Refs[1] != "3" || groups[1].Line != 2 {
		t.Errorf("GroupByPrompt = %+v, want a:[1 3] then b:[2]", groups)
	}
}

func TestReadBad(t *testing.T) {
	tests := []struct {
		name, format, in string
		line             int // 0: no line
		want             error
	}{
		{"no separator", FormatE2E, "a||b\nno separator here\n", 2, format.ErrFormat},
		{"two separators", FormatE2E, "a||b||c\n", 1, format.ErrFormat},
		{"empty reference", FormatE2E, "a||b\n\na||  \n", 3, format.ErrFormat},
		{"bad json", FormatJSONL, `{"prompt":"p","completion":"c"}` + "\n{\"prompt\":\n", 2, format.ErrFormat},
		{"no completion", FormatJSONL, `{"prompt":"p"}`, 1, format.ErrFormat},
		{"number completion", FormatJSONL, `{"prompt":"p","completion":3}`, 1, format.ErrFormat},
		{"no prompt", FormatJSONL, `{"completion":"c"}`, 1, format.ErrFormat},
		{"invalid utf-8", FormatText, "ok\n\xff\xfe\n", 2, format.ErrFormat},
		{"empty e2e", FormatE2E, "\n\n", 0, format.ErrFormat},
		{"empty text", FormatText, "", 0, format.ErrFormat},
		{"long line", FormatText, strings.Repeat("x", maxLine+1), 1, format.ErrFormat},
		{"unknown format", "csv", "a,b", 0, format.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "bad.txt", tc.format)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read = %v, want %v", err, tc.want)
			}
			var le *LineError
			if got := errors.As(err, &le); got != (tc.line > 0) || (got && (le.Line != tc.line || le.File != "bad.txt")) {
				t.Errorf("Read error %v: want line %d of bad.txt", err, tc.line)
			}
		})
	}
}

func TestLoadDetect(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body, format string
		want               Pair
	}{
		{"a.jsonl", `{"prompt":"p","completion":"c"}`, FormatJSONL, Pair{"p", "c", 1}},
		{"b.txt", "x||y\n", FormatE2E, Pair{"x", "y", 1}},
		{"c.txt", "plain\n", FormatText, Pair{"", "plain", 1}},
		{"d.data", "a line\nx||y\n", FormatText, Pair{"", "a line\nx||y", 1}}, // only the first line counts
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			os.WriteFile(p, []byte(c.body), 0o644)
			if got, err := Detect(p); got != c.format || err != nil {
				t.Errorf("Detect(%s) = %q, %v, want %q", c.name, got, err, c.format)
			}
			got, err := Load(p, "")
			if err != nil || len(got) != 1 || got[0] != c.want {
				t.Errorf("Load(%s) = %+v, %v, want %+v", c.name, got, err, c.want)
			}
		})
	}
	missing := filepath.Join(dir, "none.txt")
	if _, err := Load(missing, ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	if _, err := Detect(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Detect(missing) = %v, want ErrNotExist", err)
	}
}

func FuzzReadE2E(f *testing.F) {
	f.Add("name : X | food : Thai||X serves Thai food .\n")
	f.Add("a||b||c\n\n||\n")
	f.Fuzz(func(t *testing.T, in string) {
		pairs, err := Read(strings.NewReader(in), "fuzz", FormatE2E)
		if err != nil {
			return
		}
		// What parses round-trips through the format.
		var b strings.Builder
		for _, p := range pairs {
			b.WriteString(p.Prompt + " || " + p.Completion + "\n") // spaces: a prompt may end in "|"
		}
		again, err := Read(strings.NewReader(b.String()), "fuzz", FormatE2E)
		if err != nil || len(again) != len(pairs) {
			t.Fatalf("round trip: %v, %d pairs, want %d", err, len(again), len(pairs))
		}
		for i := range again {
			if again[i].Prompt != pairs[i].Prompt || again[i].Completion != pairs[i].Completion {
				t.Fatalf("round trip pair %d = %+v, want %+v", i, again[i], pairs[i])
			}
		}
	})
}

func FuzzReadJSONL(f *testing.F) {
	f.Add(`{"prompt":"p","completion":"c"}` + "\n")
	f.Add(`{"context":"","completion":"\u00e9"}`)
	f.Fuzz(func(t *testing.T, in string) {
		Read(strings.NewReader(in), "fuzz", FormatJSONL)
		Read(strings.NewReader(in), "fuzz", FormatText)
	})
}
