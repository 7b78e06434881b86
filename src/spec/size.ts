import { DEFAULT_MAXMEMORY, MAXMEMORY_SHARE_OF_MEMORY } from "./defaults";

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
