#!/usr/bin/env node
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// The work is done and written. kafkajs can leave a broker socket open after a consumer crash (a fetch
// that reconnected while the consumer disconnected); do not let that keep a CI job waiting.
setTimeout(() => process.exit(), 3_000).unref();
