import { request } from 'node:https';
import type { Readable } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import { type RawClient, type XmlElement, x } from './raw-client.ts';

/**
 * XEP-0363 from a test: ask for a slot over a real XMPP session, PUT and GET over HTTPS with
 * node:https (the test server's certificate is self-signed), and build the files the upload
 * tests send (a tiny zip writer and minimal headers of real formats).
 */

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';

export interface Slot {
  put: string;
  get: string;
  headers: Record<string, string>;
}

export function slotRequest(filename: string, size: number, contentType?: string): XmlElement {
  return x(
    'iq',
    { type: 'get', to: 'localhost' },
    x('request', { xmlns: NS_UPLOAD, filename, size: String(size), 'content-type': contentType }),
  );
}

/** Asks for a slot; throws with the stanza when the server answers an error. */
export async function requestSlot(
  client: RawClient,
  filename: string,
  size: number,
  contentType?: string,
): Promise<Slot> {
  const reply = await client.iq(slotRequest(filename, size, contentType));
  const slot = reply.getChild('slot', NS_UPLOAD);
  const put = slot?.getChild('put');
  const get = slot?.getChild('get');
  if (reply.attrs.type !== 'result' || !put || !get) {
    throw new Error(`no slot: ${reply.toString()}`);
  }
  const headers: Record<string, string> = {};
  for (const h of put.getChildren('header')) headers[h.attrs.name!] = h.text();
  return { put: put.attrs.url!, get: get.attrs.url!, headers };
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as JSON when it is JSON. */
  json?: { error?: string; rule?: string; url?: string };
}

/** One HTTPS request to a URL of the test server (its host name is dialled as 127.0.0.1). */
export function httpRequest(
  method: string,
  url: string,
  opts: { headers?: Record<string, string>; body?: Buffer | Readable } = {},
): Promise<HttpReply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method,
        headers: { host: u.host, ...opts.headers },
        rejectUnauthorized: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const reply: HttpReply = { status: res.statusCode ?? 0, headers: res.headers, body };
          if (String(res.headers['content-type']).startsWith('application/json')) {
            reply.json = JSON.parse(body.toString('utf8'));
          }
          resolve(reply);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = opts.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** PUTs `body` into a slot with the headers the slot named. */
export function putFile(slot: Slot, body: Buffer, contentType?: string): Promise<HttpReply> {
  return httpRequest('PUT', slot.put, {
    headers: {
      ...slot.headers,
      'content-length': String(body.length),
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    },
    body,
  });
}

/** Slot, PUT and GET in one: what a client does to share a file. */
export async function uploadFile(
  client: RawClient,
  name: string,
  body: Buffer,
  contentType = 'application/octet-stream',
): Promise<{ slot: Slot; put: HttpReply; get: HttpReply }> {
  const slot = await requestSlot(client, name, body.length, contentType);
  const put = await putFile(slot, body, contentType);
  const get = await httpRequest('GET', slot.get);
  return { slot, put, get };
}

// ---------------------------------------------------------------------------------------
// Files

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Deflate the data (default true). */
  deflate?: boolean;
  /** Set the "encrypted" flag (traditional PKWARE); the data is left as is. */
  encrypted?: boolean;
}

/** A minimal zip writer (local headers, central directory, end record; no zip64). */
export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const deflate = e.deflate ?? true;
    const data = deflate ? deflateRawSync(e.data) : e.data;
    const flags = 0x0800 | (e.encrypted ? 0x0001 : 0);
    const method = deflate ? 8 : 0;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The EICAR test file, assembled here so this source does not carry it verbatim. */
export const EICAR = Buffer.from(
  `X5O!P%@AP[4\\PZX54(P^)7CC)7}$${['EICAR', 'STANDARD', 'ANTIVIRUS', 'TEST', 'FILE'].join('-')}!$H+H*`,
  'latin1',
);

/** A minimal PE image header: MZ stub pointing at a PE signature and a COFF header. */
export function peFile(marker = 'rampart test program'): Buffer {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84); // i386
  b.writeUInt16LE(1, 0x86); // one section
  b.writeUInt16LE(0xe0, 0x94); // optional header size
  b.writeUInt16LE(0x0102, 0x96); // executable image
  b.writeUInt16LE(0x10b, 0x98); // PE32 magic
  b.write(marker, 0x100, 'latin1');
  return b;
}

/** A minimal 64-bit little-endian ELF executable header. */
export function elfFile(marker = 'rampart test elf'): Buffer {
  const b = Buffer.alloc(256);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(b, 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // x86-64
  b.writeUInt32LE(1, 20);
  b.writeUInt16LE(64, 52);
  b.write(marker, 128, 'latin1');
  return b;
}

/** A Windows shell link (.lnk) header: size 0x4C and the ShellLink CLSID. */
export function lnkFile(): Buffer {
  const b = Buffer.alloc(0x4c + 16);
  b.writeUInt32LE(0x4c, 0);
  Buffer.from('0114020000000000c000000000000046', 'hex').copy(b, 4);
  return b;
}

/** A 1x1 PNG. */
export function pngFile(): Buffer {
  return Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
}

export function pdfFile(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
    'latin1',
  );
}

function ooxml(mainType: string, part: string): Buffer {
  const types = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/${part}" ContentType="${mainType}"/></Types>`;
  return makeZip([
    { name: '[Content_Types].xml', data: Buffer.from(types) },
    { name: '_rels/.rels', data: Buffer.from('<Relationships/>') },
    { name: part, data: Buffer.from('<w:document xmlns:w="x"><w:body/></w:document>') },
  ]);
}

export function docxFile(): Buffer {
  return ooxml(
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
    'word/document.xml',
  );
}

export function docmFile(): Buffer {
  return ooxml('application/vnd.ms-word.document.macroEnabled.main+xml', 'word/document.xml');
}
