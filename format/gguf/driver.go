package gguf

import (
	"bytes"

	"github.com/lorakit/lorakit/format"
)

func init() {
	format.RegisterFormat(format.Driver{
		Name: "gguf",
		Probe: func(_ string, head []byte, isDir bool) bool {
			return !isDir && bytes.HasPrefix(head, []byte(Magic))
		},
		Open: func(path string) (format.Source, error) {
			r, err := Open(path)
			if err != nil {
				return nil, err // a nil *Reader must not become a non-nil Source
			}
			return r, nil
		},
		Create: func(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (format.Sink, error) {
			w, err := Create(path, infos, md, opts)
			if err != nil {
				return nil, err
			}
			return w, nil
		},
	})
}
