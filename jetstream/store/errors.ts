// Typed store errors. Callers branch on the class (or `code`), never on message text; the texts
// that reach clients (discard-new limits) match nats-server's.

export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The database of one stream is damaged: torn, truncated, bytes flipped, or not ours. */
export class StoreCorruptError extends StoreError {
  constructor(
    readonly account: string,
    readonly stream: string,
    readonly path: string,
    readonly detail: string,
    cause?: unknown,
  ) {
    super("STORE_CORRUPT", `stream ${JSON.stringify(stream)} (account ${JSON.stringify(account)}): corrupt store ${path}: ${detail}`, {
      cause,
    });
  }
}

/** Opening failed for a reason other than corruption (permissions, missing file, ...). */
export class StoreOpenError extends StoreError {
  constructor(
    readonly account: string,
    readonly stream: string,
    readonly path: string,
    detail: string,
    cause?: unknown,
  ) {
    super("STORE_OPEN", `stream ${JSON.stringify(stream)}: cannot open store ${path}: ${detail}`, { cause });
  }
}

export class StoreClosedError extends StoreError {
  constructor(readonly stream: string) {
    super("STORE_CLOSED", `stream ${JSON.stringify(stream)}: store is closed`);
  }
}

/**
 * A commit (or a write whose failure aborted the transaction) failed; the in-memory state can no
 * longer be trusted to match the disk, so the store refuses further use until reopened.
 */
export class StoreFailedError extends StoreError {
  constructor(
    readonly stream: string,
    cause: unknown,
  ) {
    super("STORE_FAILED", `stream ${JSON.stringify(stream)}: store failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }
}

export class SequenceMismatchError extends StoreError {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super("SEQUENCE_MISMATCH", `expected sequence ${expected} does not match store (got ${got})`);
  }
}

export type DiscardLimit = "msgs" | "bytes" | "msgs_per_subject";

const DISCARD_TEXT: Record<DiscardLimit, string> = {
  msgs: "maximum messages exceeded",
  bytes: "maximum bytes exceeded",
  msgs_per_subject: "maximum messages per subject exceeded",
};

/** discard: new refused the message; the message text is nats-server's (err_code 10077). */
export class DiscardNewError extends StoreError {
  constructor(readonly limit: DiscardLimit) {
    super("DISCARD_NEW", DISCARD_TEXT[limit]);
  }
}

export class PurgeArgError extends StoreError {
  constructor() {
    super("PURGE_ARGS", "sequence > 1 && keep > 0 not allowed");
  }
}

export class StreamExistsError extends StoreError {
  constructor(
    readonly account: string,
    readonly stream: string,
  ) {
    super("STREAM_EXISTS", `stream ${JSON.stringify(stream)} already exists in account ${JSON.stringify(account)}`);
  }
}

export class StreamNotFoundError extends StoreError {
  constructor(
    readonly account: string,
    readonly stream: string,
  ) {
    super("STREAM_NOT_FOUND", `stream ${JSON.stringify(stream)} not found in account ${JSON.stringify(account)}`);
  }
}

export class ConsumerExistsError extends StoreError {
  constructor(
    readonly stream: string,
    readonly consumer: string,
  ) {
    super("CONSUMER_EXISTS", `consumer ${JSON.stringify(consumer)} already exists on stream ${JSON.stringify(stream)}`);
  }
}

export class NoAckPolicyError extends StoreError {
  constructor() {
    super("NO_ACK_POLICY", "ack policy is none");
  }
}

export class InvalidConsumerStateError extends StoreError {
  constructor(detail: string) {
    super("INVALID_CONSUMER_STATE", detail);
  }
}

export class InvalidArgumentError extends StoreError {
  constructor(detail: string) {
    super("INVALID_ARGUMENT", detail);
  }
}
