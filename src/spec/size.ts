import { DEFAULT_MAXMEMORY, MAXMEMORY_SHARE_OF_MEMORY } from "./defaults";
import type { SpecProblem } from "./parse";
import { isObject } from "./values";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/**
 * Bytes in a Redis size string (`maxmemory 2gb`), with Redis's own units: k/m/g are powers of 1000 and
 * kb/mb/gb powers of 1024, case-insensitive. Returns undefined for anything Redis would not read as a size.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)([kmg]b?|b)?$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()];
}

/**
 * The default `maxmemory` for a node with `memoryBytes` of memory: DEFAULT_MAXMEMORY, or, where that is above
 * MAXMEMORY_SHARE_OF_MEMORY of the memory, that share in whole megabytes (1 GiB: "768mb"). Undefined when the default
 * fits, or when the memory is too small for any (a problem reported elsewhere).
 */
export function defaultMaxmemoryFor(memoryBytes: number): string | undefined {
  const capMb = Math.floor((MAXMEMORY_SHARE_OF_MEMORY * memoryBytes) / 2 ** 20);
  return capMb >= 1 && parseSize(DEFAULT_MAXMEMORY)! > capMb * 2 ** 20 ? `${capMb}mb` : undefined;
}

/**
 * `spec` with the default maxmemory for a node of `memoryBytes` (defaultMaxmemoryFor) when it gives none. A spec
 * whose `redis` or `redis.memory` is not an object is returned as it is, for the spec's own checks to report.
 */
export function withDefaultMaxmemory<T>(spec: T, memoryBytes: number | undefined): T {
  const capped = memoryBytes === undefined ? undefined : defaultMaxmemoryFor(memoryBytes);
  const redis: unknown = isObject(spec) ? spec.redis : undefined;
  const memory: unknown = isObject(redis) ? redis.memory : undefined;
  const objects = (spec === undefined || isObject(spec)) && (redis === undefined || isObject(redis)) && (memory === undefined || isObject(memory));
  if (capped === undefined || !objects || (isObject(memory) && memory.maxmemory !== undefined)) return spec;
  return { ...(spec as object), redis: { ...(redis as object), memory: { ...(memory as object), maxmemory: capped } } } as T;
}

/** Whose memory a node's `maxmemory` is measured against, in the words of its error. */
export interface NodeMemory {
  /** The memory, such as "the 2 GiB of instanceType t3.small". */
  readonly name: string;
  /** What happens when Redis takes more, such as "the pod would be killed before Redis evicts". */
  readonly consequence: string;
  /** The other fix besides lowering maxmemory, such as "raise resources.limits.memory". */
  readonly fix: string;
}

/**
 * The problem of a `maxmemory` above MAXMEMORY_SHARE_OF_MEMORY of a node's `memoryBytes`, at
 * `redis.memory.maxmemory` (place it under the caller's prop with prefixProblem), or undefined when it fits.
 */
export function maxmemoryProblem(maxmemory: string, memoryBytes: number, memory: NodeMemory): SpecProblem | undefined {
  if (!(memoryBytes > 0) || (parseSize(maxmemory) ?? 0) <= MAXMEMORY_SHARE_OF_MEMORY * memoryBytes) return undefined;
  return {
    path: "redis.memory.maxmemory",
    value: JSON.stringify(maxmemory),
    message: `is above ${MAXMEMORY_SHARE_OF_MEMORY * 100}% of ${memory.name}: ${memory.consequence}. Lower maxmemory, or ${memory.fix}`,
  };
}
