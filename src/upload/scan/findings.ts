/** One thing a scan step found; `mode` decides whether it blocks the file. */
export interface Finding {
  /** e.g. 'files.type-policy' */
  rule: string;
  mode: 'block' | 'monitor';
  /** Plain words for the uploader and the admin. */
  reason: string;
  /** Inside an archive: the path of the entry, outermost first ("a.zip/b.zip/c.exe"). */
  entry?: string;
  evidence?: Record<string, unknown>;
}

/** A rule's configured mode: `enforce` blocks, `monitor` only records. */
export type RuleMode = 'enforce' | 'monitor' | 'off';

/** Adds a finding unless its rule is off. */
export function note(findings: Finding[], mode: RuleMode, finding: Omit<Finding, 'mode'>): void {
  if (mode !== 'off') findings.push({ ...finding, mode: mode === 'enforce' ? 'block' : 'monitor' });
}
