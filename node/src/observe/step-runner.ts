/**
 * Runs one labelled step of a long job (starting a chain, deploying, funding an account).
 * Library code takes one and runs its steps through it; the CLI passes one that draws a
 * spinner on a terminal (cli/progress.ts `withProgress`), so the libraries never render.
 *
 * @example
 * const step: StepRunner = (label, work) => withProgress(io.progress, label, work);
 * await startDevnet({ step });
 */
export type StepRunner = <T>(label: string, work: () => Promise<T>) => Promise<T>;

/** Runs the step and shows nothing. */
export const plainStep: StepRunner = (_label, work) => work();
