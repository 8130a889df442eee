import type { Hex } from "viem";
import { ModelReplay, openAuditStore } from "../audit/index.js";
import type { ChainContext } from "../chain/client.js";
import { ProtolearnError } from "../errors.js";
import type { RunRecord } from "../history/index.js";
import { generateBytes } from "../model/generate.js";
import { isByteTransformer } from "../model/transformer.js";
import type { Logger } from "../observe/logger.js";

/**
 * The prompt the main job's report continues with the final language model: the salutation
 * the early State of the Union addresses open with (a held-out address may open with it too, but
 * a greedy continuation of an undertrained byte model shows what it learned, not what it read).
 */
export const SAMPLE_PROMPT = "Fellow-Citizens of the Senate and House of Representatives: ";
/** Bytes the report generates after the prompt. */
export const SAMPLE_BYTES = 160;
/** Temperature and seed of the report's seeded sample (next to the greedy one). */
export const SAMPLE_TEMPERATURE = 0.8;
export const SAMPLE_SEED = "protolearn/npm-start/sample";

/** What the report prints about the final language model. */
export interface FinalModelSample {
  /** r of M_r: the model the run's rounds so far produced (the next round's trainers start from it). */
  round: number;
  modelHash: Hex;
  /** Held-out bits per byte of M_r (the same measure validators attest on chain). */
  bitsPerByte: number;
  /** Held-out next-byte accuracy of M_r. */
  accuracy: number;
  prompt: string;
  /** Greedy continuation, decoded as UTF-8 (`printableText` escapes it for a terminal). */
  greedy: string;
  /** Seeded sample at {@link SAMPLE_TEMPERATURE}, decoded as UTF-8. */
  sampled: string;
  temperature: number;
  seed: string;
}

/** Inputs of {@link sampleFinalModel}. */
export interface SampleFinalModelOptions {
  chain: ChainContext;
  run: RunRecord;
  /** IPFS multiaddrs of the network's nodes: the accepted updates are fetched from them. */
  peers: string[];
  /** r of the model to sample, M_r (the round the network is in now, once the last one settled). */
  round: number;
  logger: Logger;
  /** @default 60 s */
  fetchTimeoutMs?: number;
}

/**
 * Replays a language-model run to M_`round` the way every node builds it (the model chain rule:
 * genesis, then each agreed round's accepted updates fetched by CID from the network's peers,
 * every M_r checked against the hash its round's committee attested), measures its held-out bits
 * per byte and continues {@link SAMPLE_PROMPT} with it, greedily and by seeded sampling. The
 * active TensorFlow.js backend must be selected first (`selectBackend`).
 *
 * @example
 * const sample = await sampleFinalModel({ chain, run: history.run(1), peers, round: 11, logger });
 */
export async function sampleFinalModel(options: SampleFinalModelOptions): Promise<FinalModelSample> {
  const ipfs = await openAuditStore({ kind: "helia", peers: options.peers }, options.logger);
  try {
    const replay = await ModelReplay.open({
      chain: options.chain,
      run: options.run,
      store: ipfs.store,
      logger: options.logger,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 60_000,
    });
    try {
      const model = replay.model;
      if (!isByteTransformer(model)) {
        throw new ProtolearnError(`run ${options.run.runId} trains ${model.spec.id}, not a byte-level language model`, {
          code: "DEVNET_NOT_LANGUAGE_MODEL",
          fix: "sample text only from a run of byte-transformer-v1 (npm start -- --model byte-transformer-v1)",
        });
      }
      const held = await replay.modelAt(options.round);
      const measured = replay.evaluate(held.params);
      const greedy = await generateBytes(model, held.params, SAMPLE_PROMPT, { maxBytes: SAMPLE_BYTES });
      const sampled = await generateBytes(model, held.params, SAMPLE_PROMPT, {
        maxBytes: SAMPLE_BYTES,
        temperature: SAMPLE_TEMPERATURE,
        seed: SAMPLE_SEED,
      });
      return {
        round: held.round,
        modelHash: held.hash,
        bitsPerByte: measured.loss,
        accuracy: measured.accuracy,
        prompt: SAMPLE_PROMPT,
        greedy: greedy.text,
        sampled: sampled.text,
        temperature: SAMPLE_TEMPERATURE,
        seed: SAMPLE_SEED,
      };
    } finally {
      await replay.close();
    }
  } finally {
    await ipfs.close();
  }
}
