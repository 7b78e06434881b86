/** What a sentinel URL names: the master's name, the sentinels to ask, and whether they speak TLS. */
export interface SentinelUrlOptions {
  readonly masterName: string;
  /** Each sentinel as `host:port`, in the order clients should try them. */
  readonly sentinels: readonly string[];
  readonly tls: boolean;
}

/**
 * A client's URL for a master the sentinels manage, in the form Spoke's Redis guide gives:
 * `redis://<master name>@<sentinel>,<sentinel>,.../master/<master name>` (`rediss://` with TLS). It holds no
 * password: the client gets its user and password apart.
 */
export function renderSentinelUrl(options: SentinelUrlOptions): string {
  const scheme = options.tls ? "rediss" : "redis";
  return `${scheme}://${options.masterName}@${options.sentinels.join(",")}/master/${options.masterName}`;
}
