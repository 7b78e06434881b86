// Jest only transpiles (SWC); `tsc --noEmit` type-checks once, in `npm test`, before jest runs.
const transform = { "^.+\\.tsx?$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };

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
  ],
};
