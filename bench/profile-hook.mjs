/**
 * Preloaded into the server by the HTTP benchmarks (`node --import ./bench/profile-hook.mjs dist/server.js`)
 * when they look inside it; without these variables it does nothing.
 *
 * - BENCH_CPU_PROFILE=file: the first SIGUSR2 starts V8's sampling CPU profiler (interval
 *   BENCH_CPU_PROFILE_US, default 500 µs), the second stops it and writes the profile (.cpuprofile JSON) to
 *   the file, so that start-up and warm-up stay out of it.
 * - BENCH_MEMORY_LOG=file: every BENCH_MEMORY_LOG_MS (default 25) ms, one JSON line of process.memoryUsage()
 *   (the main thread's heap, external memory and array buffers, and the process's RSS) with a timestamp.
 */
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

const out = process.env.BENCH_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on("SIGUSR2", async () => {
    if (!running) {
      running = true;
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: Number(process.env.BENCH_CPU_PROFILE_US ?? 500) });
      await session.post("Profiler.start");
    } else {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(`${out}.tmp`, JSON.stringify(profile));
      renameSync(`${out}.tmp`, out);
      running = false;
    }
  });
}

const memoryLog = process.env.BENCH_MEMORY_LOG;
if (memoryLog) {
  writeFileSync(memoryLog, "");
  setInterval(
    () => appendFileSync(memoryLog, `${JSON.stringify({ t: Date.now(), ...process.memoryUsage() })}\n`),
    Number(process.env.BENCH_MEMORY_LOG_MS ?? 25),
  ).unref();
}
