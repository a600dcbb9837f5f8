#!/usr/bin/python3
"""XEP-0198 stream resumption after the connection dies without a FIN.

Logs in with slixmpp's own stream management plugin (xep_0198, resumption requested) and its
keepalive ping (xep_0199, every --keepalive seconds, same timeout), which is how slixmpp notices
a connection that went silent: it then reconnects and resumes on its own. Sends initial presence
and prints every message it receives.

Prints `sm_enabled` (with the resumption id), `session` once for the first session, `resumed`
after each resumption, `sm_failed` if the server refused one, and `message` for each message.
Runs until stdin closes.
"""

import asyncio

import xmpp_common as common


class SmClient(common.Client):
    def __init__(self, args):
        super().__init__(args, resource=args.resource)
        self.register_plugin("xep_0198", {"window": 5})
        self.add_event_handler("sm_enabled", self._on_sm_enabled)
        self.add_event_handler("session_resumed", self._on_resumed)
        self.add_event_handler("sm_failed", lambda s: common.emit("sm_failed", raw=str(s)))
        self.add_event_handler("disconnected", self._on_connection_lost)

    def connect(self, address=None, **kwargs):
        # slixmpp's reconnect() passes no address and would look the domain up in DNS.
        return super().connect(address or (self.args.host, self.args.port), **kwargs)

    def _on_sm_enabled(self, stanza):
        common.emit("sm_enabled", id=stanza["id"], resume=stanza["resume"])

    def _on_resumed(self, stanza):
        common.emit("resumed", h=stanza["h"])
        self._keepalive(True)

    def _on_connection_lost(self, reason):
        common.emit("connection_lost", reason=str(reason))
        # No keepalive pings while reconnecting: one reconnection at a time.
        self._keepalive(False)

    def _keepalive(self, on):
        ping = self["xep_0199"]
        if on:
            ping.enable_keepalive(self.args.keepalive, self.args.keepalive)
        else:
            ping.disable_keepalive()


async def scenario(args):
    client = SmClient(args)
    await client.login()
    client.send_presence()
    client._keepalive(True)
    reader = await common.stdin_lines()
    while await reader.readline():
        pass
    client._keepalive(False)
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("--resource", default="sm")
    parser.add_argument("--keepalive", type=float, default=1.0)
    common.run(parser.parse_args(), scenario)
