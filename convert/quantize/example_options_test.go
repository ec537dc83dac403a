package quantize_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
)

// The per-tensor options parse as llama-quantize's command line spells
// them: --tensor-type patterns are lower-cased regular expressions searched
// anywhere in a name, --override-kv values are typed as llama-quantize
// writes them (integers as uint32), --prune-layers lists are sorted.
func ExampleParseTensorType() {
	tt, err := quantize.ParseTensorType(`BLK\.[0-3]\.FFN_DOWN=q6_k`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tt.Pattern, tt.Type, tt.Pattern.MatchString("blk.2.ffn_down.weight"), tt.Pattern.MatchString("blk.12.ffn_down.weight"))
	kv, err := quantize.ParseOverrideKV("llama.context_length=int:-4096")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %T %v\n", kv.Key, kv.Value, kv.Value)
	prune, err := quantize.ParsePruneLayers("7,2,7")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(prune)
	opt := quantize.Options{TensorTypes: []quantize.TensorType{tt}, OverrideKV: []format.KV{kv}, PruneLayers: prune}
	fmt.Println(len(opt.TensorTypes), len(opt.OverrideKV), len(opt.PruneLayers))
	// Output:
	// blk\.[0-3]\.ffn_down Q6_K true false
	// llama.context_length uint32 4096
	// [2 7]
	// 1 1 2
}
