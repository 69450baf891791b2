// Errors of the config stream, each with a stable code: logs, NACKs and the controller's
// record of them name the code, so a reader (or a test) never has to match message text.

export type SyncErrorCode =
  /** The credentials file is missing, unreadable or not a 32-byte hex key. */
  | 'SYNC_CREDENTIALS'
  /** A frame is longer than the receiver accepts. */
  | 'SYNC_FRAME_TOO_LARGE'
  /** A frame is not JSON, or not a message this protocol version knows. */
  | 'SYNC_BAD_MESSAGE'
  /** The client asked for another Gateway than the one its key belongs to. */
  | 'SYNC_GATEWAY_MISMATCH'
  /** No hello within the server's deadline. */
  | 'SYNC_HELLO_TIMEOUT'
  /** The snapshot names entries it does not carry, or its hash does not match its entries. */
  | 'SYNC_SNAPSHOT_INCONSISTENT'
  /** The assembled IR breaks an invariant the engine relies on (e.g. a route names a missing cluster). */
  | 'SYNC_SNAPSHOT_INVALID'
  /** The engine refused the IR; the previous one keeps serving. */
  | 'SYNC_APPLY_FAILED'
  /** This controller replica is not the leader: only the leader serves configs (and hears ACKs and NACKs). */
  | 'SYNC_NOT_LEADER'
  /** The server is shutting down. */
  | 'SYNC_SERVER_CLOSING';

export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly code: SyncErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The code of any error: a SyncError's own, else SYNC_APPLY_FAILED (the engine threw). */
export function codeOf(err: unknown): SyncErrorCode {
  return err instanceof SyncError ? err.code : 'SYNC_APPLY_FAILED';
}
