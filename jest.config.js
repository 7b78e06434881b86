// Jest only transpiles (ts-jest, with isolatedModules in tsconfig.json: no type-checking per file); `tsc --noEmit`
// type-checks once, in `npm test`, before jest runs.
const transform = { "^.+\\.tsx?$": ["ts-jest", { diagnostics: false }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/test/synth/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/setup-cdktf.ts"],
    },
    {
      // Real redis-server and redis-sentinel processes on loopback addresses (127.0.0.x).
      displayName: "integration",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
    },
    {
      // Real processes in network namespaces of their own on 198.18.0.0/15 (TestNetwork): Kubernetes pods as the
      // kubelet runs them, and network partitions. Needs root, iproute2 and nftables.
      displayName: "netns",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/netns/**/*.test.ts"],
    },
    // Debian 12 VMs under QEMU (test/vm): 20-30 minutes, so not in the default run. `npm run test:vm` selects it
    // with REDIS_HA_VM_TESTS=1. Needs root, qemu-system-x86, mmdebstrap, apt-cacher-ng, genisoimage, socat.
    ...(process.env.REDIS_HA_VM_TESTS
      ? [
          {
            displayName: "vm",
            testEnvironment: "node",
            transform,
            testMatch: ["<rootDir>/test/vm/**/*.test.ts"],
          },
        ]
      : []),
  ],
};
