// Finds the shapes of data that should not leave a company through chat: secrets (private
// keys, API tokens, card numbers, passwords) and machine reports (addresses with open
// ports, host names, user names), the way a trojan beacons home. Shared by the DLP
// inspector and the classifier's features.

export type DlpSignals = {
  privateKey: boolean;
  apiToken: boolean;
  cardNumber: boolean;
  /** A password or other secret written out with its value. */
  credentialValue: number;
  /** "user:secret" pairs, as in a dump of saved logins. */
  credentialPairs: number;
  ipAddresses: number;
  publicIps: number;
  /** "1.2.3.4:445" shapes. */
  ipWithPort: number;
  /** Lists of port numbers ("3389,445", "139/445", "ports 80 443"). */
  portList: boolean;
  /** Host names shaped like inventory names ("WS-FIN-022", "DESKTOP-ABC123"). */
  hostNames: number;
  /** Distinct report keys (ip, port, host, user, os, ...) in any of the supported languages. */
  reportKeys: number;
};

const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----|\bPuTTY-User-Key-File\b/;
const API_TOKENS = [
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/,
  /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/,
  /\bAIza[0-9A-Za-z_-]{35}\b/,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
  /\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*/i,
  /\b(?:api[_-]?key|secret[_-]?key|access[_-]?token|client[_-]?secret)\s*[:=]\s*["']?[A-Za-z0-9._~+/-]{16,}/i,
];
const SECRET_WORD =
  '(?:password|passwort|passwd|pass|pwd|pw|clave|contraseña|kennwort|mật khẩu|mat khau|mk|密码|密碼|口令|pin|creds?|credentials?)';
const CREDENTIAL_VALUE = new RegExp(
  `(?:^|[^\\p{L}])${SECRET_WORD}\\s*[:=：]\\s*[^\\s,;|]{3,}`,
  'giu',
);
// "pw Pa55word!", "the admin pass is Welcome1": a secret word followed, without a colon, by
// a token that looks like a password (letters mixed with digits or symbols).
const CREDENTIAL_SPOKEN = new RegExp(
  `(?:^|[^\\p{L}])${SECRET_WORD}\\s+(?:(?:is|là|es|ist|was)\\s+)?(?=[^\\s,;|]*\\p{L})(?=[^\\s,;|]*[\\d!@#$%^&*?])[^\\s,;|]{5,}`,
  'giu',
);
const CREDENTIAL_PAIR =
  /(?:^|[\s,;(])([\p{L}][\p{L}\p{N}._+-]{1,40}(?:@[\w.-]+)?)\s?[:/]\s?([^\s,;|:/]*[\d!#$%^&*?][^\s,;|:/]*)(?=$|[\s,;|)])/gmu;
const NOT_A_LOGIN =
  /^(ip|lan|wan|ext|port|ports|host|hostname|pc|os|av|user|usuario|id|mac|cpu|ram|ver|version|build|time|date|http|https|ftp|ticket|inc|ref)$/i;
const IPV4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.]|\.\d)/g;
const IP_PORT = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}\b/g;
const PORT_LIST =
  /(?:ports?|puertos?|cổng|端口|open|offen|abiertos?)["']?\s*[:=]?\s*\[?\d{2,5}(?:\s*[,/ ]\s*\d{2,5})*|\b\d{2,5}(?:\s*[,/]\s*\d{2,5}){1,}\s*(?:open|offen|mở|开放|開放)|(?:listening|backdoor|server|shell)\s+(?:on\s+)?(?:port\s+)?\d{2,5}\b|\b(?:rdp|smb|vnc|ssh|telnet|winrm|mssql)\b\s*\(?\d{0,5}\)?\s*(?:is\s+)?(?:open|mở|开放|開放|abierto|offen)|\b\d{2,5}\s+(?:is\s+)?open\b|埠\s*:?\s*\d{2,5}/iu;
const HOST_NAME = /\b[A-Z][A-Z0-9]{1,9}(?:-[A-Z0-9]{1,10}){1,3}\b/g;
const REPORT_KEYS: Record<string, RegExp> = {
  ip: /\b(?:ip|lan|wan|ext|external|internal)\b|\bIP\b|地址/i,
  port: /\bports?\b|puertos?|cổng|端口|\bopen\b/i,
  host: /\b(?:host(?:name)?|pc|computer|machine|equipo|rechner|máy)\b|主机|主機|机器|電腦|电脑/i,
  user: /\b(?:user(?:name)?|usuario|benutzer|login)\b|用户|用戶|tài khoản|người dùng/i,
  os: /\b(?:os|windows(?:_server)?|win\s?\d+|linux|ubuntu|macos|sistema)\b|系统|系統|hệ điều hành/i,
  av: /\b(?:av|antivirus|defender)\b|杀毒|殺毒/i,
  online: /\b(?:online|connected|bot|alive|up again|running|infected)\b|上线|上線|肉鸡|肉雞/i,
};

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function hasCardNumber(text: string): boolean {
  for (const m of text.matchAll(/\b\d(?:[ -]?\d){12,18}\b/g)) {
    const digits = m[0].replace(/\D/g, '');
    // Repeated digits or a plain counter pass Luhn by accident; cards start 2-6.
    if (/^[2-6]/.test(digits) && !/^(\d)\1+$/.test(digits) && luhnValid(digits)) return true;
  }
  return false;
}

function isPrivate(a: number, b: number): boolean {
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
}

// The DLP inspector and the classifier's features read the same body one after the other.
let lastText: string | undefined;
let lastSignals: Readonly<DlpSignals> | undefined;

export function dlpSignals(text: string): Readonly<DlpSignals> {
  if (text !== lastText || lastSignals === undefined) {
    lastSignals = scanSignals(text);
    lastText = text;
  }
  return lastSignals;
}

/** Anything at all that the DLP rules or the classifier's DLP features would look at. */
export function anyDlpSignal(s: Readonly<DlpSignals>): boolean {
  return Object.values(s).some((v) => v !== false && v !== 0);
}

function scanSignals(text: string): DlpSignals {
  let ipAddresses = 0;
  let publicIps = 0;
  for (const m of text.matchAll(IPV4)) {
    const o = m.slice(1, 5).map(Number);
    if (o.some((x) => x > 255)) continue;
    ipAddresses++;
    if (!isPrivate(o[0]!, o[1]!)) publicIps++;
  }
  let credentialPairs = 0;
  for (const m of text.matchAll(CREDENTIAL_PAIR)) {
    const left = m[1]!;
    const right = m[2]!;
    if (NOT_A_LOGIN.test(left) || /^\d+$/.test(right) || !/\p{L}/u.test(right)) continue;
    credentialPairs++;
  }
  const hostNames = new Set(
    [...text.matchAll(HOST_NAME)].map((m) => m[0]).filter((h) => /\d/.test(h) || h.length >= 8),
  ).size;
  const reportKeys = Object.values(REPORT_KEYS).filter((re) => re.test(text)).length;
  return {
    privateKey: PRIVATE_KEY.test(text),
    apiToken: API_TOKENS.some((re) => re.test(text)),
    cardNumber: hasCardNumber(text),
    credentialValue:
      [...text.matchAll(CREDENTIAL_VALUE)].length + [...text.matchAll(CREDENTIAL_SPOKEN)].length,
    credentialPairs,
    ipAddresses,
    publicIps,
    ipWithPort: [...text.matchAll(IP_PORT)].length,
    portList: PORT_LIST.test(text),
    hostNames,
    reportKeys,
  };
}
