#!/usr/bin/python3
"""The stranger policy (T1) as a standard client lives it; no Rampart extension is used.

  recipient  Log in, go available, wait for the server's notice that a stranger wrote, accept
             by adding the stranger to the roster (a plain roster set), wait for the held
             message (with its XEP-0203 delay), answer "thanks, accepted".
  sender     Log in, go available, write to the peer (a stranger to it), wait for the server's
             notice that the message waits for acceptance, then for the peer's answer.

Both print `ready`, every message they receive, and `done`.
"""

import xmpp_common as common
from slixmpp import JID

HELLO = "hi, it's carol from sales"


def bare(jid):
    return JID(jid).bare


def received(client, pred):
    return any(pred(m) for m in client.seen_messages)


async def recipient(client, args):
    peer, domain = bare(args.peer), JID(args.jid).domain
    await client.get_roster(timeout=5)
    client.send_presence()
    common.emit("ready")
    await client.poll_until(
        lambda: received(client, lambda m: str(m["from"]) == domain and peer in m["body"]),
        "the server's notice about the stranger")
    if received(client, lambda m: bare(m["from"]) == peer):
        raise common.ScenarioFailed("the stranger's message arrived before it was accepted")
    common.emit("accepting", jid=peer)
    await client.update_roster(peer, name="Carol", timeout=5)
    await client.poll_until(
        lambda: received(client, lambda m: bare(m["from"]) == peer and m["body"] == HELLO),
        "the held message")
    client.send_message(mto=peer, mbody="thanks, accepted", mtype="chat")


async def sender(client, args):
    peer, domain = bare(args.peer), JID(args.jid).domain
    await client.get_roster(timeout=5)
    client.send_presence()
    common.emit("ready")
    client.send_message(mto=peer, mbody=HELLO, mtype="chat")
    await client.poll_until(
        lambda: received(client, lambda m: str(m["from"]) == domain and "waiting" in m["body"]),
        "the notice that the message waits")
    await client.poll_until(
        lambda: received(client, lambda m: bare(m["from"]) == peer and m["body"] == "thanks, accepted"),
        "the peer's answer", timeout=15)


async def scenario(args):
    client = common.Client(args)
    client.seen_messages = []
    client.add_event_handler("message", client.seen_messages.append)
    await client.login()
    await (recipient if args.mode == "recipient" else sender)(client, args)
    common.emit("done")
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("mode", choices=["recipient", "sender"])
    parser.add_argument("--peer", required=True)
    common.run(parser.parse_args(), scenario)
