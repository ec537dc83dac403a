package lora

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/lorakit/lorakit/format"
)

// Pattern is a PEFT rank_pattern or alpha_pattern: an ordered map from a
// module-name pattern to a value. Order matters: PEFT takes the first key
// (in the JSON object's order) that matches, so a Pattern keeps the order in
// which its entries were read or added.
type Pattern struct {
	entries []PatternEntry
	res     []*regexp.Regexp // compiled lazily, parallel to entries
}

// PatternEntry is one key of a Pattern. Key is a Python regular expression
// fragment, matched as PEFT's get_pattern_key does (see Pattern.Lookup).
type PatternEntry struct {
	Key   string
	Value float64
}

// Entries returns the pattern's entries in order.
func (p *Pattern) Entries() []PatternEntry { return p.entries }

// Len is the number of entries.
func (p *Pattern) Len() int { return len(p.entries) }

// Set replaces the value of key, or appends key at the end.
func (p *Pattern) Set(key string, value float64) {
	for i := range p.entries {
		if p.entries[i].Key == key {
			p.entries[i].Value = value
			return
		}
	}
	p.entries = append(p.entries, PatternEntry{key, value})
	p.res = nil
}

// Prepend puts key first (so it wins over every existing key), removing any
// earlier entry with the same key.
func (p *Pattern) Prepend(key string, value float64) {
	out := []PatternEntry{{key, value}}
	for _, e := range p.entries {
		if e.Key != key {
			out = append(out, e)
		}
	}
	p.entries, p.res = out, nil
}

// compile builds the matchers. A key RE2 cannot compile (look-arounds,
// back-references) is an error wrapping format.ErrUnsupported.
func (p *Pattern) compile() error {
	if p.res != nil || len(p.entries) == 0 {
		return nil
	}
	res := make([]*regexp.Regexp, len(p.entries))
	for i, e := range p.entries {
		re, err := patternRegexp(e.Key)
		if err != nil {
			return err
		}
		res[i] = re
	}
	p.res = res
	return nil
}

// patternRegexp is PEFT's get_pattern_key test: re.match(rf"(.*\.)?({key})$",
// name), i.e. the whole name is the key, or ends with "." followed by the key,
// the key being a regular expression.
func patternRegexp(key string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:.*\.)?(?:` + key + `)$`)
	if err != nil {
		return nil, fmt.Errorf("pattern key %q is not a regular expression lorakit can run: %v: %w", key, err, format.ErrUnsupported)
	}
	return re, nil
}

// Lookup returns the value of the first key that matches the module name, as
// PEFT's get_pattern_key does: keys are tried in order and a key matches
// when re.match(rf"(.*\.)?({key})$", name) succeeds, so "q_proj" matches
// "model.layers.0.self_attn.q_proj" and "layers.0.self_attn.q_proj" matches
// only layer 0's. ok is false when no key matches.
func (p *Pattern) Lookup(name string) (value float64, ok bool, err error) {
	if err := p.compile(); err != nil {
		return 0, false, err
	}
	for i, re := range p.res {
		if re.MatchString(name) {
			return p.entries[i].Value, true, nil
		}
	}
	return 0, false, nil
}

// MarshalJSON writes the pattern as a JSON object in entry order; integral
// values are written as integers.
func (p Pattern) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, e := range p.entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(number(e.Value))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a JSON object of numbers (or null, an empty pattern),
// keeping the keys' order. Duplicate keys keep the last value at the first
// position, as Python's json module does.
func (p *Pattern) UnmarshalJSON(data []byte) error {
	*p = Pattern{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object of numbers, got %v", tok)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		n, ok := vt.(json.Number)
		if !ok {
			return fmt.Errorf("pattern %q: want a number, got %v", key, vt)
		}
		v, err := n.Float64()
		if err != nil {
			return fmt.Errorf("pattern %q: %v", key, err)
		}
		p.Set(key, v)
	}
	_, err = dec.Token() // '}'
	return err
}

// number formats v as JSON: an integer when v is integral and not huge
// (Python writes r and integral alphas as ints), otherwise the shortest float.
func number(v float64) []byte {
	if v == float64(int64(v)) && v > -1e15 && v < 1e15 {
		return fmt.Appendf(nil, "%d", int64(v))
	}
	b, err := json.Marshal(v)
	if err != nil { // NaN or Inf: not representable in JSON
		return []byte("null")
	}
	return b
}
