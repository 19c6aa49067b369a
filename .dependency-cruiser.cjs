/**
 * clickbench's module rules, checked by `npm test` (test/unit/structure.test.ts) with dependency-cruiser.
 * Each folder holds one concern; these rules keep the arrows pointing one way.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle: move the shared piece to the folder of its concern', from: {}, to: { circular: true } },
    { name: 'report-not-cli', severity: 'error', comment: 'the report renders results; command-line concerns import it, not the other way', from: { path: '^src/report' }, to: { path: '^src/cli' } },
    { name: 'pure-not-cli', severity: 'error', comment: 'only the command line imports src/cli', from: { path: '^src/', pathNot: '^src/cli' }, to: { path: '^src/cli' } },
    { name: 'score-pure', severity: 'error', comment: 'scoring and gates are pure functions of results: no Kafka, no rendering', from: { path: '^src/score' }, to: { path: '^src/(kafka|sandbox|drive|enrich|run|report|cli)/' , pathNot: '^src/run/results\\.ts$' } },
    { name: 'no-orphans', severity: 'error', comment: 'a module nothing imports is dead code', from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/cli/main\\.ts$'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
