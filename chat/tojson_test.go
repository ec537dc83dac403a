package chat

import (
	"encoding/json"
	"testing"
	"time"
)

// TestToJSON checks the tojson filter against Python's json.dumps (outputs
// written by hand from Python 3's documented behaviour: ensure_ascii=False,
// float repr, indent with "," item separator).
func TestToJSON(t *testing.T) {
	for _, c := range []struct{ tmpl, data, want string }{
		{`{{ x | tojson }}`, `{"b": 1, "a": [true, null, 2.5]}`, `{"b": 1, "a": [true, null, 2.5]}`},
		{`{{ x | tojson(indent=2) }}`, `{"b": {"c": []}, "a": [1, {}]}`, "{\n  \"b\": {\n    \"c\": []\n  },\n  \"a\": [\n    1,\n    {}\n  ]\n}"},
		{`{{ x | tojson(sort_keys=true) }}`, `{"b": 1, "a": 2}`, `{"a": 2, "b": 1}`},
		{`{{ x | tojson(separators=(",", ":")) }}`, `{"a": [1, 2]}`, `{"a":[1,2]}`},
		{`{{ x | tojson }}`, `"<a & b> \"q\" \\ \n\t\u0001 é 🌍 \u2028"`, `"<a & b> \"q\" \\ \n\t\u0001 é 🌍 ` + "\u2028" + `"`},
		{`{{ x | tojson(ensure_ascii=true) }}`, `"é🌍"`, `"\u00e9\ud83c\udf0d"`},
		{`{{ x | tojson }}`, `[1.0, 1e16, 1.5e-5, 0.0001, 123456789.125, -0.0, 1e300]`, `[1.0, 1e+16, 1.5e-05, 0.0001, 123456789.125, -0.0, 1e+300]`},
		// a filter name inside a string literal or text is not a filter
		{`|tojson {{ "| tojson" }} {{ x|tojson }}`, `"s"`, `|tojson | tojson "s"`},
	} {
		tmpl, err := Parse("t", c.tmpl)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", c.tmpl, err)
		}
		got, err := tmpl.Render(Request{Vars: map[string]any{"x": json.RawMessage(c.data)}})
		if err != nil || got != c.want {
			t.Errorf("%s with x=%s = %q, %v; want %q", c.tmpl, c.data, got, err, c.want)
		}
	}
}

func TestRenameFilter(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{{ a | tojson }}`, `{{ a | X }}`},
		{`{{ a|tojson(indent=4) }}`, `{{ a|X(indent=4) }}`},
		{`{% set s = a | tojson %}`, `{% set s = a | X %}`},
		{`{{ a | tojsonx }}`, `{{ a | tojsonx }}`},
		{`{{ '|tojson' }} | tojson`, `{{ '|tojson' }} | tojson`},
		{`{# a | tojson #}{{ b | tojson }}`, `{# a | tojson #}{{ b | X }}`},
		{`{% raw %}{{ a | tojson }}{% endraw %}{{ b|tojson }}`, `{% raw %}{{ a | tojson }}{% endraw %}{{ b|X }}`},
		{`{ {{ "}}" | tojson }}`, `{ {{ "}}" | X }}`},
		{`{{ a | tojson`, `{{ a | X`},
	} {
		if got := renameFilter(c.in, "tojson", "X"); got != c.want {
			t.Errorf("renameFilter(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestStrftime: hand-checked against Python's time.strftime in the C locale.
func TestStrftime(t *testing.T) {
	at := time.Date(2024, time.July, 6, 9, 5, 3, 0, time.UTC) // a Saturday
	for _, c := range []struct{ layout, want string }{
		{"%d %b %Y", "06 Jul 2024"},
		{"%A %a %B %m %y %j", "Saturday Sat July 07 24 188"},
		{"%H:%M:%S %I %p", "09:05:03 09 AM"},
		{"%F %T %e 100%% %Q", "2024-07-06 09:05:03  6 100% %Q"},
	} {
		if got := strftime(at, c.layout); got != c.want {
			t.Errorf("strftime(%q) = %q, want %q", c.layout, got, c.want)
		}
	}
}
