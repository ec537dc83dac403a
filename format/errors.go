package format

import "errors"

// Sentinel errors. Every error lorakit returns about a file (or about an
// option, ErrInvalidOption) wraps one of these, together with the file (and tensor) it concerns, so callers can test
// the kind with errors.Is and still print a useful one-line message.
var (
	// ErrFormat: the file is malformed (truncated, inconsistent, hostile).
	ErrFormat = errors.New("malformed file")
	// ErrUnsupported: the input is valid but uses something lorakit does not
	// implement (a GGUF v1 file, a dtype without a codec, ...).
	ErrUnsupported = errors.New("unsupported")
	// ErrNotFound: a tensor, key or file that was asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: an output already exists and overwriting was not requested,
	// or the output would replace one of the inputs.
	ErrExists = errors.New("output exists")
	// ErrShape: shapes or sizes disagree (tensor vs. dtype, adapter vs. base).
	ErrShape = errors.New("shape mismatch")
	// ErrInvalidOption: an option given by the caller (a flag, an Options
	// field, a spec string) is out of range or inconsistent; no file is at
	// fault.
	ErrInvalidOption = errors.New("invalid option")
)
