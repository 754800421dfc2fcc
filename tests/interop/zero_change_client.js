// Twilio's docs example for Sync Streams, as written: no base URL, no credentials in the code.
// Run by zero_change.test.js with only the environment `streams-engine --show-proxy-env` prints.
"use strict";

const twilio = require("twilio");

async function main() {
  const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
  const service = client.sync.v1.services("default");
  const stream = await service.syncStreams.create({ uniqueName: process.argv[2] });
  const message = await service.syncStreams(stream.sid).streamMessages.create({ data: { via: "zero-change" } });
  const listed = await service.syncStreams.list({ limit: 50 });
  const fetched = await service.syncStreams(stream.sid).fetch();
  const updated = await service.syncStreams(stream.sid).update({ ttl: 600 });
  const report = {
    sid: stream.sid,
    url: stream.url,
    message: message.sid,
    listed: listed.map((s) => s.uniqueName),
    fetchedName: fetched.uniqueName,
    expires: updated.dateExpires ? updated.dateExpires.toISOString() : null,
  };
  let refused = null;
  try {
    await service.syncStreams("TO" + "0".repeat(32)).fetch();
  } catch (error) {
    refused = { status: error.status, code: error.code };
  }
  report.refused = refused;
  report.removed = await service.syncStreams(stream.sid).remove();
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  console.error(`zero-change client failed: ${error.message || error}`);
  process.exit(1);
});
