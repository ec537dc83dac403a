// Package safetensors reads and writes Hugging Face safetensors files and
// sharded safetensors checkpoints (transformers' model.safetensors.index.json
// directories) as format.Source and format.Sink. Importing it registers the
// "safetensors" format with format.Open and format.Create.
//
// # Reading
//
// Open memory-maps a file and hands out tensor bytes as slices of the
// mapping (zero copy; nothing but the header is read until a tensor is
// used). NewReader does the same over any io.ReaderAt, reading each tensor on
// demand. OpenDir opens a checkpoint directory as one Source.
//
// Validation follows the reference reader (safetensors' read_metadata and
// Metadata::validate): the header length is at most 100,000,000 bytes and
// lies within the file; the header is valid UTF-8 JSON (as strict as
// serde_json: no trailing commas, leading zeros, lone surrogates or raw
// control characters); every tensor entry has exactly dtype, shape and
// data_offsets (the published JSON schema; the reference ignores unknown
// fields, the Go port nlpodyssey/safetensors rejects them, as we do);
// __metadata__ is null or an object of strings; sorted by offset, the
// tensors tile the data section from 0 with no gap or overlap, each taking
// exactly elements × element size bytes, the last ending at the end of the
// file. Unlike the reference, which keeps the last of duplicate tensor
// names, a duplicate name is an error. Sizes are computed with overflow
// checks and no allocation exceeds what the file's size justifies.
//
// Errors wrap the format sentinels and name the file and tensor:
//
//   - format.ErrFormat: anything malformed, including a dtype name that no
//     safetensors implementation knows (the reference rejects it as invalid
//     JSON);
//   - format.ErrUnsupported: a dtype the reference knows but lorakit has no
//     DType for (F4, F6_E2M3, F6_E3M2, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
//     C64): the file is valid, lorakit cannot represent it;
//   - format.ErrNotFound: a tensor or file that is not there.
//
// # Writing
//
// Create and NewWriter write a file planned up front and streamed tensor by
// tensor, byte-identical to the reference writer given the same tensor order
// (SortLikeReference gives the reference's) and metadata order (the
// reference keeps metadata in a hash map, so its order for more than one key
// is arbitrary). CreateSharded writes model-0000k-of-0000n.safetensors
// shards and their index.
//
// The reference sample files (safetensors commit bd71d43, November 2022)
// were written before the reference writer padded the header and sorted by
// dtype: their headers are unpadded and their tensors in name order.
// Writing them back in file order with SetHeaderPadding(1) reproduces them
// byte for byte; the default padding of 8 reproduces files of safetensors
// 0.3 and later (as transformers and PEFT write them).
//
// # Why not nlpodyssey/safetensors
//
// The project's chosen library, github.com/nlpodyssey/safetensors, does not
// fit here, so this package has its own parser and writer: it parses only a
// whole file held in memory (no streaming writer, no io.ReaderAt reader),
// rejects every file holding an F8 tensor, writes scalar (shape []) and nil
// shapes in a form its own reader rejects, and with encoding/json cannot
// see duplicate names or keep the order of __metadata__. The tests use it as
// an independent oracle for the dtypes it knows.
package safetensors
