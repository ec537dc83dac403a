package safetensors

import (
	"encoding/binary"
	"os"

	"github.com/lorakit/lorakit/format"
)

func init() {
	format.RegisterFormat(format.Driver{
		Name:  "safetensors",
		Probe: probe,
		Open: func(path string) (format.Source, error) {
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				return OpenDir(path)
			}
			return Open(path)
		},
		Create: func(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (format.Sink, error) {
			return Create(path, infos, md, opts)
		},
	})
}

// probe recognises a safetensors file by its content, whatever its name: a
// little-endian header length that fits the file and the 100 MB limit,
// followed by a JSON object ('{' after optional whitespace). A directory is
// recognised when OpenDir would find a checkpoint in it.
func probe(path string, head []byte, isDir bool) bool {
	if isDir {
		_, _, ok := dirLayout(path)
		return ok
	}
	if len(head) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	if n < 2 || n > MaxHeaderBytes {
		return false
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 8 || uint64(st.Size()-8) < n {
		return false
	}
	for _, c := range head[8:] {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
