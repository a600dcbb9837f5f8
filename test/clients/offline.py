#!/usr/bin/python3
"""Offline messages (RFC 6121 §8.5.2.2.1 storage, delivered at the next available presence).

  send     Log in, send --count chat messages "offline N" to --peer's bare JID, then make
           sure the server has processed them (a ping round trip) and log out.
  receive  Log in, send initial presence, and wait for the --count "offline N" messages
           from --peer; prints each with whether it carries a XEP-0203 delay stamp.
           With --count 0, fails if any "offline N" message arrives within 1.5 s.
"""

import asyncio

import xmpp_common as common
from slixmpp import JID


async def send(client, args):
    for n in range(1, args.count + 1):
        client.send_message(mto=args.peer, mbody="offline %d" % n, mtype="chat")
        common.emit("sent", to=args.peer, body="offline %d" % n)
    # The ping is answered after the messages ahead of it on the stream were handled.
    kind, condition, _ = await client.query(client.boundjid.domain, "urn:xmpp:ping", name="ping")
    if kind != "result":
        raise common.ScenarioFailed("ping after sending was answered with %s %s" % (kind, condition))


async def receive(client, args):
    peer = JID(args.peer).bare
    got = []

    def on_message(msg):
        if JID(msg["from"]).bare == peer and msg["body"].startswith("offline "):
            got.append(msg["body"])

    client.add_event_handler("message", on_message)
    await client.get_roster(timeout=5)
    client.send_presence()
    if args.count == 0:
        # Already delivered messages must not come back on a later login.
        await asyncio.sleep(1.5)
        if got:
            raise common.ScenarioFailed("offline messages delivered again: %r" % got)
        return
    await client.poll_until(lambda: len(got) >= args.count, "%d offline messages" % args.count)
    expected = ["offline %d" % n for n in range(1, args.count + 1)]
    if got != expected:
        raise common.ScenarioFailed("offline messages %r, expected %r in order" % (got, expected))


async def scenario(args):
    client = common.Client(args)
    await client.login()
    await (send if args.mode == "send" else receive)(client, args)
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("mode", choices=["send", "receive"])
    parser.add_argument("--peer", required=True)
    parser.add_argument("--count", type=int, default=2)
    common.run(parser.parse_args(), scenario)
