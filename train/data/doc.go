// Package data reads training and evaluation data and turns it into
// batches of token ids for the trainer.
//
// Three formats are read, each line by line with errors that name the file
// and line:
//
//   - "e2e": the E2E NLG files of microsoft/LoRA, one
//     "meaning representation||reference" per line. For evaluation,
//     GroupByPrompt gathers the references of each meaning representation.
//   - "jsonl": one {"prompt": ..., "completion": ...} object per line
//     ("context" is accepted for "prompt", as loralib's files name it).
//   - "text": plain text for language modelling; blank lines separate
//     documents.
//
// Detect guesses a file's format (extension, then "||" on its first
// line), as Load does when given none.
//
// A Builder tokenizes pairs into Examples the way loralib builds its E2E
// examples: prompt tokens, a separator, the completion's tokens (encoded
// with a leading space) and EOS, with the loss on the completion only.
// Text documents are concatenated with EOS between them and cut into
// windows of the context length, with the loss everywhere.
//
// A Batcher groups examples of similar length into batches (seeded
// shuffle, then sorting by length within windows of many batches, as
// Hugging Face's group_by_length sampler does) and MakeBatch pads them
// into (B, T) arrays with loss and padding masks. The shuffle uses the
// package's own generator (SplitMix64), so the same seed gives the same
// batches on every machine and Go version.
package data
