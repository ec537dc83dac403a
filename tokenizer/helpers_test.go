package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// sharedDir returns ../shared beside the module root, skipping the test when
// it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testshared.Path(t, "")
}

// sharedFile returns the path of a file under ../shared/data, skipping the
// test when it is absent.
func sharedFile(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Path(t, filepath.Join("data", rel))
}

// vocabTest is one llama.cpp tokenizer test vector.
type vocabTest struct {
	text string
	ids  []int
}

// readVocabTests reads llama.cpp's test-tokenizer-0 vectors: the .inp file
// holds the texts separated by lines "__ggml_vocab_test__" (each text is
// followed by "\n__ggml_vocab_test__\n"), the .out file one line of
// space-separated ids per text.
func readVocabTests(t testing.TB, inp, out string) []vocabTest {
	t.Helper()
	in, err := os.ReadFile(inp)
	if err != nil {
		t.Fatal(err)
	}
	ou, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	texts := strings.Split(string(in), sep)
	if last := texts[len(texts)-1]; last != "" {
		t.Fatalf("%s does not end with the separator (trailing %q)", inp, last)
	}
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(ou), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%s has %d texts, %s %d lines", inp, len(texts), out, len(lines))
	}
	tests := make([]vocabTest, len(texts))
	for i, text := range texts {
		var ids []int
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s line %d: %v", out, i+1, err)
			}
			ids = append(ids, id)
		}
		tests[i] = vocabTest{text, ids}
	}
	return tests
}

var (
	loadedMu  sync.Mutex
	loadedDir = map[string]*Vocab{}
)

// loadDirOnce is LoadDir, read once per directory for the whole test
// binary (the large vocabularies take a while to parse; nothing here
// modifies a Vocab).
func loadDirOnce(dir string) (*Vocab, error) {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if v, ok := loadedDir[dir]; ok {
		return v, nil
	}
	v, err := LoadDir(dir)
	if err == nil {
		loadedDir[dir] = v
	}
	return v, err
}
