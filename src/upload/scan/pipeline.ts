import type { Config } from '../../config/schema.ts';
import type { ScanInput, ScanOutcome } from '../service.ts';
import { type ArchiveProblem, inspectZip, isZip } from './archive.ts';
import { ClamdUnavailable, clamdScan } from './clamd.ts';
import { isEicar } from './eicar.ts';
import { detectType, extensionOf, nameContradictsType, type RealType } from './file-kind.ts';
import { type Finding, note } from './findings.ts';
import { clamdAddress } from './rescan.ts';

type ScanConfig = Config['upload_scan'];

/** Enough of the start of a file for every magic-byte check (office files need a little more). */
const HEAD_BYTES = 1024 * 1024;

/**
 * The scan a file passes before it can be downloaded, step by step, each a rule with a mode:
 * EICAR (always), real type, name/type mismatch, type policy, archive inspection, SHA-256 deny
 * list, then clamd when configured. Cheap steps run first; clamd is skipped once a file is
 * blocked. The first blocking finding is the verdict; every finding becomes an event.
 */
export function createFileScanner(scan: ScanConfig): (input: ScanInput) => Promise<ScanOutcome> {
  const denied = new Set(scan.deny_sha256.map((h) => h.toLowerCase()));
  const blockedTypes = new Set(scan.blocked_types.map((t) => t.toLowerCase()));
  const blockedExts = new Set(
    scan.blocked_extensions.map((t) => t.toLowerCase().replace(/^\./, '')),
  );
  const clamd = clamdAddress(scan);

  /** The checks a top-level file and every archive entry go through. */
  const judge = (
    findings: Finding[],
    f: { name: string; real: RealType | undefined; sha256: string; eicar: boolean; entry?: string },
  ) => {
    const where = f.entry === undefined ? 'the file' : `"${f.entry}" inside the archive`;
    const at = f.entry === undefined ? {} : { entry: f.entry };
    if (f.eicar) {
      note(findings, 'enforce', {
        rule: 'files.eicar',
        reason: `${where} is the EICAR anti-virus test file`,
        ...at,
      });
    }
    const ext = extensionOf(f.name);
    if (f.real !== undefined && blockedTypes.has(f.real.ext)) {
      note(findings, scan.type_policy, {
        rule: 'files.type-policy',
        reason: `${where} is of a type that is not accepted (${describe(f.real)})`,
        evidence: { realType: f.real.ext },
        ...at,
      });
    } else if (blockedExts.has(ext)) {
      note(findings, scan.type_policy, {
        rule: 'files.type-policy',
        reason: `${where} has an extension that is not accepted (.${ext})`,
        evidence: { extension: ext },
        ...at,
      });
    }
    if (nameContradictsType(f.name, f.real)) {
      note(findings, scan.name_mismatch, {
        rule: 'files.name-mismatch',
        reason: `${where} is named .${ext} but is really ${describe(f.real!)}`,
        evidence: { extension: ext, realType: f.real!.ext },
        ...at,
      });
    }
    if (denied.has(f.sha256)) {
      note(findings, scan.deny_list, {
        rule: 'files.deny-list',
        reason: `${where} is on the list of known-bad files`,
        evidence: { sha256: f.sha256 },
        ...at,
      });
    }
  };

  return async (input) => {
    const findings: Finding[] = [];
    const head = await readAll(input.read(0, Math.min(input.size, HEAD_BYTES)));
    const real = await detectType(head);
    judge(findings, {
      name: input.name,
      real,
      sha256: input.sha256,
      eicar: isEicar(head, input.size),
    });

    if (isZip(head)) {
      const report = await inspectZip(
        input.size,
        (start, end) => input.read(start, end),
        {
          maxDepth: scan.max_archive_depth,
          maxEntries: scan.max_archive_entries,
          maxExpandedBytes: scan.max_expanded_bytes,
          maxRatio: scan.max_ratio,
        },
        input.name,
      );
      for (const e of report.entries) {
        judge(findings, {
          name: e.name,
          real: e.real,
          sha256: e.sha256,
          eicar: e.eicar,
          entry: e.path,
        });
      }
      for (const p of report.problems) note(findings, scan.archive, archiveFinding(p));
    } else if (real !== undefined && ['7z', 'rar'].includes(real.ext)) {
      note(findings, scan.uninspectable_archives, {
        rule: 'files.archive-uninspectable',
        reason: `${real.ext} archives cannot be inspected by this server`,
        evidence: { realType: real.ext },
      });
    }

    if (clamd !== undefined && !findings.some((f) => f.mode === 'block')) {
      try {
        const v = await clamdScan(clamd, input.read(), scan.clamd_timeout_ms);
        if (!v.ok) {
          note(findings, scan.clamav, {
            rule: 'files.clamav',
            reason: `the virus scanner found ${v.signature}`,
            evidence: { signature: v.signature },
          });
        }
      } catch (err) {
        if (!(err instanceof ClamdUnavailable)) throw err;
        note(findings, scan.clamd_failure === 'closed' ? 'enforce' : 'monitor', {
          rule: 'files.clamav-unavailable',
          reason:
            scan.clamd_failure === 'closed'
              ? 'the virus scanner is not available right now, so the file is held; try again later'
              : 'the virus scanner was not available; the file was served after the other checks',
          evidence: { error: err.message },
        });
      }
    }

    const blocking = findings.find((f) => f.mode === 'block');
    return {
      verdict: blocking === undefined ? 'clean' : 'blocked',
      ...(real === undefined ? {} : { detectedType: real.ext }),
      ...(blocking === undefined ? {} : { rule: blocking.rule, reason: blocking.reason }),
      findings,
    };
  };
}

function describe(t: RealType): string {
  const names: Record<string, string> = {
    exe: 'a Windows program',
    elf: 'a Linux program',
    macho: 'a macOS program',
    script: 'a script',
    lnk: 'a Windows shortcut',
    msi: 'a Windows installer',
    cfb: 'an OLE compound file (old Office document or installer)',
  };
  return names[t.ext] ?? `${t.ext} (${t.mime})`;
}

function archiveFinding(p: ArchiveProblem): Omit<Finding, 'mode'> {
  switch (p.kind) {
    case 'bomb':
      return {
        rule: 'files.archive-bomb',
        reason: `the archive looks like a zip bomb: ${p.detail}`,
        entry: p.path,
      };
    case 'encrypted':
      return {
        rule: 'files.archive-encrypted',
        reason: `"${p.path}" is encrypted, so it cannot be scanned; send it unencrypted`,
        entry: p.path,
      };
    case 'too-deep':
      return {
        rule: 'files.archive-depth',
        reason: `"${p.path}" nests archives too deeply to inspect`,
        entry: p.path,
      };
    case 'unreadable':
      return {
        rule: 'files.archive-unreadable',
        reason: `the archive cannot be read: ${p.detail}`,
        entry: p.path,
      };
  }
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}
