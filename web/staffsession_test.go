package web

import (
	"testing"
	"time"

	"github.com/visad/visad/domain"
)

// An address past its free failures waits, doubling; other addresses do
// not; its failures are forgotten after domain.AddressFailureMemory.
func TestAddressBackoffPerAddress(t *testing.T) {
	f := &addressFailures{seen: map[string]addressRecord{}}
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for range domain.FreeAddressFailures {
		f.fail("192.0.2.1", now)
		if w := f.wait("192.0.2.1", now); w != 0 {
			t.Fatalf("within the free failures: wait %v", w)
		}
	}
	f.fail("192.0.2.1", now)
	if w := f.wait("192.0.2.1", now); w != time.Second {
		t.Errorf("one failure past the allowance: wait %v, want 1s", w)
	}
	f.fail("192.0.2.1", now)
	if w := f.wait("192.0.2.1", now.Add(500*time.Millisecond)); w != 1500*time.Millisecond {
		t.Errorf("two past: wait %v, want 1.5s", w)
	}
	if w := f.wait("198.51.100.7", now); w != 0 {
		t.Errorf("another address waits %v", w)
	}
	later := now.Add(domain.AddressFailureMemory + time.Second)
	if w := f.wait("192.0.2.1", later); w != 0 {
		t.Errorf("after %v: wait %v", domain.AddressFailureMemory, w)
	}
	f.fail("198.51.100.7", later)
	if _, kept := f.seen["192.0.2.1"]; kept {
		t.Error("an idle address is never forgotten")
	}
}
