import { defineConfig } from "vitest/config";

// Four projects: `unit` (pure logic, beside the code), `integration` (real services
// started by test/services on 127.0.0.1), `e2e` (through the real kube-apiserver, kwok node),
// `node` (real pods on a real kubelet: needs root, see test/cluster/README.md).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "{cli,core,webhook,agent,console,certs,install-check}/**/*.test.ts",
            "test/unit/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.e2e.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.node.test.ts"],
          globalSetup: ["test/node/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
