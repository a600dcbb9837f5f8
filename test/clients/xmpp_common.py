"""Shared plumbing for the slixmpp interop scripts.

Each script logs in to a Rampart under test with Debian's python3-slixmpp (1.8.x), performs
one scenario and prints what it observed as JSON lines on stdout; slixmpp's own debug log
(every stanza sent and received) goes to stderr so a failing test can show the exact XML.

Channel binding: slixmpp 1.8.3 only knows `tls-unique` (it reads it from Python's
ssl.SSLObject.get_channel_binding, the only binding CPython offers) and always sends
`p=tls-unique` for -PLUS mechanisms, and the `y` flag for plain SCRAM whenever the
connection is TLS.  `--channel-binding` chooses how the script drives that:
  stock                 slixmpp unchanged (tls-unique, `y` for plain SCRAM)
  none                  the client claims no channel-binding support (gs2 flag `n`, no -PLUS)
  tls-server-end-point  RFC 5929 certificate-hash binding, added here because slixmpp
                        1.8.3 lacks it (see ServerEndPointScram)
"""

import argparse
import asyncio
import hashlib
import json
import logging
import signal
import ssl
import sys

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.util.sasl import client as sasl_client
from slixmpp.util.sasl import mechanisms as sasl_mechanisms


def emit(event, **fields):
    """One observation as a JSON line on stdout."""
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


class ScenarioFailed(Exception):
    pass


def base_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("jid")
    p.add_argument("password")
    p.add_argument("--tls", choices=["starttls", "direct"], default="starttls")
    p.add_argument("--mech", action="append", help="restrict SASL to these mechanisms")
    p.add_argument(
        "--channel-binding",
        choices=["stock", "none", "tls-server-end-point"],
        default="none",
    )
    p.add_argument("--tls-max", choices=["1.2", "1.3"])
    p.add_argument("--timeout", type=float, default=15.0)
    return p


# --- TLS ------------------------------------------------------------------------------------

def insecure_context(tls_max):
    """The test server's certificate is self-signed: verification is off, for tests only."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# OID content bytes of certificate signature algorithms -> hash used by RFC 5929 §4.1
# (MD5 and SHA-1 are replaced by SHA-256).
_SIG_HASH = {
    "2a864886f70d010104": "sha256",  # md5WithRSAEncryption
    "2a864886f70d010105": "sha256",  # sha1WithRSAEncryption
    "2a864886f70d01010b": "sha256",  # sha256WithRSAEncryption
    "2a864886f70d01010c": "sha384",
    "2a864886f70d01010d": "sha512",
    "2a8648ce3d0401": "sha256",  # ecdsa-with-SHA1
    "2a8648ce3d040302": "sha256",  # ecdsa-with-SHA256
    "2a8648ce3d040303": "sha384",
    "2a8648ce3d040304": "sha512",
}


def _tlv(buf, i):
    """(tag, content start, content length) of the DER element at i."""
    tag = buf[i]
    length = buf[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[i:i + n], "big")
        i += n
    return tag, i, length


def server_end_point(der):
    """RFC 5929 tls-server-end-point: hash of the server certificate, by its signature hash."""
    _, cert, _ = _tlv(der, 0)
    _, tbs, tbs_len = _tlv(der, cert)
    _, alg, _ = _tlv(der, tbs + tbs_len)
    tag, oid, oid_len = _tlv(der, alg)
    if tag != 0x06:
        raise ScenarioFailed("certificate signatureAlgorithm has no OID")
    name = _SIG_HASH.get(der[oid:oid + oid_len].hex())
    if name is None:
        raise ScenarioFailed("unknown certificate signature algorithm %s" % der[oid:oid + oid_len].hex())
    return hashlib.new(name, der).digest()


class ServerEndPointScram(sasl_mechanisms.SCRAM):
    """slixmpp's SCRAM with `p=tls-server-end-point` in place of its hard-coded tls-unique."""

    def process_1(self, challenge):
        super().process_1(challenge)
        if self.use_channel_binding:
            self.gs2_header = b"p=tls-server-end-point," + self.gs2_header.split(b",", 1)[1]
            self.client_first_message = self.gs2_header + self.client_first_message_bare
        return self.client_first_message


# --- client ---------------------------------------------------------------------------------

class Client(slixmpp.ClientXMPP):
    """A ClientXMPP that reports its login and every presence/message it receives."""

    def __init__(self, args, resource=None):
        jid = args.jid if resource is None else "%s/%s" % (args.jid, resource)
        super().__init__(jid, args.password)
        self.args = args
        self.ssl_context = insecure_context(args.tls_max)
        self.whitespace_keepalive = False
        for plugin in ("xep_0030", "xep_0012", "xep_0092", "xep_0199"):
            self.register_plugin(plugin)
        self.session_ready = self.loop.create_future()
        self.mechanism = None
        self._configure_sasl()
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("failed_auth", self._on_failed_auth)
        self.add_event_handler("failed_all_auth", self._on_failed_all_auth)
        self.add_event_handler("stream_error", self._on_stream_error)
        self.add_event_handler("connection_failed", self._on_connection_failed)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("presence", self._on_presence)
        self.add_event_handler("message", self._on_message)
        self.add_filter("out", self._watch_auth)

    # SASL ---------------------------------------------------------------------------------

    def _configure_sasl(self):
        mechs = self["feature_mechanisms"]
        mode = self.args.channel_binding
        if self.args.mech:
            mechs.use_mechs = set(self.args.mech)
        elif mode == "none":
            mechs.use_mechs = {m for m in sasl_client.MECHANISMS if not m.endswith("-PLUS")}
        if mode == "tls-server-end-point":
            for name in list(sasl_client.MECHANISMS):
                if name.startswith("SCRAM-"):
                    sasl_client.MECHANISMS[name] = ServerEndPointScram
        default_credentials = mechs.sasl_callback

        def credentials(required, optional):
            values = default_credentials(required, optional)
            if "channel_binding" in values:
                if mode == "none":
                    values["channel_binding"] = None
                elif mode == "tls-server-end-point":
                    values["channel_binding"] = server_end_point(self.socket.getpeercert(True))
            return values

        mechs.sasl_callback = credentials

    def _watch_auth(self, stanza):
        if stanza.name == "auth":
            first = stanza["value"] or b""
            gs2 = first.split(b",")[0].decode("utf-8", "replace") if first else ""
            self.mechanism = stanza["mechanism"]
            emit("sasl_auth", mechanism=stanza["mechanism"], gs2_flag=gs2)
        return stanza

    def _on_failed_auth(self, stanza):
        emit("sasl_failure", mechanism=self.mechanism, condition=stanza["condition"],
             text=stanza["text"], raw=str(stanza))

    def _on_failed_all_auth(self, _event):
        self._fail("authentication failed with every mechanism tried")

    # stream lifecycle ---------------------------------------------------------------------

    def _on_session_start(self, _event):
        tls = self.socket.version() if isinstance(self.socket, (ssl.SSLObject, ssl.SSLSocket)) else None
        emit("session", jid=str(self.boundjid), mechanism=self.mechanism, tls=tls,
             cipher=self.socket.cipher()[0] if tls else None)
        if tls is None:
            self._fail("session started without TLS")
        elif not self.session_ready.done():
            self.session_ready.set_result(True)

    def _on_stream_error(self, error):
        emit("stream_error", condition=error["condition"], text=error["text"], raw=str(error))

    def _on_connection_failed(self, reason):
        self._fail("connection failed: %s" % reason)

    def _on_disconnected(self, reason):
        emit("disconnected", reason=reason)
        self._fail("disconnected before the session started")

    def _fail(self, why):
        if not self.session_ready.done():
            self.session_ready.set_exception(ScenarioFailed(why))

    # observations -------------------------------------------------------------------------

    def _on_presence(self, pres):
        emit("presence", **{"from": str(pres["from"]), "type": pres["type"],
                            "status": pres["status"], "raw": str(pres)})

    def _on_message(self, msg):
        delay = msg.xml.find("{urn:xmpp:delay}delay")
        emit("message", **{"from": str(msg["from"]), "type": msg["type"], "body": msg["body"],
                           "delayed": delay is not None, "raw": str(msg)})

    # helpers for scenarios ----------------------------------------------------------------

    async def login(self):
        self.connect((self.args.host, self.args.port),
                     use_ssl=self.args.tls == "direct",
                     disable_starttls=self.args.tls == "direct")
        await self.session_ready
        # Once logged in, a disconnect is something the scenario sees, not a login failure.
        self.del_event_handler("disconnected", self._on_disconnected)

    async def query(self, to, xmlns, node_type="get", timeout=5, name="query"):
        """Sends an iq with one empty child and returns (type, condition, raw reply)."""
        iq = self.make_iq(ito=to, itype=node_type)
        iq.xml.append(ET.Element("{%s}%s" % (xmlns, name)))
        try:
            reply = await iq.send(timeout=timeout)
            return "result", None, str(reply)
        except slixmpp.exceptions.IqError as err:
            return "error", err.iq["error"]["condition"], str(err.iq)
        except slixmpp.exceptions.IqTimeout:
            return "timeout", None, None

    async def poll_until(self, predicate, what, timeout=8.0):
        """Polls `predicate` until true; raises ScenarioFailed naming `what` on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise ScenarioFailed("timed out waiting for %s" % what)
            await asyncio.sleep(0.05)

    async def close(self):
        self.disconnect()
        try:
            await asyncio.wait_for(self.disconnected, 5)
        except asyncio.TimeoutError:
            pass


async def outcome(request):
    """Awaits an iq future; returns {type, condition, raw} for a `result` event."""
    try:
        reply = await request
        return {"type": "result", "condition": None, "raw": str(reply)}
    except slixmpp.exceptions.IqError as err:
        return {"type": "error", "condition": err.iq["error"]["condition"], "raw": str(err.iq)}
    except slixmpp.exceptions.IqTimeout:
        return {"type": "timeout", "condition": None, "raw": None}


async def command_loop(client, handle):
    """Runs `handle(line)` for each stdin line until `quit` or end of input; prints a `result`
    event (the command's name and what `handle` returned) after each."""
    reader = await stdin_lines()
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            return
        emit("result", cmd=line.split(" ")[0], **(await handle(line)))


async def stdin_lines():
    """Commands from the test driving this script, one per line; '' at end of input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def run(args, scenario):
    """Runs `scenario(args)` on slixmpp's loop with an overall timeout; exits 0, 1 or 2."""
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # A hard stop even if the event loop itself wedges.
    signal.signal(signal.SIGALRM, lambda *_: (emit("fail", reason="hard timeout"), sys.exit(2)))
    signal.alarm(int(args.timeout) + 5)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(args), args.timeout))
    except ScenarioFailed as err:
        emit("fail", reason=str(err))
        sys.exit(1)
    except asyncio.TimeoutError:
        emit("fail", reason="scenario timed out after %ss" % args.timeout)
        sys.exit(2)
    emit("done")
    sys.exit(0)
