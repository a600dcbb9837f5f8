// Worm lures: fresh wording at every hop, the same malicious host (or the same payload).

/** A look-alike of a well-known file-sharing domain (a zero for the letter o). */
export const LURE_HOST = 'dr0pbox.com';

const TEMPLATES = [
  'btw, download this {url}',
  'I wanted to show you this {url}',
  'lol {url}',
  'wow, is this you? {url}',
  'haha look at these photos {url}',
  'can you check this file for me? {url}',
  'the pictures from friday {url}',
  'omg you have to see this {url}',
  'here is the document I promised {url}',
  'hey, found this, thought of you {url}',
];

const FILES = ['photos.zip', 'IMG_2041.exe', 'holiday_pics.scr', 'invoice.zip', 'video.exe'];

export type LureKind = 'lookalike' | 'plain';

/**
 * One hop's lure. `lookalike` links an executable or archive on the look-alike host;
 * `plain` links a page on an ordinary-looking host (so only fan-out and outbreak detection,
 * not the URL's own features, can stop it).
 */
export function lure(kind: LureKind, random: () => number): { text: string; host: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const token = Math.floor(random() * 36 ** 6).toString(36);
  const host = kind === 'lookalike' ? LURE_HOST : 'share-moments.net';
  const url =
    kind === 'lookalike'
      ? `http://${host}/s/${token}/${pick(FILES)}?dl=${Math.floor(random() * 1000)}`
      : `https://${host}/p/${token}?ref=${Math.floor(random() * 1000)}`;
  return { text: pick(TEMPLATES).replace('{url}', url), host };
}
