#!/usr/bin/python3
"""Presence subscription with approval, presence, and a chat both ways (RFC 6121 §3, §4, §5).

  approve  Log in, go available, approve the peer's subscription request (slixmpp's own
           auto_authorize), with --mutual also ask for the peer's presence in return; echo
           every chat message from the peer ("echo: BODY") until it says "bye".
  request  Log in, go available, ask the peer for a subscription, wait for `subscribed`
           and the peer's available presence; with --mutual approve the peer's request in
           return; send "hello", expect "echo: hello", send "bye".

Both print `ready` once available, every presence and message, and `roster_item` (the
subscription state of the peer in their roster) at the end.
"""

import xmpp_common as common
from slixmpp import JID


def bare(jid):
    return JID(jid).bare


def peer_available(client, peer):
    """Whether an available presence from any resource of `peer` was received."""
    return any(bare(p["from"]) == peer and p["type"] == "available" for p in client.seen_presence)


async def approve(client, args):
    peer = bare(args.peer)
    client.auto_authorize = True
    client.auto_subscribe = args.mutual
    said_bye = client.loop.create_future()

    def on_message(msg):
        if bare(msg["from"]) != peer or msg["type"] not in ("chat", "normal"):
            return
        if msg["body"] == "bye":
            if not said_bye.done():
                said_bye.set_result(True)
        else:
            msg.reply("echo: %s" % msg["body"]).send()

    client.add_event_handler("message", on_message)
    await client.get_roster(timeout=5)
    client.send_presence(pstatus="approver here")
    common.emit("ready")
    await said_bye
    if args.mutual:
        await client.poll_until(lambda: peer_available(client, peer), "the peer's presence")


async def request(client, args):
    peer = bare(args.peer)
    client.auto_authorize = True if args.mutual else None
    client.auto_subscribe = False
    await client.get_roster(timeout=5)
    client.send_presence(pstatus="requester here")
    common.emit("ready")
    client.send_presence(pto=peer, ptype="subscribe")
    await client.poll_until(
        lambda: any(bare(p["from"]) == peer and p["type"] == "subscribed" for p in client.seen_presence),
        "subscribed from the peer")
    await client.poll_until(lambda: peer_available(client, peer), "the peer's available presence")
    if args.mutual:
        await client.poll_until(
            lambda: client.client_roster[peer]["subscription"] == "both", "subscription both")
    client.send_message(mto=peer, mbody="hello", mtype="chat")
    await client.poll_until(
        lambda: any(bare(m["from"]) == peer and m["body"] == "echo: hello" for m in client.seen_messages),
        "the peer's echo")
    client.send_message(mto=peer, mbody="bye", mtype="chat")


async def scenario(args):
    client = common.Client(args, resource=args.resource)
    client.seen_presence = []
    client.seen_messages = []
    client.add_event_handler("presence", client.seen_presence.append)
    client.add_event_handler("message", client.seen_messages.append)
    await client.login()
    await (approve if args.mode == "approve" else request)(client, args)
    item = client.client_roster[bare(args.peer)]
    common.emit("roster_item", jid=bare(args.peer), subscription=item["subscription"],
                pending_out=item["pending_out"])
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("mode", choices=["approve", "request"])
    parser.add_argument("--peer", required=True)
    parser.add_argument("--mutual", action="store_true")
    parser.add_argument("--resource")
    common.run(parser.parse_args(), scenario)
