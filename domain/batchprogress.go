package domain

// BatchStage is how far a chamber's batch has come, as its progress bar
// shows it: every row received, then every row started (a case begun, or the
// row set aside as invalid or a duplicate), then every case decided (closed).
type BatchStage string

// Batch stages, in order.
const (
	BatchStageReceived BatchStage = "received"
	BatchStageStarting BatchStage = "starting"
	BatchStageDeciding BatchStage = "deciding"
	BatchStageDone     BatchStage = "done"
)

// BatchBar counts a batch's rows for its progress bar.
type BatchBar struct {
	Total     int // rows in the upload
	Processed int // rows the batch workflow has read
	SetAside  int // rows that became no case: invalid or duplicate
	Started   int // rows whose case's workflow started
	Decided   int // rows whose case is closed
}

// StartedPercent is the share of rows started or set aside, 0–100.
func (b BatchBar) StartedPercent() int { return percent(b.Started+b.SetAside, b.Total) }

// DecidedPercent is the share of rows decided or set aside, 0–100.
func (b BatchBar) DecidedPercent() int { return percent(b.Decided+b.SetAside, b.Total) }

// Stage is where the batch stands.
func (b BatchBar) Stage() BatchStage {
	switch {
	case b.DecidedPercent() >= 100:
		return BatchStageDone
	case b.StartedPercent() >= 100:
		return BatchStageDeciding
	case b.Processed > 0:
		return BatchStageStarting
	}
	return BatchStageReceived
}

// percent rounds down, so 100 means all; nothing to do is all done.
func percent(n, total int) int {
	if total <= 0 {
		return 100
	}
	n = max(0, min(n, total))
	return n * 100 / total
}
