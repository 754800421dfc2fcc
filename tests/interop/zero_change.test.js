// Interop, zero-change mode: npm `twilio` and `twilio-cli` reach a real streams-engine with nothing
// changed but the environment `streams-engine --show-proxy-env` prints (HTTP_PROXY and
// NODE_EXTRA_CA_CERTS among it). The client code (zero_change_client.js) names no base URL, and
// twilio-cli has no way to: they ask for https://sync.twilio.com, and the engine answers inside
// the proxy tunnel.
//
// Run: node tests/interop/zero_change.test.js <path-to-streams-engine>
"use strict";

try {
  require.resolve("twilio");
} catch (error) {
  console.error("npm twilio is not installed: run npm ci --prefix tests/interop");
  process.exit(1);
}

const assert = require("node:assert/strict");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { describe, it, before, after } = require("node:test");
const { makeCredentials, startEngine } = require("../support/engineprocess.js");

const ENGINE_BINARY = process.argv[2];

/** The variables an `eval "$(streams-engine --show-proxy-env …)"` sets, as bash sets them. */
function proxyEnvironment(engine, credentials) {
  // No --listen: the running engine says where it listens.
  const script = `eval "$("$0" --show-proxy-env --data-dir "$1")" && env -0`;
  const output = execFileSync("bash", ["-c", script, ENGINE_BINARY, engine.dataDir], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TWILIO_ACCOUNT_SID: credentials.accountSid,
      TWILIO_AUTH_TOKEN: credentials.authToken,
      TWILIO_API_KEY: credentials.apiKey,
      TWILIO_API_SECRET: credentials.apiSecret,
    },
  });
  const env = {};
  for (const entry of output.toString("utf8").split("\0")) {
    const equals = entry.indexOf("=");
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

describe("npm twilio in zero-change mode", () => {
  let engine;
  let credentials;
  before(async () => {
    credentials = makeCredentials();
    engine = await startEngine(ENGINE_BINARY, credentials);
  });
  after(async () => {
    if (engine) await engine.stop();
  });

  it("runs a whole stream lifecycle against https://sync.twilio.com, answered by the engine", () => {
    const env = proxyEnvironment(engine, credentials);
    assert.equal(env.HTTP_PROXY, `http://127.0.0.1:${engine.port}`);
    assert.ok(env.NODE_EXTRA_CA_CERTS.startsWith(engine.dataDir), env.NODE_EXTRA_CA_CERTS);
    assert.equal(env.TWILIO_ACCOUNT_SID, credentials.accountSid);
    const run = spawnSync(process.execPath, [path.join(__dirname, "zero_change_client.js"), "zero-change-node"], {
      env,
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(run.status, 0, `client failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    assert.match(report.sid, /^TO[0-9a-f]{32}$/);
    assert.equal(report.url, `https://sync.twilio.com/v1/Services/${report.url.split("/")[5]}/Streams/${report.sid}`);
    assert.match(report.message, /^TZ[0-9a-f]{32}$/);
    assert.ok(report.listed.includes("zero-change-node"), JSON.stringify(report.listed));
    assert.equal(report.fetchedName, "zero-change-node");
    assert.ok(report.expires, "the TTL update set an expiry");
    assert.deepEqual(report.refused, { status: 404, code: 20404 });
    assert.equal(report.removed, true);
    // It was this engine that answered: its traffic log holds the client's requests.
    const traffic = execFileSync("curl", [
      "-sf", "-u", `${credentials.accountSid}:${credentials.authToken}`,
      `http://127.0.0.1:${engine.port}/_engine/traffic?limit=100`,
    ]).toString("utf8");
    assert.ok(traffic.includes("/v1/Services/default/Streams"), traffic.slice(0, 500));
  });

  it("refuses a tunnel to any other host, so nothing leaves the machine", () => {
    const env = proxyEnvironment(engine, credentials);
    const run = spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_connect}", "https://example.com/"], {
      env,
      encoding: "utf8",
      timeout: 20000,
    });
    // The proxy's answer to curl's CONNECT.
    assert.equal(run.stdout, "403");
  });
});

describe("twilio-cli in zero-change mode", () => {
  let engine;
  let credentials;
  let home;
  before(async () => {
    credentials = makeCredentials();
    engine = await startEngine(ENGINE_BINARY, credentials);
    home = fs.mkdtempSync(path.join(os.tmpdir(), "streams-twilio-cli-"));
  });
  after(async () => {
    if (engine) await engine.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  // twilio-cli as installed by npm ci (package.json pins it), with no profile: the printed
  // environment's TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are its credentials.
  const cli = path.join(__dirname, "node_modules", ".bin", "twilio");
  function twilioCli(env, args) {
    const run = spawnSync(cli, [...args, "-o", "json"], {
      env: { ...env, HOME: home, TWILIO_CLI_NO_UPDATE_CHECK: "1" },
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(run.status, 0, `twilio ${args.join(" ")} failed:\n${run.stderr}`);
    return run.stdout.trim() ? JSON.parse(run.stdout) : null;
  }

  it("creates, fetches, lists, updates, publishes to and removes a stream", () => {
    assert.ok(fs.existsSync(cli), `twilio-cli is not installed (${cli}): run npm ci --prefix tests/interop`);
    const env = proxyEnvironment(engine, credentials);
    const service = ["--service-sid", "default"];
    const [created] = twilioCli(env, ["api:sync:v1:services:streams:create", ...service, "--unique-name", "from-twilio-cli"]);
    assert.match(created.sid, /^TO[0-9a-f]{32}$/);
    assert.match(created.url, /^https:\/\/sync\.twilio\.com\/v1\/Services\/IS[0-9a-f]{32}\/Streams\/TO/);
    const [fetched] = twilioCli(env, ["api:sync:v1:services:streams:fetch", ...service, "--sid", created.sid,
      "--properties", "sid,uniqueName"]);
    assert.equal(fetched.uniqueName, "from-twilio-cli");
    const listed = twilioCli(env, ["api:sync:v1:services:streams:list", ...service, "--properties", "uniqueName"]);
    assert.ok(listed.some((s) => s.uniqueName === "from-twilio-cli"), JSON.stringify(listed));
    const [updated] = twilioCli(env, ["api:sync:v1:services:streams:update", ...service, "--sid", created.sid,
      "--ttl", "600", "--properties", "sid,dateExpires"]);
    assert.ok(updated.dateExpires, JSON.stringify(updated));
    const [message] = twilioCli(env, ["api:sync:v1:services:streams:messages:create", ...service,
      "--stream-sid", created.sid, "--data", JSON.stringify({ from: "twilio-cli" }), "--properties", "sid,data"]);
    assert.match(message.sid, /^TZ[0-9a-f]{32}$/);
    assert.deepEqual(message.data, { from: "twilio-cli" });
    twilioCli(env, ["api:sync:v1:services:streams:remove", ...service, "--sid", created.sid]);
    // Gone from this engine: asked directly, without the proxy.
    const status = execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
      "-u", `${credentials.accountSid}:${credentials.authToken}`,
      `http://127.0.0.1:${engine.port}/v1/Services/default/Streams/${created.sid}`]).toString("utf8");
    assert.equal(status, "404");
  });
});
