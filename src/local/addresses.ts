/** First loopback address of a local cluster: node i listens on 127.0.0.(11 + i). */
export const LOCAL_FIRST_ADDRESS = "127.0.0.11";

/** The loopback addresses of an `n`-node local cluster that starts at `first` (default 127.0.0.11). */
export function localAddresses(n: number, first = LOCAL_FIRST_ADDRESS): string[] {
  const parts = first.split(".").map(Number);
  if (parts.length !== 4 || parts[0] !== 127 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`local clusters listen on loopback only: ${first} is not an address in 127.0.0.0/8`);
  }
  if (parts[3] + n - 1 > 254) throw new Error(`${n} nodes from ${first} run past ${parts.slice(0, 3).join(".")}.254`);
  return Array.from({ length: n }, (_, i) => [...parts.slice(0, 3), parts[3] + i].join("."));
}
