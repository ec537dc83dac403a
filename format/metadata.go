package format

// Metadata is a file's key/value metadata, in file order. GGUF metadata is
// typed, so values keep their Go type, which names the GGUF value type:
//
//	uint8 int8 uint16 int16 uint32 int32 uint64 int64 float32 float64 bool string
//	[]uint8 []int8 ... []float64 []bool []string   arrays of a scalar type
//	[]any                                          an array of arrays (each element one of the slices above)
//
// safetensors' __metadata__ is a string-to-string map, so its values are all
// strings.
type Metadata []KV

// KV is one metadata entry.
type KV struct {
	Key   string
	Value any
}

// Get returns the value stored under key.
func (m Metadata) Get(key string) (any, bool) {
	for _, kv := range m {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// String returns the string stored under key ("" and false if absent or not
// a string).
func (m Metadata) String(key string) (string, bool) {
	v, ok := m.Get(key)
	s, isStr := v.(string)
	return s, ok && isStr
}

// Int returns an integer stored under key whatever its integer type.
func (m Metadata) Int(key string) (int64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns a floating-point (or integer) value stored under key.
func (m Metadata) Float(key string) (float64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := m.Int(key); ok {
		return float64(i), true
	}
	return 0, false
}

// Set replaces the value under key in place, or appends it.
func (m *Metadata) Set(key string, value any) {
	for i := range *m {
		if (*m)[i].Key == key {
			(*m)[i].Value = value
			return
		}
	}
	*m = append(*m, KV{key, value})
}

// Delete removes key if present.
func (m *Metadata) Delete(key string) {
	for i := range *m {
		if (*m)[i].Key == key {
			*m = append((*m)[:i], (*m)[i+1:]...)
			return
		}
	}
}

// Clone returns a copy of m (values are shared; they are never mutated).
func (m Metadata) Clone() Metadata { return append(Metadata(nil), m...) }
