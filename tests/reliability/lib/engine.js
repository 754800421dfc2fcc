// Shared by the reliability scripts: a small keep-alive HTTP client for a streams-engine's REST
// API, and what they read from its data file and /proc. The engine itself is started by
// tests/support/engineprocess.js. Node's standard library only.
"use strict";

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const { basic } = require("../../support/engineprocess.js");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Authorization header of the engine's account: HTTP Basic with its SID and auth token. */
function accountAuthorization({ accountSid, authToken }) {
  return basic(accountSid, authToken);
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
async function listAllStreams(agent, port, authorization, service = "default") {
  const streams = new Map();
  let next = `/v1/Services/${service}/Streams?PageSize=100`;
  while (next) {
    const response = await request(agent, port, authorization, "GET", next);
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
  accountAuthorization,
  listAllStreams,
  percentile,
  processUsage,
  request,
  sleep,
  sqlite,
};
