// Starts and stops real streams-engine processes for the Node scripts: the interop tests
// (tests/interop/*.test.js), tests/bench/twilsock_fanout.js and the reliability scripts
// (tests/reliability/kill9.js, soak.js). Node's standard library only.
//
//   makeCredentials()      fresh TWILIO_* credentials for one run
//   basic(user, password)  an HTTP Basic Authorization header value
//   freePort()             a free loopback port, for an engine restarted on the same one
//   loopbackEnvironment()  no Twilio edge or region, no proxy for loopback: for a test's clients
//   startEngine(...)       a running engine: {port, base, dataDir, pid, alive(), stderr(), stop(),
//                          kill9(), killNow()}
//
// The engine prints its credentials on stdout, so its stdout is parsed for the port and then
// drained: never kept, echoed or logged. Its stderr is kept and shown only when something goes
// wrong.
"use strict";

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const STDERR_KEPT = 65536; // a long soak: only the last of it

const hex = (bytes) => crypto.randomBytes(bytes).toString("hex");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fresh credentials in the shapes Twilio uses: AC/SK + 32 lowercase hex digits. */
function makeCredentials() {
  return {
    accountSid: "AC" + hex(16),
    authToken: hex(16),
    apiKey: "SK" + hex(16),
    apiSecret: hex(16),
  };
}

/** An HTTP Basic Authorization header value. */
function basic(username, password) {
  return "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
}

/** A free loopback port (released again; the engine binds it next). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `env` (changed in place, and returned) as the engine and the clients of a test run with it: no
 * Twilio edge or region (which would rewrite the clients' URLs), no proxy for loopback.
 */
function loopbackEnvironment(env) {
  delete env.TWILIO_EDGE;
  delete env.TWILIO_REGION;
  env.NO_PROXY = "127.0.0.1,localhost";
  env.no_proxy = "127.0.0.1,localhost";
  return env;
}

/** The engine's environment: these credentials, as loopbackEnvironment() otherwise. */
function engineEnvironment(credentials) {
  return Object.assign(loopbackEnvironment({ ...process.env }), {
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_API_KEY: credentials.apiKey,
    TWILIO_API_SECRET: credentials.apiSecret,
  });
}

/**
 * One engine process. Resolves once it reports its port to {child, port, stderr, exited,
 * exitPromise}, kept up to date; rejects (with its stderr) when it exits first, cannot be
 * spawned, or is still silent after `timeoutMs` (then it is killed).
 */
function spawnEngine(binary, args, env, timeoutMs) {
  const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const state = { child, stderr: "", exited: null };
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    state.stderr += chunk;
    if (state.stderr.length > 2 * STDERR_KEPT) state.stderr = state.stderr.slice(-STDERR_KEPT);
  });
  state.exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      state.exited = { code, signal };
      resolve(state.exited);
    });
  });

  return new Promise((resolve, reject) => {
    let buffered = "";
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      buffered = "";
      fn(value);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(reject, new Error(`streams-engine did not report its port within ${timeoutMs} ms; stderr:\n${state.stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (done) return; // keep draining, keep nothing: stdout carries secrets
      buffered += chunk;
      const match = LISTENING.exec(buffered);
      if (!match) return;
      state.port = Number(match[1]);
      finish(resolve, state);
    });
    child.on("error", (error) => finish(reject, new Error(`cannot start streams-engine: ${error.message}`)));
    state.exitPromise.then((status) =>
      finish(reject, new Error(`streams-engine exited before listening (${JSON.stringify(status)}); stderr:\n${state.stderr}`)),
    );
  });
}

/**
 * Starts `binary --listen 127.0.0.1:<port> --data-dir <dir> [extraArgs]` with `credentials` in
 * TWILIO_* and resolves when the engine reports its port. Returns {port, base, dataDir, pid,
 * alive(), stderr(), stop(), kill9(), killNow()}.
 *
 * Options: `port` listens on that port (a restart), retrying until `timeoutMs` while the old
 * socket is torn down; `dataDir` runs on an existing directory (a restart), which stop() and
 * kill9() leave in place; `dataDir: null` passes no --data-dir at all (for --in-memory). Without
 * `dataDir` the engine gets a fresh one that stop() and killNow() remove.
 */
async function startEngine(binary, credentials, extraArgs = [], { timeoutMs = 20000, port = 0, dataDir: givenDataDir } = {}) {
  if (!binary) throw new Error("no streams-engine binary given (first command-line argument)");
  if (!fs.existsSync(binary)) throw new Error(`streams-engine binary not found: ${binary}`);
  const ownsDataDir = givenDataDir === undefined;
  const dataDir = ownsDataDir ? fs.mkdtempSync(path.join(os.tmpdir(), "streams-engine-node-")) : givenDataDir;
  const removeDataDir = () => {
    if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const dataDirArgs = dataDir === null ? [] : ["--data-dir", dataDir];
  const args = ["--listen", `127.0.0.1:${port}`, ...dataDirArgs, ...extraArgs];
  const env = engineEnvironment(credentials);

  // Right after a kill a fixed port can be refused for a moment while the kernel tears the old
  // socket down: retry the bind until the deadline.
  const deadline = Date.now() + timeoutMs;
  let started;
  for (;;) {
    try {
      started = await spawnEngine(binary, args, env, Math.max(1000, deadline - Date.now()));
      break;
    } catch (error) {
      if (!port || Date.now() >= deadline) {
        removeDataDir();
        throw error;
      }
      await sleep(100);
    }
  }

  const { child, exitPromise } = started;
  return {
    port: started.port,
    base: `http://127.0.0.1:${started.port}`,
    dataDir,
    pid: child.pid,
    alive: () => started.exited === null,
    stderr: () => started.stderr,
    /** SIGTERM, wait (then SIGKILL after 10 s), remove an own data dir. Resolves to the exit status. */
    async stop() {
      if (started.exited === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      removeDataDir();
      return started.exited;
    },
    /** SIGKILL (a crash) and wait for the process to be gone; the data dir stays for a restart. */
    async kill9() {
      if (started.exited === null) child.kill("SIGKILL");
      return exitPromise;
    },
    /** Synchronous last resort for process exit handlers and `finally` blocks. */
    killNow() {
      if (started.exited === null) child.kill("SIGKILL");
      removeDataDir();
    },
  };
}

module.exports = { basic, freePort, loopbackEnvironment, makeCredentials, startEngine };
