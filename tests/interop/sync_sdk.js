// Shared by the node interop tests that drive npm `twilio-sync`: access tokens from npm `twilio`'s
// AccessToken + SyncGrant signed with the engine's API key, SyncClients pointed at an engine by the
// two documented options (`twilsock.uri` and `cdsUri`), and logs of the SDK's events that tests
// wait on instead of sleeping.
"use strict";

const assert = require("node:assert/strict");

const INSTALL_HINT = "run npm ci --prefix tests/interop";

/** require(name), or exit 1: a missing client is a failure, never a skip. */
function requireOrFail(name) {
  try {
    return require(name);
  } catch (error) {
    console.error(`npm ${name} is not installed: ${INSTALL_HINT}`);
    console.error(`(require('${name}') failed: ${error.message})`);
    process.exit(1);
  }
}

const nodeMajor = Number(process.versions.node.split(".")[0]);
if (nodeMajor < 20) {
  console.error(`twilio-sync 4 needs Node.js 20 or newer, found ${process.version}`);
  process.exit(1);
}

const twilio = requireOrFail("twilio");
const { SyncClient } = requireOrFail("twilio-sync");
const { AccessToken } = twilio.jwt;
const { SyncGrant } = AccessToken;

const SYNC_VERSION = require("twilio-sync/package.json").version;
const TWILSOCK_VERSION = require("twilsock/package.json").version;
const STEP_MS = 10000; // one awaited step; a hang fails here instead of blocking CI

/** Rejects with `what` when `promise` does not settle within `ms`. */
async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every emission of one event so tests can assert on history and wait for the next. */
class EventLog {
  constructor(emitter, event, label) {
    this.label = `${label} '${event}'`;
    this.events = [];
    this.wakers = new Set();
    emitter.on(event, (...args) => {
      this.events.push(args.length === 0 ? { at: Date.now() } : args[0]);
      for (const wake of [...this.wakers]) wake();
    });
  }

  /** Resolves with the first recorded event matching `predicate` (past or future). */
  waitFor(predicate = () => true, ms = STEP_MS, what = "") {
    const found = this.events.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    let wake;
    const waiting = new Promise((resolve) => {
      wake = () => {
        const match = this.events.find(predicate);
        if (match !== undefined) resolve(match);
      };
      this.wakers.add(wake);
    });
    const seen = () => JSON.stringify(this.events).slice(0, 600);
    return within(waiting, ms, `${this.label}${what ? " " + what : ""}`)
      .catch((error) => {
        throw new Error(`${error.message}; seen so far: ${seen()}`);
      })
      .finally(() => this.wakers.delete(wake));
  }

  /** Resolves once `condition()` holds, re-checked after every recorded event. */
  until(condition, ms = STEP_MS, what = "") {
    return this.waitFor(() => condition(), ms, what).then(() => undefined);
  }

  count(predicate = () => true) {
    return this.events.filter(predicate).length;
  }
}

/**
 * An access token for `credentials` (makeCredentials()' shape) with a Sync grant for
 * `grantServiceSid`. The other options make the tokens an engine must refuse.
 */
function mintToken(
  credentials,
  {
    identity,
    ttl = 3600,
    secret = credentials.apiSecret,
    keySid = credentials.apiKey,
    accountSid = credentials.accountSid,
    grantServiceSid,
    grant = true,
  },
) {
  const token = new AccessToken(accountSid, keySid, secret, { identity, ttl });
  if (grant) token.addGrant(new SyncGrant({ serviceSid: grantServiceSid }));
  return token.toJwt();
}

/**
 * A SyncClient on `engine` ({port, base}), with logs of its connection events recorded from the
 * start. The client is added to `clients` so the caller can shut every one down.
 */
function syncClient(name, token, engine, clients) {
  const client = new SyncClient(token, {
    twilsock: { uri: `ws://127.0.0.1:${engine.port}/v3/wsconnect` },
    cdsUri: engine.base,
  });
  if (clients) clients.push(client);
  // The SDK emits these asynchronously, so listeners added right after the constructor miss nothing.
  return {
    name,
    client,
    states: new EventLog(client, "connectionStateChanged", name),
    errors: new EventLog(client, "connectionError", name),
    aboutToExpire: new EventLog(client, "tokenAboutToExpire", name),
    expired: new EventLog(client, "tokenExpired", name),
  };
}

/** Resolves once `peer` (from syncClient) is connected without a connection error. */
async function connected(peer, ms = STEP_MS) {
  await peer.states.waitFor((s) => s === "connected", ms, "to reach 'connected'");
  assert.equal(peer.client.connectionState, "connected", `${peer.name}: connectionState`);
  assert.equal(peer.errors.count(), 0, `${peer.name}: connection errors: ${JSON.stringify(peer.errors.events)}`);
}

/** Waits until the SDK reports the stream's subscription established (the engine's notification). */
function established(stream, what) {
  const done = new Promise((resolve) => {
    const listener = (state) => {
      if (state === "established") {
        stream.off("_subscriptionStateChanged", listener);
        resolve();
      }
    };
    stream.onWithReplay("_subscriptionStateChanged", listener);
  });
  return within(done, STEP_MS, `${what}: subscription_established`);
}

function streamLogs(stream, label) {
  return {
    published: new EventLog(stream, "messagePublished", `${label} stream`),
    removed: new EventLog(stream, "removed", `${label} stream`),
  };
}

/** Awaits `promise`, which must reject with the SDK's SyncError carrying `status` (and `code`). */
async function expectSyncError(promise, status, code, what) {
  let error;
  try {
    const value = await within(promise, STEP_MS, what);
    assert.fail(`${what}: expected SyncError ${status}/${code}, got success: ${JSON.stringify(value && value.sid)}`);
  } catch (caught) {
    if (caught instanceof assert.AssertionError) throw caught;
    error = caught;
  }
  assert.ok(
    error.name === "SyncError" || error.name === "SyncNetworkError",
    `${what}: expected a SyncError, got ${error.name}: ${error.message}`,
  );
  assert.equal(error.status, status, `${what}: status (${error.message})`);
  if (code !== undefined) assert.equal(error.code, code, `${what}: code (${error.message})`);
  return error;
}

async function shutdown(client) {
  await within(client.shutdown(), 8000, "SyncClient.shutdown()");
  // twilio-sync 4.0.1's Subscriptions.shutdown() leaves the ttl_in_s re-poke timer armed; for the
  // ttl_in_s an engine returns (e.g. 3600 s) it would keep Node alive long after the tests end.
  const subscriptions = client.services && client.services.subscriptions;
  if (subscriptions && subscriptions.subscriptionTtlTimer) {
    clearTimeout(subscriptions.subscriptionTtlTimer);
    subscriptions.subscriptionTtlTimer = null;
  }
}

/** Shuts down every client in `clients` (emptying it); resolves to each result or Error. */
async function shutdownAll(clients) {
  return Promise.all(clients.splice(0).map((c) => shutdown(c).catch((error) => error)));
}

module.exports = {
  STEP_MS,
  SYNC_VERSION,
  TWILSOCK_VERSION,
  EventLog,
  connected,
  established,
  expectSyncError,
  mintToken,
  requireOrFail,
  shutdown,
  shutdownAll,
  streamLogs,
  syncClient,
  twilio,
  within,
};
