import { AWS_REGION } from "../spec/aws";

/** Where the SSM Agent's installer script is placed on a VM. */
export const VM_SSM_AGENT_SCRIPT = "/usr/local/sbin/redis-ha-ssm-agent";
/** The systemd unit that runs it. */
export const SSM_AGENT_UNIT_NAME = "redis-ha-ssm-agent.service";

export interface SsmAgentOptions {
  /** The region whose bucket AWS publishes the agent in (`amazon-ssm-<region>`). */
  readonly region: string;
  /** Debian's name of the node's architecture. */
  readonly architecture: "amd64" | "arm64";
}

/** The agent's Debian package, as AWS publishes it in each region's bucket. */
export function ssmAgentPackageUrl(options: SsmAgentOptions): string {
  const { region, architecture } = options;
  // It is placed in a root script and in a URL: an AWS region's name only.
  if (!AWS_REGION.test(region)) throw new Error(`region: ${JSON.stringify(region)} is not an AWS region name (such as "eu-west-1")`);
  return `https://s3.${region}.amazonaws.com/amazon-ssm-${region}/latest/debian_${architecture}/amazon-ssm-agent.deb`;
}

/**
 * The installer of AWS's SSM Agent, the way into a node through Session Manager (no SSH key, no open port). Debian's
 * images do not ship the agent and Debian does not package it: the script downloads AWS's package from the region's
 * bucket over HTTPS (the authenticity is TLS's, the same trust as the `aws` calls for the secrets), installs it with
 * dpkg and starts the agent. An installed agent is only started. Idempotent; its unit retries it until it succeeds.
 */
export function renderSsmAgentScript(options: SsmAgentOptions): string {
  return [
    "#!/bin/bash",
    "# Written by cloud-init for cdktf-redis-sentinel: installs AWS's SSM Agent (Session Manager) on this node.",
    "set -euo pipefail",
    `url='${ssmAgentPackageUrl(options)}'`,
    "if [ \"$(dpkg-query -W -f='${Status}' amazon-ssm-agent 2> /dev/null)\" != 'install ok installed' ]; then",
    '  dir="$(mktemp -d)"',
    "  trap 'rm -rf -- \"$dir\"' EXIT",
    '  echo "redis-ha-ssm-agent: downloading $url"',
    "  # HTTPS only, redirects included; a failed download fails the unit, which tries again later.",
    '  curl --fail --silent --show-error --location --proto =https --tlsv1.2 --retry 3 --retry-delay 5 \\',
    '    --connect-timeout 20 --max-time 300 --output "$dir/amazon-ssm-agent.deb" -- "$url"',
    '  dpkg -i "$dir/amazon-ssm-agent.deb"',
    "fi",
    "systemctl enable --now amazon-ssm-agent.service",
    'echo "redis-ha-ssm-agent: amazon-ssm-agent is $(systemctl is-active amazon-ssm-agent.service)"',
    "",
  ].join("\n");
}

/**
 * The unit that runs the installer once the network is up, at every boot (once installed, the agent is only started), apart from
 * Redis and Sentinel: a node without the agent still serves. A failed run is retried every 5 minutes.
 */
export function renderSsmAgentUnit(script: string): string {
  return [
    "[Unit]",
    "Description=AWS SSM Agent for Session Manager, installed from AWS's package (cdktf-redis-sentinel)",
    "After=network-online.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${script}`,
    "Restart=on-failure",
    "RestartSec=300",
    "TimeoutStartSec=15min",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
