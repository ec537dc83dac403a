package lora

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Targets is PEFT's target_modules (or exclude_modules): absent, a list of
// module names or name suffixes, or one regular expression that must match
// the whole module name. "all-linear" is kept as the regex string it is
// written as and matches every module.
type Targets struct {
	List  []string // names or suffixes (IsRegex false)
	Regex string   // a full-match regular expression (IsRegex true)
	// IsRegex says the JSON value was a string rather than a list.
	IsRegex bool
}

// IsZero reports whether no targets are set (JSON null).
func (t Targets) IsZero() bool { return !t.IsRegex && t.List == nil }

// AllLinear is PEFT's shorthand for every linear layer but the output head.
const AllLinear = "all-linear"

// Match reports whether the module name is selected, as PEFT's
// check_target_module_exists does before it looks at layer indexes: a regex
// must match the whole name (re.fullmatch); a list entry must equal the name
// or be a dot-separated suffix of it.
func (t Targets) Match(name string) (bool, error) {
	if t.IsRegex {
		if t.Regex == AllLinear {
			return true, nil
		}
		re, err := regexp.Compile(`^(?:` + t.Regex + `)$`)
		if err != nil {
			return false, fmt.Errorf("target_modules %q is not a regular expression lorakit can run: %v: %w", t.Regex, err, format.ErrUnsupported)
		}
		return re.MatchString(name), nil
	}
	for _, k := range t.List {
		if name == k || strings.HasSuffix(name, "."+k) {
			return true, nil
		}
	}
	return false, nil
}

// Add appends name to a list of targets (a regex is turned into nothing
// new: callers check Match first).
func (t *Targets) Add(name string) {
	if t.IsRegex {
		// Widen the regex with an exact alternative for name.
		t.Regex = "(?:" + t.Regex + ")|" + regexp.QuoteMeta(name)
		return
	}
	if !slices.Contains(t.List, name) {
		t.List = append(t.List, name)
	}
}

// MarshalJSON writes null, a string or a list.
func (t Targets) MarshalJSON() ([]byte, error) {
	switch {
	case t.IsRegex:
		return json.Marshal(t.Regex)
	case t.List == nil:
		return []byte("null"), nil
	}
	return json.Marshal(t.List)
}

// UnmarshalJSON reads null, a string or a list of strings.
func (t *Targets) UnmarshalJSON(data []byte) error {
	*t = Targets{}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
	case string:
		t.Regex, t.IsRegex = x, true
	case []any:
		t.List = make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want a list of strings, found %v", e)
			}
			t.List = append(t.List, s)
		}
	default:
		return fmt.Errorf("want null, a string or a list of strings, got %s", data)
	}
	return nil
}

// Targets reports whether PEFT would put a LoRA layer on the module named
// name (relative to the base model, e.g. "transformer.h.0.attn.c_attn"):
// target_modules, then layers_to_transform / layers_pattern, then
// exclude_modules, following PEFT's check_target_module_exists.
func (c *Config) Targets(name string) (bool, error) {
	if ex, err := c.ExcludeModules.Match(name); err != nil || ex {
		return false, err
	}
	found, err := c.TargetModules.Match(name)
	if err != nil || !found {
		return false, err
	}
	if c.TargetModules.IsRegex || slices.Contains(c.TargetModules.List, name) || len(c.LayersToTransform) == 0 {
		return true, nil
	}
	idx, ok := layerIndex(name, c.LayersPattern)
	return ok && slices.Contains(c.LayersToTransform, idx), nil
}

// layerIndex finds the layer number in a module name as PEFT does: the first
// number after "<container>." (any container when patterns is empty).
func layerIndex(name string, patterns []string) (int, bool) {
	if len(patterns) == 0 {
		patterns = []string{`[^.]*`}
	}
	for _, p := range patterns {
		re, err := regexp.Compile(`^.*\.` + p + `\.(\d+)\.`)
		if err != nil {
			continue
		}
		if m := re.FindStringSubmatch(name); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
	}
	return 0, false
}
