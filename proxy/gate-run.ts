/**
 * Asks the gate, staying synchronous when it answers synchronously (the common case). A Promise
 * means "hold": the caller does nothing upstream until it settles. A gate that throws or rejects
 * fails closed (the request is not forwarded): for a privacy tool, leaking on a bug is worse.
 */
import type { GateDecision, RequestGate, RequestHead } from '../core/gate.js';

export function runGate(gate: RequestGate, head: RequestHead, onDecision: (d: GateDecision) => void, onFailure: (err: unknown) => void): void {
  let result: GateDecision | Promise<GateDecision>;
  try {
    result = gate.decide(head);
  } catch (err: unknown) {
    return onFailure(err);
  }
  if (result && typeof (result as Promise<GateDecision>).then === 'function') {
    (result as Promise<GateDecision>).then(
      (d) => safe(onDecision, d, onFailure),
      (err: unknown) => onFailure(err),
    );
  } else {
    onDecision(result as GateDecision);
  }
}

function safe(fn: (d: GateDecision) => void, d: GateDecision, onFailure: (err: unknown) => void): void {
  try {
    fn(d);
  } catch (err: unknown) {
    onFailure(err);
  }
}
