package chat

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lorakit/lorakit/internal/testshared"
)

// fixedNow is the clock gen.mjs gives @huggingface/jinja: 26 July 2024, 14:05.
func fixedNow() time.Time { return time.Date(2024, time.July, 26, 14, 5, 0, 0, time.Local) }

// testCase is one conversation of testdata/cases.json.
type testCase struct {
	Messages  json.RawMessage            `json:"messages"`
	Tools     []json.RawMessage          `json:"tools"`
	ToolsOnly bool                       `json:"tools_only"`
	Vars      map[string]json.RawMessage `json:"vars"`
}

// reference is one template's renders by @huggingface/jinja (renders.json).
type reference struct {
	BOS     *string `json:"bos_token"`
	EOS     *string `json:"eos_token"`
	Renders map[string]struct {
		Output *string `json:"output"`
		Error  *string `json:"error"`
	} `json:"renders"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// templateSpec is an entry of testdata/templates.json: the template's
// path (testdata/PATH, or shared:PATH under ../shared) and the bos and eos
// token texts its tokenizer_config.json gives.
type templateSpec struct {
	Path string `json:"path"`
	BOS  string `json:"bos_token"`
	EOS  string `json:"eos_token"`
}

// templateSpecs reads testdata/templates.json.
func templateSpecs(t testing.TB) map[string]templateSpec {
	t.Helper()
	var specs map[string]templateSpec
	readJSON(t, "testdata/templates.json", &specs)
	return specs
}

// loadTestTemplate loads a template named in testdata/templates.json.
func loadTestTemplate(t testing.TB, spec templateSpec) *Template {
	t.Helper()
	path := filepath.Join("testdata", spec.Path)
	if rel, ok := strings.CutPrefix(spec.Path, "shared:"); ok {
		path = testshared.Path(t, rel)
	}
	tmpl, err := Load(path, "")
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	if spec.BOS != "" || spec.EOS != "" {
		tmpl.BOS, tmpl.EOS = spec.BOS, spec.EOS
	}
	tmpl.Now = fixedNow
	return tmpl
}

// TestRendersMatchHuggingFaceJinja renders every template of
// testdata/templates.json with every conversation of testdata/cases.json,
// generation prompt off and on, and compares byte for byte with the renders
// (or raise_exception messages) of @huggingface/jinja 0.5.11 in
// testdata/renders.json, and with those of Python's Jinja2 set up as
// transformers sets it up (testdata/cases-py.json), which agree with them.
func TestRendersMatchHuggingFaceJinja(t *testing.T) {
	var cases map[string]testCase
	var refs, py map[string]reference
	specs := templateSpecs(t)
	readJSON(t, "testdata/cases.json", &cases)
	readJSON(t, "testdata/renders.json", &refs)
	readJSON(t, "testdata/cases-py.json", &py)

	names := slices.Sorted(maps.Keys(specs))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tmpl := loadTestTemplate(t, specs[name])
			ref, ok := refs[name]
			if !ok || len(ref.Renders) == 0 {
				t.Fatalf("renders.json has no renders of %s", name)
			}
			if want := deref(ref.BOS); tmpl.BOS != want {
				t.Errorf("bos_token = %q, want %q", tmpl.BOS, want)
			}
			if want := deref(ref.EOS); tmpl.EOS != want {
				t.Errorf("eos_token = %q, want %q", tmpl.EOS, want)
			}
			for _, key := range slices.Sorted(maps.Keys(ref.Renders)) {
				want := ref.Renders[key]
				if p := py[name].Renders[key]; deref(p.Output) != deref(want.Output) || deref(p.Error) != deref(want.Error) {
					t.Errorf("%s: transformers' Jinja2 renders %q / %q, @huggingface/jinja %q / %q", key, deref(p.Output), deref(p.Error), deref(want.Output), deref(want.Error))
				}
				cname, mode, _ := strings.Cut(key, "/")
				c, ok := cases[cname]
				if !ok {
					t.Fatalf("renders.json case %q is not in cases.json", cname)
				}
				conv, err := ParseConversation(c.Messages)
				if err != nil {
					t.Fatalf("case %s: %v", cname, err)
				}
				req := Request{Messages: conv.Messages, Tools: c.Tools, AddGenerationPrompt: mode == "gen", Vars: map[string]any{}}
				for k, v := range c.Vars {
					req.Vars[k] = v
				}
				got, err := tmpl.Render(req)
				switch {
				case want.Error != nil:
					var re *RaiseError
					if !errors.As(err, &re) || re.Message != *want.Error {
						t.Errorf("%s: Render = %q, %v; want raise_exception(%q)", key, got, err, *want.Error)
					}
				case err != nil:
					t.Errorf("%s: Render: %v", key, err)
				case got != *want.Output:
					t.Errorf("%s: Render =\n%q\nwant (@huggingface/jinja)\n%q", key, got, *want.Output)
				}
			}
			t.Logf("%d renders equal", len(ref.Renders))
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
