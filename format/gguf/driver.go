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
		Open: OpenModel,
		Create: func(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (format.Sink, error) {
			if opts.Split.Enabled() {
				return CreateSplit(path, infos, md, opts)
			}
			w, err := Create(path, infos, md, opts)
			if err != nil {
				return nil, err
			}
			return w, nil
		},
		Splits: true,
	})
}
