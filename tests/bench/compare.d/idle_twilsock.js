#!/usr/bin/env node
// Opens N idle twilsock connections to a running streams-engine (websocket + init with a minted
// access token, as the SDK's first exchange), prints "ready CONNECTED FAILED SECONDS" and keeps
// them open until stdin closes or SIGTERM. tests/bench/compare reads the engine's RSS meanwhile.
//
//   node tests/bench/compare.d/idle_twilsock.js WS_URL SERVICE_SID COUNT
//   environment: TWILIO_ACCOUNT_SID, TWILIO_API_KEY, TWILIO_API_SECRET
// Needs: npm ci --prefix tests/interop (npm twilio for tokens, ws for sockets).
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const requireInterop = createRequire(path.join(__dirname, "..", "..", "interop", "package.json"));
const WebSocket = requireInterop("ws");
const twilio = requireInterop("twilio");

const [url, serviceSid, countText] = process.argv.slice(2);
const count = Number(countText);
if (!url || !serviceSid || !(count > 0)) {
  console.error("usage: idle_twilsock.js WS_URL SERVICE_SID COUNT");
  process.exit(2);
}
const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_API_KEY: apiKey, TWILIO_API_SECRET: apiSecret } = process.env;

let frameCounter = 0;
function initFrame(token) {
  const header = Buffer.from(JSON.stringify({
    id: `TM${process.pid}-${++frameCounter}`,
    method: "init",
    token,
    continuation_token: null,
    metadata: { type: "sync", sdk: "bench" },
    registrations: [],
    tweaks: null,
    capabilities: ["client_update"],
    payload_size: 0,
  }));
  return Buffer.concat([Buffer.from(`TWILSOCK V3.0 ${header.length}\r\n`), header, Buffer.from("\r\n")]);
}
function replyFrame(id) {
  const header = Buffer.from(JSON.stringify({ id, method: "reply", payload_type: "application/json", status: { code: 200, status: "OK" }, payload_size: 0 }));
  return Buffer.concat([Buffer.from(`TWILSOCK V3.0 ${header.length}\r\n`), header, Buffer.from("\r\n")]);
}

function mint(identity) {
  const token = new twilio.jwt.AccessToken(accountSid, apiKey, apiSecret, { identity, ttl: 3600 });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid }));
  return token.toJwt();
}

const sockets = [];
function openOne(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    let initialised = false;
    const timer = setTimeout(() => reject(new Error("no init reply in 60 s")), 60000);
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on("open", () => ws.send(initFrame(mint(`idle-${i}`))));
    ws.on("message", (data) => {
      const text = data.toString("utf8", 0, Math.min(data.length, 4096));
      const header = text.slice(text.indexOf("\r\n") + 2);
      if (!initialised && header.includes('"method":"reply"')) {
        initialised = true;
        clearTimeout(timer);
        if (/"code":200/.test(header)) resolve();
        else reject(new Error(`init refused: ${header.slice(0, 200)}`));
      } else {
        // Pings and client_update: acknowledged as the SDK does, so the engine keeps the socket.
        const id = /"id":"([^"]+)"/.exec(header);
        if (id && !header.includes('"method":"reply"')) ws.send(replyFrame(id[1]));
      }
    });
  });
}

async function main() {
  const started = Date.now();
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError = null;
  async function lane() {
    while (next < count) {
      const i = next++;
      try {
        await openOne(i);
        connected++;
      } catch (error) {
        failed++;
        firstError = firstError || error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: 50 }, lane));
  if (firstError) console.error(`idle_twilsock: ${failed} failed, first: ${firstError}`);
  console.log(`ready ${connected} ${failed} ${((Date.now() - started) / 1000).toFixed(1)}`);
  const stop = () => {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  console.error(`idle_twilsock: ${error.message}`);
  process.exit(1);
});
