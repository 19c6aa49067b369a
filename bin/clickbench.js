#!/usr/bin/env node
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
