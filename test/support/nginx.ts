import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, terminate } from "./server.js";

/** Debian's nginx (`apt-get install nginx`), the binary the scale-out test runs. */
export const NGINX = "/usr/sbin/nginx";

const deployDir = resolve("deploy/nginx");

/** Replaces the one match of `pattern` in `text`, and fails loudly if there is not exactly one. */
function replaceOnce(text: string, pattern: RegExp, replacement: (m: RegExpExecArray) => string): string {
  const all = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`))];
  if (all.length !== 1) {
    throw new Error(`deploy/nginx/gradserve.conf: expected one match of ${pattern}, found ${all.length}`);
  }
  const m = all[0] as RegExpExecArray;
  return text.slice(0, m.index) + replacement(m) + text.slice(m.index + m[0].length);
}

/**
 * The compose wrapper deploy/nginx/gradserve.conf made runnable on loopback: the same file with only the
 * compose-specific parts swapped. `server api:3000 resolve PARAMS;` becomes one `server 127.0.0.1:PORT
 * PARAMS;` per instance (same max_fails/fail_timeout; `resolve` is for Docker's DNS), `listen 80` becomes a
 * loopback port, the include folder is deploy/nginx in the repository, and the access log goes to `accessLog`.
 */
export function loopbackConfig(upstreams: readonly string[], port: number, accessLog: string): string {
  let conf = readFileSync(join(deployDir, "gradserve.conf"), "utf8");
  conf = replaceOnce(conf, /^(\s*)server api:3000 resolve ([^;]*);/m, (m) =>
    upstreams.map((hostPort) => `${m[1]}server ${hostPort} ${m[2]};`).join(""),
  );
  conf = replaceOnce(conf, /^(\s*)listen 80;/m, (m) => `${m[1]}listen 127.0.0.1:${port};`);
  conf = replaceOnce(
    conf,
    /^(\s*)access_log \/var\/log\/nginx\/access\.log gradserve;/m,
    (m) => `${m[1]}access_log ${accessLog} gradserve;`,
  );
  conf = replaceOnce(
    conf,
    /^(\s*)include \/etc\/nginx\/gradserve\/proxy\.conf;/m,
    (m) => `${m[1]}include ${join(deployDir, "proxy.conf")};`,
  );
  return conf;
}

export interface RunningNginx {
  readonly process: ChildProcess;
  readonly origin: string;
  readonly dir: string;
  /** The access log's JSON lines (log_format gradserve), parsed. */
  readonly accessLog: () => AccessLogLine[];
  readonly output: () => string;
  /** Fast shutdown (SIGTERM: the master stops its workers), then removes the temporary folder. */
  readonly stop: () => Promise<void>;
}

export interface AccessLogLine {
  readonly msec: number;
  readonly reqId: string;
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  /** Every instance tried, in order ("127.0.0.1:1, 127.0.0.1:2"). */
  readonly upstream: string;
  readonly upstreamStatus: string;
}

/**
 * Runs nginx in the foreground on a free loopback port with the shipped configuration in front of
 * `upstreams` ("127.0.0.1:PORT"), every path it writes inside a temporary folder, and waits for /nginx-health.
 */
export async function startNginx(upstreams: readonly string[]): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), "gradserve-nginx-"));
  // Run as root, nginx's workers switch to `nobody`, and they write the temporary body files.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const accessLog = join(dir, "access.log");
  const main = [
    "worker_processes 1;",
    "events { worker_connections 512; }",
    "http {",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    loopbackConfig(upstreams, port, accessLog),
    "}",
    "",
  ].join("\n");
  const confPath = join(dir, "nginx.conf");
  writeFileSync(confPath, main);
  const globals = `daemon off; pid ${join(dir, "nginx.pid")}; error_log ${join(dir, "error.log")} notice;`;
  let output = "";
  const child = spawn(NGINX, ["-p", dir, "-c", confPath, "-g", globals], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const origin = `http://127.0.0.1:${port}`;
  const errors = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${origin}/nginx-health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      const message = `nginx did not start:\n${output}\n${errors()}\n${main}`;
      await stop(child, dir);
      throw new Error(message);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    origin,
    dir,
    accessLog: () =>
      readFileSync(accessLog, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as AccessLogLine),
    output: () => `${output}${errors()}`,
    stop: () => stop(child, dir),
  };
}

/** Fast shutdown: SIGTERM makes the master stop its workers and exit (SIGKILL would orphan the workers). */
async function stop(child: ChildProcess, dir: string): Promise<void> {
  await terminate(child, 5_000);
  rmSync(dir, { recursive: true, force: true });
}
