// Shared by the reliability scripts: a real streams-engine process on a fixed loopback port, and a
// small keep-alive HTTP client for its REST API. Node's standard library only.
"use strict";

const { spawn, execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const hex = (bytes) => crypto.randomBytes(bytes).toString("hex");

/** Fixed credentials for one run, passed through TWILIO_* so restarts keep them. */
function makeCredentials() {
  return {
    accountSid: "AC" + hex(16),
    authToken: hex(16),
    apiKeySid: "SK" + hex(16),
    apiKeySecret: hex(16),
  };
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Engine {
  constructor(binary, { dataDir, port, credentials, extraArgs = [], logFile = null } = {}) {
    this.binary = binary;
    this.dataDir = dataDir || fs.mkdtempSync(path.join(os.tmpdir(), "streams-reliability-"));
    this.ownsDataDir = !dataDir;
    this.port = port || 0;
    this.credentials = credentials || makeCredentials();
    this.extraArgs = extraArgs;
    this.logFile = logFile;
    this.child = null;
    this.output = "";
    this.exited = null;
  }

  get authorization() {
    const { accountSid, authToken } = this.credentials;
    return "Basic " + Buffer.from(`${accountSid}:${authToken}`).toString("base64");
  }

  get dbPath() {
    return path.join(this.dataDir, "streams.sqlite");
  }

  /** Starts the engine and resolves once it prints its "listening on" line. */
  async start(timeoutMs = 20000) {
    if (!this.port) this.port = await freePort();
    const deadline = Date.now() + timeoutMs;
    // Right after a kill the port can be refused for a moment while the kernel tears the old
    // socket down: retry the bind until the deadline.
    for (;;) {
      const started = await this.launch(Math.max(1000, deadline - Date.now()));
      if (started) return;
      if (Date.now() > deadline) throw new Error(`streams-engine did not start:\n${this.output}`);
      await sleep(100);
    }
  }

  launch(timeoutMs) {
    return new Promise((resolve) => {
      const env = {
        ...process.env,
        TWILIO_ACCOUNT_SID: this.credentials.accountSid,
        TWILIO_AUTH_TOKEN: this.credentials.authToken,
        TWILIO_API_KEY: this.credentials.apiKeySid,
        TWILIO_API_SECRET: this.credentials.apiKeySecret,
      };
      const args = ["--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, ...this.extraArgs];
      const child = spawn(this.binary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      this.child = child;
      this.exited = null;
      this.output = "";
      let settled = false;
      const settle = (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        settle(false);
      }, timeoutMs);
      const onData = (chunk) => {
        const text = chunk.toString();
        this.output += text;
        if (this.output.length > 65536) this.output = this.output.slice(-32768); // a long soak
        if (this.logFile) fs.appendFileSync(this.logFile, text);
        if (/listening on http:\/\//.test(this.output)) settle(true);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code, signal) => {
        this.exited = { code, signal };
        settle(false);
      });
      child.on("error", () => settle(false));
    });
  }

  get pid() {
    return this.child ? this.child.pid : 0;
  }

  running() {
    return this.child && !this.exited;
  }

  /** SIGKILL (a crash) and wait for the process to be gone. */
  kill9() {
    return this.signal("SIGKILL");
  }

  /** SIGTERM (a clean shutdown) and wait. */
  stop() {
    return this.signal("SIGTERM");
  }

  signal(name) {
    return new Promise((resolve) => {
      if (!this.running()) return resolve(this.exited);
      this.child.once("exit", (code, signal) => resolve({ code, signal }));
      this.child.kill(name);
    });
  }

  cleanup() {
    if (this.running()) this.child.kill("SIGKILL");
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** sqlite3 CLI on the engine's data file; read-only so it never checkpoints or rewrites it. */
function sqlite(dbPath, sql) {
  return execFileSync("sqlite3", ["-readonly", "-batch", dbPath, sql], {
    encoding: "utf8",
    timeout: 60000,
    maxBuffer: 1024 * 1024 * 1024,
  }).trim();
}

/**
 * One HTTP exchange over a keep-alive agent. Resolves {status, body, json, ms}; rejects on a
 * connection failure (refused, reset, timeout) with error.code set.
 */
function request(agent, port, authorization, method, pathAndQuery, form, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const body = form === undefined ? null : Buffer.from(new URLSearchParams(form).toString());
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: pathAndQuery,
        agent,
        headers: {
          Authorization: authorization,
          ...(body ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": body.length } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolve({ status: res.statusCode, body: text, json, ms, headers: res.headers });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Every stream of a service, through the list pages (PageSize 100, the maximum). */
async function listAllStreams(agent, engine, service = "default") {
  const streams = new Map();
  let next = `/v1/Services/${service}/Streams?PageSize=100`;
  while (next) {
    const response = await request(agent, engine.port, engine.authorization, "GET", next);
    if (response.status !== 200) throw new Error(`list: HTTP ${response.status} ${response.body}`);
    for (const stream of response.json.streams) streams.set(stream.sid, stream);
    const url = response.json.meta.next_page_url;
    next = url ? new URL(url).pathname + new URL(url).search : null;
  }
  return streams;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Resident set size (kB) and open descriptors of a process, from /proc. */
function processUsage(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { rssKb: rss, fds };
}

module.exports = {
  Engine,
  freePort,
  listAllStreams,
  makeCredentials,
  percentile,
  processUsage,
  request,
  sleep,
  sqlite,
};
