import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // The README and browser tests start a real server; the rest build the app in-process.
    pool: "forks",
  },
});
