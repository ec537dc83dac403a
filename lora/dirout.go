package lora

import (
	"github.com/lorakit/lorakit/internal/atomicfile"
)

// adapterFiles are the names an adapter directory may hold; force replaces
// only a directory made of these (so a mistyped -o never deletes a folder
// of other things).
var adapterFiles = map[string]bool{
	peftConfigFile: true, peftWeightsFile: true, peftPickleFile: true, mlxWeightsFile: true,
	"README.md": true, ".gitattributes": true,
}

// writeDirAtomic builds an adapter directory atomically (see
// atomicfile.WriteDir); with force it replaces only a directory made of
// adapter files.
func writeDirAtomic(target string, force bool, fill func(dir string) error) error {
	return atomicfile.WriteDir(target, force, func(name string) bool { return adapterFiles[name] }, fill)
}
