package domain

import (
	"reflect"
	"strconv"
	"testing"
)

func TestBatchDuplicates(t *testing.T) {
	csv := "passport_issuing_country,passport_number,surname,product\n" +
		"KZ,N1000001,ABENOV,business_2y\n" +
		"KZ,N1000002,SMITH,business_2y\n" +
		"KZ,N1000003,JONES,business_2y\n" +
		"kz, n1000003 ,OTHER,business_2y\n" + // row 3's passport, written otherwise: a duplicate
		"DE,N1000001,MUELLER,business_2y\n" + // same number, another country: another passport
		"KZ,,EMPTY,business_2y\n" + // no number: left to the required-field rule
		"KZ,,EMPTY,business_2y\n" +
		"KZ,N1000001,ABENOV,business_5y_multi\n" // row 1's passport again, another product
	rows, err := parseCSVTable("batch", []byte(csv), BatchColumns,
		[]string{"passport_issuing_country", "passport_number"}, 50)
	if err != nil {
		t.Fatal(err)
	}
	got := BatchDuplicates(rows)
	dup := func(first int) FieldError {
		return FieldError{Pointer: "/passport_number", Column: "passport_number", Code: CodeDuplicateInBatch,
			Detail: "repeats the passport of row " + strconv.Itoa(first) + " of this batch"}
	}
	want := map[int]FieldError{4: dup(3), 8: dup(1)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BatchDuplicates\n got %+v\nwant %+v", got, want)
	}
}
