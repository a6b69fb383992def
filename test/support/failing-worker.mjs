// A pool worker that fails while it starts, outside any task (test/api/pool.test.ts).
throw new Error("this worker fails as it starts");
