package workflows

import "go.temporal.io/sdk/worker"

// Register registers every workflow of visad on a worker (or a replayer).
// Each one needs a recorded history in testdata/ (docs/replay.md): a test
// fails for a workflow registered here without one.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(ApplicationWorkflow)
	r.RegisterWorkflow(BatchWorkflow)
}
