package domain

import (
	"errors"
	"strings"
	"testing"
)

// Issue 12, defect 8: messages and pointers that say what is true.

// A ragged row is pointed at by its record number, not its physical line: an
// earlier field with a quoted line break spans two lines.
func TestRaggedRowPointerCountsRecords(t *testing.T) {
	header := strings.Join(RequiredBatchColumns, ",")
	full := func(first string) string {
		return first + strings.Repeat(",x", len(RequiredBatchColumns)-1)
	}
	csv := header + "\n" + full(`"two`+"\n"+`lines"`) + "\n\n" + full("ok") + "\nshort,row\n"
	_, err := ParseBatchCSV([]byte(csv), 10)
	var fe *BatchFormatError
	if !errors.As(err, &fe) || fe.Code != "ragged_row" {
		t.Fatalf("err %v, want ragged_row", err)
	}
	if fe.Row != 3 {
		t.Errorf("ragged row pointer %d, want row 3 (the third record; it starts on line 6)", fe.Row)
	}
	if !strings.Contains(fe.Message, "row 3") {
		t.Errorf("message %q does not name row 3", fe.Message)
	}
}

// A roster's problems speak of the roster, not of a batch.
func TestRosterErrorsSayRoster(t *testing.T) {
	header := strings.Join(RosterColumns, ",")
	for name, body := range map[string]string{
		"empty":       "  ",
		"not text":    "\xff\xfe",
		"header only": header + "\n",
		"no header":   "",
		"too many":    header + strings.Repeat("\n"+strings.Repeat("x,", len(RosterColumns)-1)+"x", MaxRosterRows+1),
	} {
		_, err := ParseRosterCSV([]byte(body))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "batch") || !strings.Contains(msg, "roster") {
			t.Errorf("%s: %q, want a message about the roster", name, msg)
		}
	}
}

// An answer that is too long is too_long, not required.
func TestCheckAnswerCodes(t *testing.T) {
	if errs := CheckAnswer(strings.Repeat("a", MaxAnswerLength+1)); len(errs) != 1 || errs[0].Code != CodeTooLong {
		t.Errorf("answer of %d characters: %+v, want one %s", MaxAnswerLength+1, errs, CodeTooLong)
	}
	if errs := CheckAnswer(" "); len(errs) != 1 || errs[0].Code != CodeRequired {
		t.Errorf("blank answer: %+v, want one %s", errs, CodeRequired)
	}
}
