// Package imatrix reads, writes and computes importance matrices as
// llama.cpp's llama-imatrix makes them and llama-quantize uses them.
//
// An importance matrix holds, for each weight matrix W of a model (named
// as in GGUF, "blk.0.attn_q.weight"), the sum over calibration tokens of
// the squared inputs x_j² of each of W's columns j, and the number of
// tokens summed. A stack of expert matrices has one row of sums and one
// count per expert. llama-quantize divides the sums by the counts and
// hands the per-column means to ggml's quantizers as weights.
//
// Two file formats exist:
//
//   - GGUF (llama-imatrix's default since 2025): general.type = "imatrix",
//     imatrix.datasets ([]string), imatrix.chunk_count and
//     imatrix.chunk_size (uint32), and per weight two F32 tensors
//     "<weight>.in_sum2" (ne = [cols, n_mat]) and "<weight>.counts"
//     (ne = [1, n_mat]), in name order.
//   - the legacy .dat format: int32 n_entries, then per entry int32
//     name length, the name, int32 ncall, int32 nval and nval float32
//     values (the mean times ncall); then, optionally, int32 last chunk,
//     int32 dataset name length and the dataset name.
//
// Read detects the format by content; Write writes GGUF. A Collector
// accumulates the sums as a model runs (Observe takes a projection's input
// rows, ObserveExpert the rows routed to one expert of a stack), and
// Compute drives a model over calibration tokens in chunks as
// llama-imatrix does.
package imatrix
