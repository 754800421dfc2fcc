// Starts and stops a real streams-engine process for the node interop tests.
//
// The engine prints its credentials on stdout, so its stdout is parsed for the port and then
// drained, never echoed. Its stderr is kept and shown only when something goes wrong.
"use strict";

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

function hex(bytes) {
  return crypto.randomBytes(bytes).toString("hex");
}

/** Fresh credentials in the shapes Twilio uses: AC/SK + 32 lowercase hex digits. */
function makeCredentials() {
  return {
    accountSid: "AC" + hex(16),
    authToken: hex(16),
    apiKey: "SK" + hex(16),
    apiSecret: hex(16),
  };
}

/**
 * Starts `binary --listen 127.0.0.1:0 --data-dir <fresh dir> [extraArgs]` and resolves when the
 * engine reports its port. Returns {base, port, stop(), kill9(), alive(), stderr()}.
 *
 * Options: `dataDir` runs on an existing directory (a restart), which stop() and kill9() leave in
 * place; `dataDir: null` passes no --data-dir at all (for --in-memory).
 */
async function startEngine(binary, credentials, extraArgs = [], { timeoutMs = 20000, dataDir: givenDataDir } = {}) {
  if (!binary) throw new Error("no streams-engine binary given (first command-line argument)");
  if (!fs.existsSync(binary)) throw new Error(`streams-engine binary not found: ${binary}`);
  const ownsDataDir = givenDataDir === undefined;
  const dataDir = ownsDataDir ? fs.mkdtempSync(path.join(os.tmpdir(), "streams-interop-node-")) : givenDataDir;
  const removeDataDir = () => {
    if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const env = { ...process.env };
  delete env.TWILIO_EDGE;
  delete env.TWILIO_REGION;
  Object.assign(env, {
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_API_KEY: credentials.apiKey,
    TWILIO_API_SECRET: credentials.apiSecret,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  });
  const dataDirArgs = dataDir === null ? [] : ["--data-dir", dataDir];
  const child = spawn(binary, ["--listen", "127.0.0.1:0", ...dataDirArgs, ...extraArgs], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let exited = null;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const port = await new Promise((resolve, reject) => {
    let buffered = "";
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn(value);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(reject, new Error(`streams-engine did not report its port within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (done) return; // keep draining, show nothing: stdout carries secrets
      buffered += chunk;
      const match = LISTENING.exec(buffered);
      if (match) finish(resolve, Number(match[1]));
    });
    child.on("error", (error) => finish(reject, new Error(`cannot start streams-engine: ${error.message}`)));
    exitPromise.then((status) =>
      finish(reject, new Error(`streams-engine exited before listening (${JSON.stringify(status)}); stderr:\n${stderr}`)),
    );
  });

  const engine = {
    port,
    base: `http://127.0.0.1:${port}`,
    dataDir,
    alive: () => exited === null,
    stderr: () => stderr,
    /** SIGTERM, wait (then SIGKILL), remove the data dir. Resolves to the exit status. */
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      removeDataDir();
      return exited;
    },
    /** SIGKILL (a crash) and wait for the process to be gone; the data dir stays for a restart. */
    async kill9() {
      if (exited === null) child.kill("SIGKILL");
      return exitPromise;
    },
    /** Synchronous last resort for process exit handlers. */
    killNow() {
      if (exited === null) child.kill("SIGKILL");
      removeDataDir();
    },
  };
  return engine;
}

module.exports = { makeCredentials, startEngine };
