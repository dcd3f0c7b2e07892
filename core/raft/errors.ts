// Errors the Raft module reports to its caller.

/** A proposal (or conf change) was not accepted; the caller may retry later, elsewhere. */
export class ProposalDroppedError extends Error {
  constructor(reason = "raft proposal dropped") {
    super(reason);
    this.name = "ProposalDroppedError";
  }
}

/** A local-only message type (MsgHup, MsgBeat, ...) arrived through step(). */
export class StepLocalMessageError extends Error {
  constructor(type: string) {
    super(`raft: cannot step local message ${type} received from the network`);
    this.name = "StepLocalMessageError";
  }
}
