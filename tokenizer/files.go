package tokenizer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/lorakit/lorakit/format"
)

// maxTokenizerFile bounds the tokenizer files read whole into memory
// (Llama 3's tokenizer.json, among the largest in use, is about 9 MB).
const maxTokenizerFile = 256 << 20

// readFile reads a whole tokenizer file. A missing file wraps
// format.ErrNotFound; one over maxTokenizerFile format.ErrFormat.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tokenizer: %w: %w", err, format.ErrNotFound)
		}
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	format.MarkInput(path)
	data, err := io.ReadAll(io.LimitReader(f, maxTokenizerFile+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	if len(data) > maxTokenizerFile {
		return nil, fmt.Errorf("tokenizer: %s: larger than %d MiB, not a tokenizer file: %w", path, maxTokenizerFile>>20, format.ErrFormat)
	}
	return data, nil
}
