#!/usr/bin/env node
// Crash durability: several clients create streams at full speed against a real streams-engine
// while it is killed with SIGKILL at random moments and restarted on the same port and data
// directory. After every restart:
//   - every stream whose create was answered 201 exists with the same SID, unique name and
//     expiry (REST list of every stream, plus fetch by SID and by unique name for the streams
//     acknowledged in the round that was just killed);
//   - SQLite's PRAGMA integrity_check is "ok" (sqlite3 CLI, read-only, while the engine runs;
//     and while it is down on every other kill, on the file exactly as the crash left it);
//   - streams whose TTL ran out while the engine was down are gone, from the REST API and from
//     the file (the expiry sweep on start-up deleted them), and no expired row lingers.
// Prints a summary; exits 1 on any violation.
//
//   node tests/reliability/kill9.js ENGINE_BINARY [options]
//     --kills N         SIGKILLs (20)
//     --clients C       concurrent creating clients (8)
//     --min-up-ms MS    shortest time the engine runs before a kill (100)
//     --max-up-ms MS    longest (1500)
//     --max-down-ms MS  longest time it stays down (3000; TTLs of 1-2 s expire in it)
//     --seed S          random seed, to replay a run (random)
//     --json            also print the summary as one JSON line
// Needs the sqlite3 CLI (Debian package sqlite3).
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { accountAuthorization, listAllStreams, request, sleep, sqlite } = require("./lib/engine");
const { freePort, makeCredentials, startEngine } = require("../support/engineprocess.js");
const { parseArgs } = require("../support/loadclient.js");

function parseOptions(argv) {
  const options = parseArgs(argv,
    { kills: 20, clients: 8, minUpMs: 100, maxUpMs: 1500, maxDownMs: 3000, seed: null, json: false },
    { usage: "kill9.js ENGINE_BINARY [--kills N] [--clients C] ...", positional: 1 });
  options.binary = options.positional[0];
  return options;
}

// mulberry32: a small seeded generator, so a failing run can be replayed with --seed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = rng(seed);
  const between = (lo, hi) => lo + random() * (hi - lo);
  // Every start on the same port and data directory: a restart after a crash.
  const credentials = makeCredentials();
  const authorization = accountAuthorization(credentials);
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "streams-reliability-"));
  const dbPath = path.join(dataDir, "streams.sqlite");
  const start = () => startEngine(options.binary, credentials, [], { port, dataDir });
  let engine = null;
  const tag = Date.now().toString(36);

  const failures = [];
  const fail = (message) => {
    failures.push(message);
    if (failures.length <= 20) console.error(`FAIL: ${message}`);
  };

  // Everything acknowledged with 201, by SID.
  const acknowledged = new Map();
  const stats = {
    seed,
    kills: 0,
    restarts: 0,
    createsAcknowledged: 0,
    createsNoAnswer: 0,
    createsOtherStatus: 0,
    streamsVerifiedTotal: 0,
    fetchesVerified: 0,
    expiredWhileDown: 0,
    expiredWhileDownVerified: 0,
    integrityChecks: 0,
    integrityChecksWhileDown: 0,
    restartMsMax: 0,
    restartMsSum: 0,
    unacknowledgedButStored: 0,
  };
  let round = 0;
  let stopping = false;
  // Closed while a restart is being verified, so the checker reads a settled set; the load is
  // on again from the moment verification ends until the next kill.
  let gate = null;
  let openGate = null;
  const closeGate = () => {
    gate = new Promise((resolve) => (openGate = resolve));
  };
  const reopenGate = () => {
    gate = null;
    openGate();
  };

  // Clients: create streams in a loop, as fast as the engine answers. A connection failure is
  // the engine being down: nothing was promised, try again shortly.
  async function client(id) {
    let n = 0;
    while (!stopping) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (!stopping) {
        if (gate) await gate;
        ++n;
        const form = {};
        const kind = n % 4;
        if (kind !== 3) form.UniqueName = `k9-${tag}-${id}-${n}`; // every 4th is anonymous
        const ttlKind = n % 3;
        if (ttlKind === 1) form.Ttl = String(1 + (n % 2)); // 1-2 s: expires while down
        else if (ttlKind === 2) form.Ttl = "3600";
        const createdRound = round;
        let response;
        try {
          response = await request(agent, port, authorization, "POST",
            "/v1/Services/default/Streams", form, 10000);
        } catch {
          stats.createsNoAnswer++;
          break; // new agent: the old sockets belong to a dead engine
        }
        if (response.status === 201) {
          const s = response.json;
          acknowledged.set(s.sid, {
            sid: s.sid,
            uniqueName: s.unique_name,
            dateExpires: s.date_expires,
            expiresAt: s.date_expires ? Date.parse(s.date_expires) : null,
            round: createdRound,
          });
          stats.createsAcknowledged++;
        } else {
          stats.createsOtherStatus++;
          fail(`create answered ${response.status}: ${response.body}`);
        }
      }
      agent.destroy();
      await sleep(10);
    }
  }

  async function verify(killedAt, restartedAt, lastRound) {
    // Rows as stored, and the verdict of SQLite on the file.
    const integrity = sqlite(dbPath, "PRAGMA integrity_check");
    stats.integrityChecks++;
    if (integrity !== "ok") fail(`integrity_check after restart ${stats.restarts}: ${integrity}`);

    const listStartedAt = Date.now();
    const listed = await listAllStreams(new http.Agent({ keepAlive: true }), port, authorization);
    const listEndedAt = Date.now();
    const stored = new Set(sqlite(dbPath, "SELECT sid FROM streams").split("\n").filter(Boolean));
    // The expiry sweep at start-up and the timer since: nothing more than a moment past its
    // expiry may remain in the file.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const lingering = Number(sqlite(dbPath,
      `SELECT COUNT(*) FROM streams WHERE date_expires IS NOT NULL AND date_expires <= ${nowSeconds - 2}`));
    if (lingering !== 0) fail(`${lingering} expired rows still stored after restart ${stats.restarts}`);

    const toFetch = [];
    for (const stream of acknowledged.values()) {
      // Streams acknowledged since the restart are checked after the next one.
      if (stream.round > lastRound) continue;
      // Gone once its expiry second has begun; present until then. A stream expiring while the
      // list was being read may be either, so it is checked by neither.
      const expired = stream.expiresAt !== null && stream.expiresAt <= listStartedAt - 1000;
      const alive = stream.expiresAt === null || stream.expiresAt > listEndedAt + 1000;
      if (stream.expiresAt !== null && stream.expiresAt > killedAt && stream.expiresAt <= restartedAt - 1000) {
        stats.expiredWhileDown++;
        if (listed.has(stream.sid) || stored.has(stream.sid))
          fail(`stream ${stream.sid} expired while the engine was down but is still there`);
        else stats.expiredWhileDownVerified++;
      }
      if (expired) {
        if (listed.has(stream.sid)) fail(`expired stream ${stream.sid} is still listed`);
        continue;
      }
      if (!alive) continue;
      stats.streamsVerifiedTotal++;
      const found = listed.get(stream.sid);
      if (!found) {
        fail(`acknowledged stream ${stream.sid} (${stream.uniqueName}) is missing after restart ${stats.restarts} (in the file: ${stored.has(stream.sid)}, listed ${listed.size}, stored ${stored.size})`);
        continue;
      }
      if (found.unique_name !== stream.uniqueName || found.date_expires !== stream.dateExpires)
        fail(`stream ${stream.sid} changed: ${JSON.stringify(found)} vs ${JSON.stringify(stream)}`);
      if (stream.round === lastRound) toFetch.push(stream);
    }

    // The streams acknowledged just before the kill, fetched one by one, by SID and by name.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const worker = async () => {
      while (toFetch.length > 0) {
        const stream = toFetch.pop();
        const bySid = await request(agent, port, authorization, "GET",
          `/v1/Services/default/Streams/${stream.sid}`);
        if (bySid.status !== 200 || bySid.json.date_expires !== stream.dateExpires)
          fail(`fetch ${stream.sid}: ${bySid.status} ${bySid.body}`);
        if (stream.uniqueName) {
          const byName = await request(agent, port, authorization, "GET",
            `/v1/Services/default/Streams/${encodeURIComponent(stream.uniqueName)}`);
          if (byName.status !== 200 || byName.json.sid !== stream.sid)
            fail(`fetch by name ${stream.uniqueName}: ${byName.status} ${byName.body}`);
        }
        stats.fetchesVerified++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    agent.destroy();

    // Streams committed whose 201 never arrived (killed in between): allowed, and counted.
    let extra = 0;
    for (const sid of stored) if (!acknowledged.has(sid)) extra++;
    stats.unacknowledgedButStored = extra;
  }

  const runStarted = Date.now();
  try {
    engine = await start();
    const clients = Array.from({ length: options.clients }, (_, i) => client(i));
    let killedAt = 0;
    for (let kill = 1; kill <= options.kills; ++kill) {
      const upMs = between(options.minUpMs, options.maxUpMs);
      const before = stats.createsAcknowledged;
      await sleep(upMs);
      const lastRound = round;
      await engine.kill9();
      killedAt = Date.now();
      stats.kills++;
      round++;
      const roundCreates = stats.createsAcknowledged - before;
      const downMs = between(0, options.maxDownMs);
      await sleep(downMs);
      if (kill % 2 === 0) {
        // The file exactly as the crash left it (hot WAL included), before the engine recovers it.
        const integrity = sqlite(dbPath, "PRAGMA integrity_check");
        stats.integrityChecksWhileDown++;
        if (integrity !== "ok") fail(`integrity_check while down after kill ${kill}: ${integrity}`);
      }
      const restartStarted = Date.now();
      closeGate();
      engine = await start();
      const restartMs = Date.now() - restartStarted;
      stats.restarts++;
      stats.restartMsMax = Math.max(stats.restartMsMax, restartMs);
      stats.restartMsSum += restartMs;
      await verify(killedAt, restartStarted, lastRound);
      reopenGate();
      process.stdout.write(`kill ${kill}/${options.kills}: up ${Math.round(upMs)} ms, ${roundCreates} ` +
        `creates, down ${Math.round(downMs)} ms, restart ${restartMs} ms; ${acknowledged.size} ` +
        `acknowledged, ${stats.expiredWhileDown} expired while down so far\n`);
    }
    stopping = true;
    await Promise.all(clients);
    const stop = await engine.stop();
    if (stop.code !== 0) fail(`clean stop exited with ${JSON.stringify(stop)}`);
    const integrity = sqlite(dbPath, "PRAGMA integrity_check");
    stats.integrityChecks++;
    if (integrity !== "ok") fail(`integrity_check after the clean stop: ${integrity}`);
  } finally {
    stopping = true;
    if (engine) engine.killNow();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const seconds = (Date.now() - runStarted) / 1000;
  const summary = {
    ...stats,
    distinctStreamsAcknowledged: acknowledged.size,
    restartMsMean: stats.restarts ? Math.round(stats.restartMsSum / stats.restarts) : 0,
    seconds: Math.round(seconds),
    failures: failures.length,
  };
  delete summary.restartMsSum;
  console.log("\nkill -9 durability summary");
  console.log(`  seed                         ${summary.seed}`);
  console.log(`  SIGKILLs / restarts          ${summary.kills} / ${summary.restarts}`);
  console.log(`  creates acknowledged (201)   ${summary.createsAcknowledged}`);
  console.log(`  creates with no answer       ${summary.createsNoAnswer} (engine down or killed mid-request)`);
  console.log(`  committed, 201 never arrived ${summary.unacknowledgedButStored} (allowed: still stored)`);
  console.log(`  stream checks after restarts ${summary.streamsVerifiedTotal} (by list), ${summary.fetchesVerified} by SID+name`);
  console.log(`  expired while down           ${summary.expiredWhileDownVerified}/${summary.expiredWhileDown} gone after restart`);
  console.log(`  integrity_check ok           ${summary.integrityChecks - failures.filter((f) => f.startsWith("integrity")).length}/${summary.integrityChecks} running, ${summary.integrityChecksWhileDown} on the crashed file`);
  console.log(`  restart time                 mean ${summary.restartMsMean} ms, max ${summary.restartMsMax} ms`);
  console.log(`  run time                     ${summary.seconds} s`);
  console.log(`  violations                   ${summary.failures}`);
  if (options.json) console.log(JSON.stringify(summary));
  const passed = failures.length === 0 && stats.kills === options.kills;
  console.log(passed ? "kill9: PASS" : "kill9: FAIL");
  process.exit(passed ? 0 : 1);
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
