package glue_test

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/train/glue"
)

// Read a few SST-2 rows and score predictions with the task's metric.
func Example() {
	task, err := glue.LookupTask("glue/sst2")
	if err != nil {
		panic(err)
	}
	rows, err := task.Read(strings.NewReader("sentence\tlabel\nit 's a charming journey . \t1\nunflinchingly bleak \t0\n"), "dev.tsv")
	if err != nil {
		panic(err)
	}
	scores, err := task.Score([]int{1, 1}, nil, rows)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(rows), "rows; accuracy", scores["accuracy"])
	// Output:
	// 2 rows; accuracy 0.5
}
