import type { RedisSentinelConfig } from "../spec";
import { AWS_REGION, SNS_TOPIC_ARN } from "../spec/aws";

/** Where a failover notification goes, besides the journal. Every field is optional: with none, the scripts only log. */
export interface NotifyOptions {
  /**
   * Publish each event to this SNS topic with `aws sns publish` (VMs; the instance role needs `sns:Publish` on it).
   * A standard topic: a FIFO topic needs a message group id.
   * @default no SNS
   */
  readonly sns?: {
    /** `arn:aws:sns:eu-west-1:123456789012:redis-ha-events` */
    readonly topicArn: string;
    /** AWS region of the topic, such as `eu-west-1`. */
    readonly region: string;
  };
  /**
   * POST each event as JSON to this http(s) URL. It is rendered into the script text (user data, a ConfigMap): use
   * `webhookUrlFile` for a URL that carries a token (Slack, PagerDuty).
   * @default no webhook
   */
  readonly webhookUrl?: string;
  /** Read the webhook URL from this file (absolute path) each time an event is sent. Excludes `webhookUrl`. @default none */
  readonly webhookUrlFile?: string;
}

/** Journal tag (syslog identifier) of every line the scripts log: `journalctl -t redis-ha-sentinel`. */
export const NOTIFY_LOG_TAG = "redis-ha-sentinel";

/**
 * Time limits of one delivery, in seconds. Sentinel kills a script after 60 s and then runs it again (as for exit
 * code 1), so the worst case of both deliveries, one after the other, stays well below that.
 */
export const NOTIFY_TIMEOUTS = { connectSeconds: 2, webhookSeconds: 5, snsSeconds: 10 } as const;

// The URL goes into a curl config line inside double quotes: no quote, backslash, space or control character.
const WEBHOOK_URL = /^https?:\/\/[^\s"\\\x00-\x1f\x7f]+$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** Throws once with every bad option: the field, the value and the fix. */
function checkNotifyOptions(options: NotifyOptions): void {
  const problems: string[] = [];
  if (options.sns) {
    const { topicArn, region } = options.sns;
    if (!SNS_TOPIC_ARN.test(topicArn)) {
      problems.push(
        `sns.topicArn "${topicArn}" is not the ARN of a standard SNS topic. Use one such as arn:aws:sns:eu-west-1:123456789012:redis-ha-events`,
      );
    }
    if (!AWS_REGION.test(region)) problems.push(`sns.region "${region}" is not an AWS region. Use one such as eu-west-1`);
  }
  if (options.webhookUrl !== undefined && !WEBHOOK_URL.test(options.webhookUrl)) {
    problems.push(
      `webhookUrl "${options.webhookUrl}" must be an http:// or https:// URL without spaces, quotes or backslashes, such as https://alerts.example.com/redis`,
    );
  }
  if (options.webhookUrlFile !== undefined && !SAFE_PATH.test(options.webhookUrlFile)) {
    problems.push(
      `webhookUrlFile "${options.webhookUrlFile}" must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /etc/redis-ha/secret/webhook-url`,
    );
  }
  if (options.webhookUrl !== undefined && options.webhookUrlFile !== undefined) {
    problems.push("webhookUrl and webhookUrlFile are both set: keep one (webhookUrlFile for a URL that carries a token)");
  }
  if (problems.length > 0) throw new Error(`invalid notification options:\n  - ${problems.join("\n  - ")}`);
}

/** A value as one single-quoted shell word. */
const shellWord = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** What both scripts share: exit-code policy, `log`, `json` and `deliver`. */
function commonLines(config: RedisSentinelConfig, options: NotifyOptions, usage: string): string[] {
  const { connectSeconds, webhookSeconds, snsSeconds } = NOTIFY_TIMEOUTS;
  const sns = options.sns;
  const webhook = options.webhookUrl !== undefined || options.webhookUrlFile !== undefined;
  return [
    "#",
    "# Exit codes, as Sentinel reads them: 0 done, 1 run me again later (up to 10 times, 30 s to 2 h apart), 2 or",
    "# more never again (Sentinel logs -script-error). This script exits 0 when a delivery fails: the event's journal",
    "# line is written first and stays the record, a failed delivery is logged as a line of its own, and a run",
    "# again would repeat every delivery (a second page for a sink that had it) up to hours after the event.",
    "# Wrong arguments exit 2: another run gets the same arguments. Every delivery has a time limit, so that Sentinel",
    `# never kills this script (it does after 60 s, and then runs it again): ${webhookSeconds} s for the webhook, ${snsSeconds} s for SNS.`,
    "set -uo pipefail",
    "",
    `cluster=${shellWord(config.topology.masterName)}`,
    `host="\${HOSTNAME:-unknown}"`,
    "",
    "# log LINE: one line to the journal; to standard error (Sentinel's log) when logger is missing or has no /dev/log.",
    `log() { logger --socket-errors=on -p daemon.warning -t ${NOTIFY_LOG_TAG} -- "$1" 2>/dev/null || printf '%s: %s\\n' ${NOTIFY_LOG_TAG} "$1" >&2; }`,
    `usage() { log "error=usage expected=\\"${usage}\\" got=$(json "$*")"; exit 2; }`,
    "",
    "# json VALUE: VALUE as a JSON string (also used for quoted values in log lines).",
    "json() {",
    '  local s="$1"',
    "  s=\"${s//\\\\/\\\\\\\\}\"",
    "  s=\"${s//\\\"/\\\\\\\"}\"",
    "  s=\"${s//$'\\n'/\\\\n}\"",
    "  s=\"${s//$'\\r'/\\\\r}\"",
    "  s=\"${s//$'\\t'/\\\\t}\"",
    "  s=\"${s//[[:cntrl:]]/}\"",
    "  printf '\"%s\"' \"$s\"",
    "}",
    "",
    "# deliver SUBJECT JSON: the event to every configured destination; a failure is logged, never fatal.",
    "deliver() {",
    ...(sns || webhook ? [`  local reply${webhook ? " url" : ""}`] : []),
    ...(sns
      ? [
          `  if ! reply="$(timeout -k 1 ${snsSeconds} aws sns publish --region ${sns.region} --topic-arn ${sns.topicArn} \\`,
          `      --cli-connect-timeout ${connectSeconds} --cli-read-timeout ${snsSeconds} --subject "$1" --message "$2" --output text --query MessageId 2>&1)"; then`,
          `    log "delivery=sns status=failed topic=${sns.topicArn} error=$(json "$(printf '%s' "$reply" | tail -n 1)")"`,
          "  fi",
        ]
      : []),
    ...(webhook
      ? [
          ...(options.webhookUrlFile !== undefined
            ? [
                `  url="$(cat -- ${options.webhookUrlFile} 2>/dev/null)" || url=""`,
                '  case "$url" in',
                `    http://*|https://*) ;;`,
                `    *) log "delivery=webhook status=failed error=\\"cannot read an http(s) URL from ${options.webhookUrlFile}\\""; return 0 ;;`,
                "  esac",
                '  case "$url" in',
                `    *[[:space:]\\"\\\\]*) log "delivery=webhook status=failed error=\\"the URL in ${options.webhookUrlFile} holds a space, quote or backslash\\""; return 0 ;;`,
                "  esac",
              ]
            : [`  url=${shellWord(options.webhookUrl!)}`]),
          "  # The URL reaches curl through a config read from a pipe, never its arguments: it may carry a token.",
          "  reply=\"$(printf '%s' \"$2\" | curl --silent --proto =http,https --connect-timeout " +
            `${connectSeconds} --max-time ${webhookSeconds} \\`,
          "      --config <(printf 'url = \"%s\"\\n' \"$url\") --request POST --header 'Content-Type: application/json' \\",
          "      --data-binary @- --output /dev/null --write-out '%{http_code} %{errormsg}')\"",
          '  case "$reply" in',
          "    2[0-9][0-9]\\ *) ;;",
          `    "") log "delivery=webhook status=failed error=\\"curl did not run\\"" ;;`,
          `    000\\ *) log "delivery=webhook status=failed error=$(json "\${reply#000 }")" ;;`,
          `    *) log "delivery=webhook status=failed error=$(json "HTTP \${reply%% *}")" ;;`,
          "  esac",
        ]
      : []),
    ...(!sns && !webhook ? ["  : # only the journal: no SNS topic and no webhook configured"] : []),
    "  return 0",
    "}",
    "",
    'now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"',
  ];
}

/**
 * The notification script (`sentinel notification-script`): Sentinel runs it for every warning-level event with
 * `<event-type> <event-description>` (`+sdown`, `+odown`, `+switch-master`, ...). It logs one line to the journal
 * (`event=+switch-master cluster=... description="..."`, tag `redis-ha-sentinel`), then sends the event as JSON
 * to the configured SNS topic and webhook. The same text serves every node.
 */
export function renderNotificationScript(config: RedisSentinelConfig, options: NotifyOptions = {}): string {
  checkNotifyOptions(options);
  return [
    "#!/usr/bin/env bash",
    `# Notification script of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
    "# Sentinel runs it for every warning-level event: SCRIPT <event-type> <event-description>.",
    ...commonLines(config, options, "<event-type> <event-description>"),
    "",
    '[ "$#" -eq 2 ] || usage "$@"',
    'event="$1"',
    'description="$2"',
    'log "event=$event cluster=$cluster description=$(json "$description")"',
    "payload=\"{\\\"source\\\":\\\"redis-ha-sentinel\\\",\\\"kind\\\":\\\"notification\\\",\\\"cluster\\\":$(json \"$cluster\"),\\\"host\\\":$(json \"$host\"),\\\"time\\\":\\\"$now\\\",\\\"event\\\":$(json \"$event\"),\\\"description\\\":$(json \"$description\")}\"",
    'deliver "redis-ha $cluster: $event" "$payload"',
    "exit 0",
    "",
  ].join("\n");
}

/**
 * The client-reconfig script (`sentinel client-reconfig-script`): Sentinel runs it when the master changes, with
 * `<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`; the leader of the failover runs it with
 * role `leader`, every other sentinel with `observer`, so one failover gives one run per sentinel. It logs one line
 * (`event=client-reconfig ... from=IP:PORT to=IP:PORT`) and sends it as JSON like the notification script.
 */
export function renderClientReconfigScript(config: RedisSentinelConfig, options: NotifyOptions = {}): string {
  checkNotifyOptions(options);
  const usage = "<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>";
  return [
    "#!/usr/bin/env bash",
    `# Client-reconfig script of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
    `# Sentinel runs it when the master changes: SCRIPT ${usage}.`,
    ...commonLines(config, options, usage),
    "",
    '[ "$#" -eq 7 ] || usage "$@"',
    'master="$1" role="$2" state="$3" from_ip="$4" from_port="$5" to_ip="$6" to_port="$7"',
    "# The ports go into the JSON as numbers.",
    'for port in "$from_port" "$to_port"; do case "$port" in "" | *[!0-9]*) usage "$@" ;; esac; done',
    'log "event=client-reconfig cluster=$cluster master=$(json "$master") role=$role state=$state from=$from_ip:$from_port to=$to_ip:$to_port"',
    "payload=\"{\\\"source\\\":\\\"redis-ha-sentinel\\\",\\\"kind\\\":\\\"client-reconfig\\\",\\\"cluster\\\":$(json \"$cluster\"),\\\"host\\\":$(json \"$host\"),\\\"time\\\":\\\"$now\\\",\\\"master\\\":$(json \"$master\"),\\\"role\\\":$(json \"$role\"),\\\"state\\\":$(json \"$state\"),\\\"from\\\":{\\\"ip\\\":$(json \"$from_ip\"),\\\"port\\\":$from_port},\\\"to\\\":{\\\"ip\\\":$(json \"$to_ip\"),\\\"port\\\":$to_port}}\"",
    'deliver "redis-ha $cluster: new master $to_ip:$to_port" "$payload"',
    "exit 0",
    "",
  ].join("\n");
}
