package domain

import "testing"

func TestBatchBar(t *testing.T) {
	for _, tc := range []struct {
		name             string
		bar              BatchBar
		started, decided int
		stage            BatchStage
	}{
		{"just received", BatchBar{Total: 1000}, 0, 0, BatchStageReceived},
		{"reading rows", BatchBar{Total: 1000, Processed: 10, Started: 3}, 0, 0, BatchStageStarting},
		{"one short of started", BatchBar{Total: 1000, Processed: 1000, Started: 990, SetAside: 9}, 99, 0,
			BatchStageStarting},
		{"all started or set aside", BatchBar{Total: 1000, Processed: 1000, Started: 990, SetAside: 10, Decided: 500},
			100, 51, BatchStageDeciding},
		{"all decided", BatchBar{Total: 1000, Processed: 1000, Started: 990, SetAside: 10, Decided: 990}, 100, 100,
			BatchStageDone},
		{"empty batch", BatchBar{}, 100, 100, BatchStageDone},
		{"counts over the total stay at 100", BatchBar{Total: 2, Processed: 2, Started: 3, Decided: 3}, 100, 100,
			BatchStageDone},
	} {
		if got := tc.bar.StartedPercent(); got != tc.started {
			t.Errorf("%s: started %d%%, want %d%%", tc.name, got, tc.started)
		}
		if got := tc.bar.DecidedPercent(); got != tc.decided {
			t.Errorf("%s: decided %d%%, want %d%%", tc.name, got, tc.decided)
		}
		if got := tc.bar.Stage(); got != tc.stage {
			t.Errorf("%s: stage %s, want %s", tc.name, got, tc.stage)
		}
	}
}
