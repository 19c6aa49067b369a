/** `clickbench report <results.json>` and `clickbench compare <a.json> <b.json> …`. */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { PROFILES, type Profile } from '../observe/crosszone.js';
import { ExitWith, UsageError } from '../errors.js';
import type { Io } from '../report/io.js';

export function reportCommand(io: Io): Command {
  return new Command('report')
    .description('re-render scorecard.md from a results.json, print the summary, exit by its gates')
    .argument('<results>', 'results.json of a run (or its directory)')
    .option('--out <file>', 'markdown file (default: scorecard.md beside the results)')
    .option('--summary-json <file>', 'also write the gate summary as JSON here')
    .option('--cross-zone-file <file>', 'a per-zone byte export (flow logs / billing: start,end,src_zone,dst_zone,bytes) measured while the run ran: its bytes per phase become the run\'s measured cross-zone figures (written into results.json)')
    .addOption(new Option('--profile <profile>', 're-read the run under another platform profile (modelled, marked as such), e.g. automq').choices([...PROFILES]))
    .action(async (file: string, o: { out?: string; summaryJson?: string; profile?: Profile; crossZoneFile?: string }) => {
      if (o.profile && !o.out) throw new UsageError('--profile writes a modelled report: name it with --out', 'e.g. --out reports/<run>/scorecard-automq.md');
      const { writeReport } = await import('../report/write.js');
      const outcome = await writeReport(file, { io, out: o.out, summaryJson: o.summaryJson, profile: o.profile, crossZoneFile: o.crossZoneFile });
      if (outcome.exitCode !== 0) throw new ExitWith(outcome.exitCode);
    });
}

export function compareCommand(io: Io): Command {
  return new Command('compare')
    .description('put runs side by side (e.g. local vs tiered storage), differences against the first highlighted')
    .argument('<results...>', 'two or more results.json files (or the run directories holding them)')
    .option('--out <file>', 'write the markdown table here too')
    .action(async (files: string[], o: { out?: string }) => {
      if (files.length < 2) throw new UsageError('compare needs at least two results.json files', 'e.g. clickbench compare reports/a/results.json reports/b/results.json');
      const [{ compareMarkdown }, { readResults }] = await Promise.all([import('../report/compare.js'), import('../report/write.js')]);
      const md = compareMarkdown(files.map(readResults));
      if (o.out) writeFileSync(o.out, md);
      io.out(md.trimEnd());
    });
}
