/**
 * Run as a child process by test/api/pool.test.ts (under `nice`): builds the app, sends it one request that runs
 * in the pool, and prints the nice value of every thread of this process as JSON.
 */
import supertest from "supertest";
import { buildApp } from "../../src/app.js";
import { homework1 } from "./bodies.js";
import { threadNices } from "./threads.js";

// At nice 15 beside busy test files this process gets little of a core, and its event loop lags past the load
// shedding's second: shedding is off, as this asks only where the work runs.
const app = await buildApp({ pool: { threads: 1, offloadAboveFlops: 0 }, protection: { maxEventLoopDelayMs: 0 } });
await app.ready();
const res = await supertest(app.server).post("/v1/gradients").send(homework1);
console.log(JSON.stringify({ status: res.status, nices: threadNices() }));
await app.close();
