// Loaded with `node --import ./bench/sm-client.mjs ../shared/bench/xmpp-load.mjs ...`: gives
// every client connection of the shared load tool XEP-0198 stream management, without changing
// the tool, so that the load with and without acks is exactly the same otherwise.
//
// On each TLS connection it watches the bytes the tool reads and writes:
//   - when the bind result arrives, it sends <enable xmlns='urn:xmpp:sm:3'/> before anything
//     the tool writes next, so both sides count the same stanzas;
//   - it counts the server's stanzas after <enabled/> and answers each <r/> with <a h/>;
//   - it appends <r/> after every SM_ACK_EVERY stanzas the tool writes (default 5), as clients
//     like Conversations and slixmpp do; the server's <a/> answers are ignored by the tool.
// Stanzas are recognised by their start tags (`<message`, `<presence`, `<iq`), which is exact
// for the load tool's traffic (escaped bodies, no nested stanzas). At exit it prints one
// `sm-client:` JSON line to stderr, so a run can show stream management was really on.
import tls from 'node:tls';

const NS = 'urn:xmpp:sm:3';
const EVERY = Number(process.env.SM_ACK_EVERY ?? 5);
const totals = {
  connections: 0,
  enabled: 0,
  requestsAnswered: 0,
  requestsSent: 0,
  acksReceived: 0,
};
const TOKEN = /<(message|presence|iq)[\s/>]|<(enabled|r|a)\s[^>]*xmlns=['"]urn:xmpp:sm:3['"]/g;
const OUT_STANZA = /<(message|presence|iq)[\s/>]/g;

const connect = tls.connect;
tls.connect = function smConnect(...args) {
  const socket = connect.apply(this, args);
  totals.connections++;
  const state = { bound: false, enabling: false, enabled: false, handled: 0, sent: 0, tail: '' };
  const write = socket.write;
  socket.write = function smWrite(data, ...rest) {
    let text = typeof data === 'string' ? data : String(data);
    if (state.enabling) {
      const n = text.match(OUT_STANZA)?.length ?? 0;
      const before = Math.floor(state.sent / EVERY);
      state.sent += n;
      const requests = Math.floor(state.sent / EVERY) - before;
      if (requests > 0) {
        totals.requestsSent += requests;
        text += `<r xmlns='${NS}'/>`.repeat(requests);
      }
    }
    return write.call(this, text, ...rest);
  };
  socket.on('data', (chunk) => {
    // A tag split between two reads is matched on the next one.
    const text = state.tail + chunk.toString('utf8');
    const lastLt = text.lastIndexOf('<');
    const complete = lastLt >= 0 && text.indexOf('>', lastLt) < 0 ? lastLt : text.length;
    state.tail = text.slice(complete);
    const body = text.slice(0, complete);
    if (
      !state.bound &&
      /<bind\s[^>]*xmlns=['"]urn:ietf:params:xml:ns:xmpp-bind['"]/.test(body) &&
      /<jid>/.test(body)
    ) {
      state.bound = true;
      state.enabling = true;
      write.call(socket, `<enable xmlns='${NS}'/>`);
    }
    let replies = '';
    for (const m of body.matchAll(TOKEN)) {
      if (m[1]) {
        if (state.enabled) state.handled = (state.handled + 1) % 2 ** 32;
      } else if (m[2] === 'enabled') {
        state.enabled = true;
        totals.enabled++;
      } else if (m[2] === 'r') {
        totals.requestsAnswered++;
        replies += `<a xmlns='${NS}' h='${state.handled}'/>`;
      } else totals.acksReceived++;
    }
    if (replies) write.call(socket, replies);
  });
  return socket;
};

process.on('exit', () => {
  process.stderr.write(`sm-client: ${JSON.stringify({ every: EVERY, ...totals })}\n`);
});
