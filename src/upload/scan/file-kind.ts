import { fileTypeFromBuffer } from 'file-type';

/**
 * The real type of some bytes (magic numbers via `file-type`, plus `#!` scripts), and the
 * family of a type or a file-name extension, to tell a program dressed as a picture.
 */
export interface RealType {
  /** file-type's extension ('png', 'exe', 'docx'...), or 'script'. */
  ext: string;
  mime: string;
}

export async function detectType(head: Buffer): Promise<RealType | undefined> {
  const found = await fileTypeFromBuffer(head);
  if (found) return { ext: found.ext, mime: found.mime };
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    return { ext: 'script', mime: 'text/x-script' };
  }
  return undefined;
}

const FAMILIES: Record<string, readonly string[]> = {
  image: [
    'jpg',
    'jpeg',
    'jfif',
    'png',
    'apng',
    'gif',
    'webp',
    'bmp',
    'tif',
    'tiff',
    'heic',
    'heif',
    'avif',
    'ico',
    'jxl',
  ],
  video: ['mp4', 'm4v', 'mov', 'qt', 'webm', 'mkv', 'avi', '3gp', 'mpg', 'mpeg', 'ogv'],
  audio: ['mp3', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'wav', 'flac', 'amr', 'mid', 'wma'],
  pdf: ['pdf'],
  office: [
    'docx',
    'xlsx',
    'pptx',
    'docm',
    'xlsm',
    'pptm',
    'dotm',
    'xltm',
    'potm',
    'ppsm',
    'odt',
    'ods',
    'odp',
    'epub',
  ],
  legacy_office: ['doc', 'xls', 'ppt', 'msg', 'cfb', 'msi'],
  archive: ['zip', '7z', 'rar', 'gz', 'tgz', 'tar', 'bz2', 'xz', 'zst', 'cab'],
  executable: [
    'exe',
    'dll',
    'scr',
    'com',
    'pif',
    'cpl',
    'sys',
    'elf',
    'macho',
    'so',
    'dylib',
    'bin',
    'msi',
    'apk',
    'jar',
    'dmg',
    'script',
    'sh',
  ],
};

/** Families whose members share containers: a zip named .docx is no lie, nor a docx named .zip. */
const COMPATIBLE: Record<string, readonly string[]> = {
  office: ['archive'],
  archive: ['office'],
};

const FAMILY_OF = new Map<string, string>();
for (const [family, exts] of Object.entries(FAMILIES)) {
  for (const ext of exts) if (!FAMILY_OF.has(ext)) FAMILY_OF.set(ext, family);
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

export function familyOf(ext: string): string | undefined {
  return FAMILY_OF.get(ext);
}

/**
 * Does the real type contradict the name? Only when both are known: a file without magic
 * (plain text) or with an unknown extension proves nothing either way.
 */
export function nameContradictsType(name: string, real: RealType | undefined): boolean {
  if (real === undefined) return false;
  const claimed = familyOf(extensionOf(name));
  const actual = familyOf(real.ext) ?? (real.mime.startsWith('image/') ? 'image' : undefined);
  if (claimed === undefined || actual === undefined || claimed === actual) return false;
  return !(COMPATIBLE[claimed] ?? []).includes(actual);
}
