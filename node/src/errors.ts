/**
 * The one error type of the protolearn node. Every failure an operator or a peer can cause
 * (bad config, bad flag, malformed IPFS content, a reverted transaction) surfaces as a
 * `ProtolearnError` that says what happened (`message`) and what to do about it (`fix`).
 *
 * Subsystems subclass it with a stable `name` and a machine-readable `code`, so callers can
 * branch on the kind of failure without parsing messages.
 *
 * @example
 * throw new ProtolearnError("the config file is not valid JSON", {
 *   code: "CONFIG_INVALID",
 *   fix: "fix the syntax in ~/.protolearn/config.json or run `protolearn init` again",
 * });
 */
export class ProtolearnError extends Error {
  override name = "ProtolearnError";
  /** Stable, machine-readable kind of failure, e.g. `CODEC_BAD_MAGIC`. */
  readonly code: string;
  /** One sentence that tells the operator how to fix it. */
  readonly fix: string | undefined;

  constructor(message: string, options: { code: string; fix?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.fix = options.fix;
  }

  /** The message and the fix as one line, the way the CLI prints it. */
  toDisplayString(): string {
    return this.fix === undefined ? this.message : `${this.message} — ${this.fix}`;
  }
}
