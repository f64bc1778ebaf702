// Package actionauth authenticates the human actions that reach a case's
// workflow as Temporal updates (decide, claim, release, provide_information,
// withdraw), end to end: the API's Temporal client signs each update with
// the action signing key (keys.ActionKeys), the worker checks the signature
// before the update is accepted. Without it, whoever reaches Temporal's
// frontend (and holds the payload keys) could act in anybody's name: the
// update validators trust the actor field they are given.
//
// The signature travels in the update's header (HeaderKey), encrypted with
// the payload codec like the arguments (Temporal sees no plaintext payload),
// and covers the actor, the workflow id, the update's
// name and id, and a digest of the arguments (keys.Action). The check runs
// in a workflow inbound interceptor's ValidateUpdate, before the workflow's
// own validators, so their policy code stays free of it. The SDK does not
// run validation when it replays a history, so histories recorded before
// signing still replay; the check is a pure function of the update, as
// workflow code must be.
package actionauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
)

// HeaderKey is the update header that carries the signature.
const HeaderKey = "visad-action-signature"

// ErrTypeNotAuthenticated is the application error type of an update refused
// because its signature is missing or wrong.
const ErrTypeNotAuthenticated = "ActionNotAuthenticated"

// signature is the header's content.
type signature struct {
	KeyID string `json:"key_id"`
	MAC   []byte `json:"mac"`
}

// Describe builds the action to sign or check from an update's arguments:
// the actor is the first argument's "actor" field (domain.Actor), the digest
// covers every argument in a canonical JSON form (see canonical).
func Describe(workflowID, updateName, updateID string, args []any) (keys.Action, error) {
	h := sha256.New()
	var actor *domain.Actor
	for i, arg := range args {
		b, err := canonical(arg)
		if err != nil {
			return keys.Action{}, fmt.Errorf("argument %d of update %q: %w", i, updateName, err)
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
		if actor == nil {
			var withActor struct {
				Actor *domain.Actor `json:"actor"`
			}
			if json.Unmarshal(b, &withActor) == nil && withActor.Actor != nil {
				actor = withActor.Actor
			}
		}
	}
	a := keys.Action{WorkflowID: workflowID, Name: updateName, UpdateID: updateID, ArgsDigest: h.Sum(nil)}
	if actor != nil {
		a.Actor = string(actor.Role) + ":" + actor.ID
	}
	return a, nil
}

// canonical is the JSON of v after one decode into v's own type: the client
// holds the value it sends, the worker the value it decoded, and both reach
// the same bytes (e.g. invalid UTF-8 is replaced once, on either side).
func canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || v == nil {
		return b, err
	}
	fresh := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(b, fresh.Interface()); err != nil {
		return nil, err
	}
	return json.Marshal(fresh.Elem().Interface())
}

// ClientInterceptor signs every update the client sends; dc encodes the
// signature (the client's data converter, with the payload codec).
func ClientInterceptor(k *keys.ActionKeys, dc converter.DataConverter) interceptor.ClientInterceptor {
	return &clientInterceptor{keys: k, dc: dc}
}

type clientInterceptor struct {
	interceptor.ClientInterceptorBase
	keys *keys.ActionKeys
	dc   converter.DataConverter
}

func (c *clientInterceptor) InterceptClient(
	next interceptor.ClientOutboundInterceptor,
) interceptor.ClientOutboundInterceptor {
	o := &clientOutbound{keys: c.keys, dc: c.dc}
	o.Next = next
	return o
}

type clientOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	keys *keys.ActionKeys
	dc   converter.DataConverter
}

func (o *clientOutbound) UpdateWorkflow(
	ctx context.Context,
	in *interceptor.ClientUpdateWorkflowInput,
) (client.WorkflowUpdateHandle, error) {
	a, err := Describe(in.WorkflowID, in.UpdateName, in.UpdateID, in.Args)
	if err != nil {
		return nil, err
	}
	id, mac := o.keys.Sign(a)
	p, err := o.dc.ToPayload(signature{KeyID: id, MAC: mac})
	if err != nil {
		return nil, err
	}
	header := interceptor.Header(ctx)
	if header == nil {
		return nil, fmt.Errorf("update %q: no header to sign", in.UpdateName)
	}
	header[HeaderKey] = p
	return o.Next.UpdateWorkflow(ctx, in)
}

// WorkerInterceptor refuses every update whose signature does not verify;
// dc decodes the signature (the worker's data converter, with the codec).
func WorkerInterceptor(k *keys.ActionKeys, dc converter.DataConverter) interceptor.WorkerInterceptor {
	return &workerInterceptor{keys: k, dc: dc}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	keys *keys.ActionKeys
	dc   converter.DataConverter
}

func (w *workerInterceptor) InterceptWorkflow(
	ctx workflow.Context,
	next interceptor.WorkflowInboundInterceptor,
) interceptor.WorkflowInboundInterceptor {
	i := &workflowInbound{keys: w.keys, dc: w.dc}
	i.Next = next
	return i
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	keys *keys.ActionKeys
	dc   converter.DataConverter
}

// ValidateUpdate checks the signature, then runs the workflow's validator.
func (i *workflowInbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	if err := i.verify(ctx, in); err != nil {
		return temporal.NewApplicationErrorWithOptions(
			"update "+in.Name+" refused: "+err.Error(),
			ErrTypeNotAuthenticated,
			temporal.ApplicationErrorOptions{NonRetryable: true},
		)
	}
	return i.Next.ValidateUpdate(ctx, in)
}

func (i *workflowInbound) verify(ctx workflow.Context, in *interceptor.UpdateInput) error {
	var sig signature
	if p := interceptor.WorkflowHeader(ctx)[HeaderKey]; p != nil {
		if err := i.dc.FromPayload(p, &sig); err != nil {
			return keys.ErrActionSignature
		}
	}
	info := workflow.GetCurrentUpdateInfo(ctx)
	if info == nil {
		return keys.ErrActionNotSigned
	}
	a, err := Describe(workflow.GetInfo(ctx).WorkflowExecution.ID, in.Name, info.ID, in.Args)
	if err != nil {
		return keys.ErrActionSignature
	}
	return i.keys.Verify(a, sig.KeyID, sig.MAC)
}
