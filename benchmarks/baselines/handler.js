// The packet counter in Node.js, as Proxylity's JavaScript examples write it: Messages reduced into
// counts per source, then one reply per source. Times `iterations` calls on the event in argv[2]
// and prints {"microseconds_per_batch": ..., "replies": ...} as JSON.
"use strict";
const fs = require("fs");

function handler(event) {
  const region = process.env.AWS_REGION || "unknown";
  const sources = event.Messages.reduce((acc, m) => {
    const key = m.Remote.IpAddress + ":" + m.Remote.Port;
    const seen = acc[key];
    if (seen) seen.count += 1;
    else acc[key] = { tag: m.Tag, count: 1 };
    return acc;
  }, {});
  const now = new Date().toISOString();
  return {
    Replies: Object.values(sources).map((s) => ({
      Tag: s.tag,
      Data: Buffer.from(`${s.count} ${region}\n`).toString("base64"),
      GeneratedAt: now,
    })),
  };
}

const event = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const iterations = Number(process.argv[3] || 200);
let replies = 0;
for (let i = 0; i < Math.max(20, iterations / 5); i++) replies = handler(event).Replies.length; // warm up the JIT
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) replies = handler(event).Replies.length;
const elapsed = Number(process.hrtime.bigint() - start) / 1000;
console.log(JSON.stringify({ microseconds_per_batch: elapsed / iterations, replies }));
