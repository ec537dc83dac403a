package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/resolve"
)

// MetaStatus says whether a piece of metadata was carried from the base.
type MetaStatus string

// Metadata statuses; Same and NotInBase are explained.
const (
	Same      MetaStatus = "same"
	Changed   MetaStatus = "changed"
	Dropped   MetaStatus = "dropped"     // in the base, not in the release
	NotInBase MetaStatus = "not-in-base" // nothing to carry
)

// Explained reports whether the status accounts for the item.
func (s MetaStatus) Explained() bool { return s == Same || s == NotInBase }

// MetaResult is the verdict on one metadata key or file.
type MetaResult struct {
	Key    string     `json:"key"`
	Status MetaStatus `json:"status"`
	Note   string     `json:"note,omitempty"`
}

// hfFiles are the files of a Hugging Face directory that carry the
// tokenizer, chat template and generation settings; a release must carry
// each the base has, byte for byte.
var hfFiles = []string{
	"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "merges.txt",
	"special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json",
	"generation_config.json",
}

// checkMetadata compares what a release must carry from its base: with
// typed (GGUF) metadata on both sides, general.architecture and every
// tokenizer.* key (vocabulary, merges, special tokens, chat template);
// between Hugging Face directories, config.json's model_type and the
// tokenizer and generation files.
func checkMetadata(b *resolve.Base, rel format.Source, relPath string) []MetaResult {
	var out []MetaResult
	if b.Kind == resolve.KindHFDir {
		if st, err := os.Stat(relPath); err == nil && st.IsDir() {
			out = append(out, compareModelType(b.Path, relPath))
			for _, f := range hfFiles {
				out = append(out, compareFile(b.Path, relPath, f))
			}
			return out
		}
	}
	bmd, rmd := b.Src.Metadata(), rel.Metadata()
	keys := []string{"general.architecture"}
	for _, kv := range bmd {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			keys = append(keys, kv.Key)
		}
	}
	sort.Strings(keys[1:])
	for _, k := range keys {
		want, inBase := bmd.Get(k)
		got, inRel := rmd.Get(k)
		switch {
		case !inBase:
			out = append(out, MetaResult{Key: k, Status: NotInBase})
		case !inRel:
			out = append(out, MetaResult{Key: k, Status: Dropped, Note: "the base has it, the release does not"})
		case !reflect.DeepEqual(want, got):
			out = append(out, MetaResult{Key: k, Status: Changed, Note: changed(want, got)})
		default:
			out = append(out, MetaResult{Key: k, Status: Same})
		}
	}
	return out
}

// changed describes how a metadata value differs: for arrays of one
// length, how many elements differ and the first.
func changed(want, got any) string {
	a, b := reflect.ValueOf(want), reflect.ValueOf(got)
	if a.Kind() == reflect.Slice && b.Kind() == reflect.Slice && a.Type() == b.Type() && a.Len() == b.Len() {
		n, first := 0, -1
		for i := range a.Len() {
			if !reflect.DeepEqual(a.Index(i).Interface(), b.Index(i).Interface()) {
				if first < 0 {
					first = i
				}
				n++
			}
		}
		return fmt.Sprintf("%d of %d values differ, the first at %d: %v in the base, %v in the release",
			n, a.Len(), first, a.Index(first).Interface(), b.Index(first).Interface())
	}
	return fmt.Sprintf("%s in the base, %s in the release", short(want), short(got))
}

// short describes a metadata value in a few words.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		s = fmt.Sprintf("%d %s values", rv.Len(), rv.Type().Elem())
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// compareFile checks that a file of the base directory is in the release
// directory, byte for byte.
func compareFile(baseDir, relDir, name string) MetaResult {
	want, err := os.ReadFile(filepath.Join(baseDir, name))
	if err != nil {
		return MetaResult{Key: name, Status: NotInBase}
	}
	got, err := os.ReadFile(filepath.Join(relDir, name))
	switch {
	case err != nil:
		return MetaResult{Key: name, Status: Dropped, Note: "the base has it, the release does not"}
	case !bytes.Equal(want, got):
		return MetaResult{Key: name, Status: Changed, Note: "differs from the base's"}
	}
	return MetaResult{Key: name, Status: Same}
}

// compareModelType checks config.json's model_type.
func compareModelType(baseDir, relDir string) MetaResult {
	read := func(dir string) (string, bool) {
		raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			return "", false
		}
		var cfg struct {
			ModelType string `json:"model_type"`
		}
		if json.Unmarshal(raw, &cfg) != nil {
			return "", false
		}
		return cfg.ModelType, true
	}
	const key = "config.json model_type"
	want, inBase := read(baseDir)
	got, inRel := read(relDir)
	switch {
	case !inBase:
		return MetaResult{Key: key, Status: NotInBase}
	case !inRel:
		return MetaResult{Key: key, Status: Dropped, Note: "the release has no readable config.json"}
	case want != got:
		return MetaResult{Key: key, Status: Changed, Note: fmt.Sprintf("%q in the base, %q in the release", want, got)}
	}
	return MetaResult{Key: key, Status: Same}
}
