package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// runSizeCmd runs the size command on its own (the root registers it too).
func runSizeCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSizeCmd()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

const gpt3Config = "../../sizecalc/testdata/gpt3-175b/config.json"

// TestSizeGPT3JSON checks the JSON against the arithmetic worked out in
// sizecalc/sizecalc_test.go: 174,604,259,328 parameters, 96·2·4·24576 = 18,874,368
// trainable, fp16 weights and grads + fp32 moments = 12 bytes per trained
// parameter.
func TestSizeGPT3JSON(t *testing.T) {
	out, err := runSizeCmd(t, gpt3Config, "--rank", "4", "--targets", "q,v", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Total     int64   `json:"total_params"`
		Trainable int64   `json:"trainable_params"`
		Reduction float64 `json:"reduction"`
		Full      int64   `json:"full_ft_train_memory_bytes"`
		LoRA      int64   `json:"lora_train_memory_bytes"`
		Adapter   int64   `json:"adapter_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("size --json output %q: %v", out, err)
	}
	const total, lora = 174_604_259_328, 18_874_368
	if got.Total != total || got.Trainable != lora || got.Full != 12*total || got.LoRA != 2*total+12*lora || got.Adapter != 2*lora {
		t.Errorf("size --json = %+v, want total %d, trainable %d, memory %d/%d, adapter %d", got, total, lora, 12*total, 2*total+12*lora, 2*lora)
	}
	if r := float64(total) / lora; got.Reduction != r {
		t.Errorf("reduction = %v, want %v", got.Reduction, r)
	}
}

func TestSizeText(t *testing.T) {
	out, err := runSizeCmd(t, "../../sizecalc/testdata/gpt3-175b", "-r", "4")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"174,604,259,328 total", "18,874,368 trainable", "9,251× fewer", "36.0 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("size output lacks %q:\n%s", want, out)
		}
	}
}

func TestSizeBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"rank above width", []string{gpt3Config, "--rank", "20000"}, format.ErrInvalidOption},
		{"unknown target", []string{gpt3Config, "--targets", "q,x"}, format.ErrUnsupported},
		{"missing config", []string{"testdata/none/config.json"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runSizeCmd(t, tc.args...)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("size %v = %v, want %v", tc.args, err, tc.want)
			}
		})
	}
	var ue usageError
	if _, err := runSizeCmd(t, gpt3Config, "--dtype", "q9"); !errors.As(err, &ue) {
		t.Errorf("size --dtype q9 = %v, want a usage error", err)
	}
}
