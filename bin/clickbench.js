#!/usr/bin/env node
// Node versions: >= 20.19 is required (package.json engines); CI runs the whole suite on Node 20;
// `npm run test:node` (test/node-smoke.ts) checks another Node by hand (22 and 24 passed it).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`clickbench: Node ${process.versions.node} is too old: it needs Node 20.19 or later (22 or 24 recommended; 20 is past its end of life) — install a newer Node and run it again`);
  process.exit(2);
}
if (![20, 22, 24].includes(major)) {
  console.error(`clickbench: Node ${process.versions.node} is not a version clickbench is tested on (20.19+, 22, 24); running anyway`);
}
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
// Node 22.1+ keeps compiled code of the modules it loads on disk (in the OS temp dir): later starts
// of the CLI skip most of the parsing (bench: validate of the quickstart 0.40 → 0.32 s on Node 24).
const nodeModule = await import('node:module');
nodeModule.enableCompileCache?.();
// The CLI runs from its bundle (`npm run build`: one file per command, dependencies inlined; validate of
// the quickstart 0.49 → 0.33 s on Node 20 here); from tsc's output when no bundle was built.
const { existsSync } = await import('node:fs');
const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const bundled = existsSync(bundle);
// A kafkajs fix that must be in Node's module cache before kafkajs loads (src/kafka/kafkajs-preload.ts):
// in the bundle kafkajs stays an import of its own, which runs before any bundled code. Commands that never
// load kafkajs skip it (validate 308 → 297 ms here, 7 runs each, interleaved).
const KAFKA_FREE = new Set(['generate', 'validate', 'schema', '--version', '-V', '--help', '-h', 'help']);
if (!KAFKA_FREE.has(process.argv[2] ?? '--help')) await import(bundled ? '../dist/bundle/kafkajs-preload.js' : '../dist/src/kafka/kafkajs-preload.js');
const { main } = await import(bundled ? bundle.href : '../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// The work is done and written. kafkajs can leave a broker socket open after a consumer crash (a fetch
// that reconnected while the consumer disconnected); do not let that keep a CI job waiting.
setTimeout(() => process.exit(), 3_000).unref();
