// Generic reference lists for URL judging. They describe the web at large (well-known
// brands, public shorteners, risky file types), not any particular corpus; an admin's
// allow and deny lists are layered on top later.

/** Top-level domains accepted for scheme-less hosts ("example.com/x"). Real TLDs that clash
 * with file extensions (zip, mov) are left out on purpose: "album.zip" is a file name. */
export const KNOWN_TLDS = new Set(
  (
    'com net org info biz io co me tv cc ly gl gd to ws app dev xyz top site online club shop ' +
    'live link click icu buzz win bid loan vip fun store ru cn vn de uk us fr jp kr in br es ' +
    'it nl pl au ca ch se no fi tw hk sg my th id ph tk ml ga cf gq su ir eu asia mobi name ' +
    'pro cloud tech example test invalid localhost local corp internal lan home'
  ).split(' '),
);

/** Hosts that only exist to hide where a link goes. */
export const SHORTENERS = new Set([
  'bit.ly',
  'bitly.com',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'is.gd',
  'v.gd',
  'ow.ly',
  'buff.ly',
  'cutt.ly',
  'rebrand.ly',
  'shorturl.at',
  'tiny.cc',
  'rb.gy',
  't.ly',
  's.id',
  'adf.ly',
  'shorte.st',
  'bl.ink',
  'lnkd.in',
  'dwz.cn',
  'url.cn',
  't.cn',
]);

/** Shortener names, so that "tinyurl.<anything>" is recognised as one. */
export const SHORTENER_LABELS = new Set(
  [...SHORTENERS].map((h) => h.split('.')[0]!).filter((l) => l.length >= 4),
);

/** Brands phishers imitate, with the domains that really belong to them. */
export const BRANDS: Record<string, readonly string[]> = {
  google: ['google.com'],
  gmail: ['gmail.com'],
  youtube: ['youtube.com', 'youtu.be'],
  facebook: ['facebook.com', 'fb.com'],
  instagram: ['instagram.com'],
  whatsapp: ['whatsapp.com'],
  microsoft: ['microsoft.com'],
  office: ['office.com'],
  office365: ['office365.com'],
  outlook: ['outlook.com'],
  hotmail: ['hotmail.com'],
  windows: ['windows.com'],
  skype: ['skype.com'],
  teams: ['teams.microsoft.com'],
  apple: ['apple.com'],
  icloud: ['icloud.com'],
  amazon: ['amazon.com'],
  paypal: ['paypal.com'],
  netflix: ['netflix.com'],
  github: ['github.com'],
  gitlab: ['gitlab.com'],
  linkedin: ['linkedin.com'],
  twitter: ['twitter.com', 'x.com'],
  telegram: ['telegram.org', 't.me'],
  zoom: ['zoom.us'],
  slack: ['slack.com'],
  dropbox: ['dropbox.com'],
  yahoo: ['yahoo.com'],
  ebay: ['ebay.com'],
  alibaba: ['alibaba.com'],
  taobao: ['taobao.com'],
  baidu: ['baidu.com'],
  wechat: ['wechat.com'],
  weixin: ['weixin.qq.com'],
  zalo: ['zalo.me'],
  adobe: ['adobe.com'],
  docusign: ['docusign.com', 'docusign.net'],
  steam: ['steampowered.com', 'steamcommunity.com'],
  binance: ['binance.com'],
  coinbase: ['coinbase.com'],
  wikipedia: ['wikipedia.org'],
  stackoverflow: ['stackoverflow.com'],
  mozilla: ['mozilla.org'],
  npmjs: ['npmjs.com'],
  cloudflare: ['cloudflare.com'],
  visa: ['visa.com'],
  mastercard: ['mastercard.com'],
  dhl: ['dhl.com'],
  fedex: ['fedex.com'],
};

/** Every domain that belongs to a listed brand (allowed, never a look-alike). */
export const WELL_KNOWN_DOMAINS = new Set(Object.values(BRANDS).flat());

/** Letters and digits that look like Latin letters, mapped to the letter they imitate. */
export const CONFUSABLES: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  һ: 'h',
  ӏ: 'l',
  ո: 'n',
  ս: 'u',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  τ: 't',
  ι: 'i',
  κ: 'k',
  ε: 'e',
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  ı: 'i',
  ł: 'l',
  ø: 'o',
};

/** Executable or script files: opening one runs code. */
export const EXECUTABLE_EXTENSIONS = new Set(
  (
    'exe scr bat cmd com pif js jse vbs vbe wsf wsh jar msi msp apk app dll cpl hta ps1 psm1 ' +
    'lnk reg sh run bin elf dmg pkg deb rpm scf inf gadget xll iqy sct appref-ms docm xlsm pptm'
  ).split(' '),
);

/** Archives and disk images: they can carry executables past a name check. */
export const ARCHIVE_EXTENSIONS = new Set(
  'zip rar 7z iso img vhd vhdx cab arj ace gz tgz bz2 xz tar lzh z uue'.split(' '),
);

/** Schemes that run code or reach local files when opened. */
export const DANGEROUS_SCHEMES = new Set(['javascript', 'data', 'file', 'vbscript', 'jar']);

/** Legacy IM and calling schemes that old clients handled with exploitable parsers. */
export const LEGACY_IM_SCHEMES = new Set([
  'aim',
  'ymsgr',
  'msnim',
  'gtalk',
  'icq',
  'xfire',
  'callto',
  'skype',
]);

export const WEB_SCHEMES = new Set(['http', 'https', 'ftp', 'ftps', 'ws', 'wss']);
