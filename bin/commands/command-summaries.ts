// One line per command for `regman --help`, so the top-level help and `--version` load no command module.
/**
 * `name` → [arguments, summary]. A command missing here still appears in `regman --help`: its module
 * is then loaded for its description (slower, never wrong). test/unit/cli/command-summaries.test.ts
 * checks every entry against the command it names.
 */
export const COMMAND_SUMMARIES: Readonly<Record<string, readonly [string, string]>> = {
  copy: ['[options] <src> <dst>', 'copy an image or index (digests unchanged), with its signatures and SBOMs, tagging the target last'],
  attach: ['[options] <file> <image>', 'attach a file to an image as an OCI 1.1 referrer'],
  config: ['<command>', 'work with the configuration file'],
  retention: ['<command>', 'plan retention offline, and run retention sweeps'],
  local: ['[options]', 'run the embedded local stack'],
  registries: ['<command>', 'the configured registries'],
  repos: ['<command>', 'repositories of a configured registry'],
  images: ['<command>', 'images in a repository of a configured registry'],
  sync: ['[options]', "copy a repository's tags from one configured registry to others"],
  audit: ['<command>', 'query and verify the hash-chained audit log'],
  promote: ['[options]', 'promote the digest a tag names now from one environment to the next'],
  promotions: ['<command>', 'list and show promotions'],
  rollback: ['[options]', 'move an environment back to the previous promoted digest'],
  hold: ['<command>', 'hold a repository in an environment'],
  quarantine: ['<command>', 'digests that failed a scan or signature gate'],
  report: ['<command>', 'reports from the audit log'],
  lineage: ['[options] <image>', 'where an image came from'],
  approvals: ['<command>', 'approval requests waiting for a decision'],
  approve: ['[options] <id>', 'approve a pending request as an operator'],
  reject: ['[options] <id>', 'reject a pending request'],
  demo: ['[options]', 'build a small signed multi-arch image with an SBOM and a SARIF scan report (offline), push it to the running local stack'],
  tag: ['[options] <src> <tags...>', 'point more tags at the digest SRC names, without moving bytes'],
  delete: ['[options] <ref>', 'delete an image by digest (a tag is resolved first), saying what else points at it'],
};

/**
 * Which command modules a run needs: the one named by the first word that is not an option; none
 * for `--version`, `--help` and no command at all (the summaries stand in), every module for a word
 * that names no command (commander then says it is unknown and suggests one).
 */
export function commandsToLoad(args: readonly string[], names: readonly string[]): { load: string[]; stubs: boolean } {
  const named = args.find((a) => !a.startsWith('-'));
  if (named === undefined) return { load: names.filter((n) => COMMAND_SUMMARIES[n] === undefined), stubs: true };
  if (names.includes(named)) return { load: [named], stubs: false };
  if (named === 'help' && args.length <= 2) {
    const sub = args[args.indexOf('help') + 1];
    if (sub === undefined) return { load: names.filter((n) => COMMAND_SUMMARIES[n] === undefined), stubs: true };
    if (names.includes(sub)) return { load: [sub], stubs: false };
  }
  return { load: [...names], stubs: false };
}
