#!/usr/bin/python3
"""What a user can learn about --peer, step by step (T7: no presence or activity without an
approved subscription, RFC 6121 §4, XEP-0012).

Logs in (resource --resource), goes available with --status, prints `ready`, then runs one
command per stdin line and prints a `result` event for each:
  status TEXT   send a new available presence with this status
  subscribe     ask --peer for a subscription (the peer does not answer it)
  probe         send <presence type='probe'/> to --peer's bare JID
  last          XEP-0012 query to --peer's bare JID
  version       XEP-0092 query to --peer's full JID (--peer-resource)
  items         XEP-0030 disco#items query to --peer's bare JID
  quit          log out (also at end of input)
Every presence and message received is printed as it arrives. Subscription requests are
left unanswered (neither approved nor refused).
"""

import xmpp_common as common
from slixmpp import JID


async def command(client, args, line):
    name, _, rest = line.partition(" ")
    peer = JID(args.peer).bare
    if name == "status":
        client.send_presence(pstatus=rest)
        return {}
    if name == "subscribe":
        client.send_presence(pto=peer, ptype="subscribe")
        return {}
    if name == "probe":
        client.send_presence(pto=peer, ptype="probe")
        return {}
    if name in ("last", "version", "items"):
        xmlns, to = {
            "last": ("jabber:iq:last", peer),
            "version": ("jabber:iq:version", "%s/%s" % (peer, args.peer_resource)),
            "items": ("http://jabber.org/protocol/disco#items", peer),
        }[name]
        kind, condition, raw = await client.query(to, xmlns)
        return {"type": kind, "condition": condition, "raw": raw}
    raise common.ScenarioFailed("unknown command %r" % line)


async def scenario(args):
    client = common.Client(args, resource=args.resource)
    client.auto_authorize = None
    client.auto_subscribe = False
    await client.login()
    await client.get_roster(timeout=5)
    client.send_presence(pstatus=args.status)
    common.emit("ready", jid=str(client.boundjid))
    reader = await common.stdin_lines()
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            break
        common.emit("result", cmd=line.split(" ")[0], **(await command(client, args, line)))
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--peer-resource", default="")
    parser.add_argument("--resource")
    parser.add_argument("--status", default="")
    args = parser.parse_args()
    common.run(args, scenario)
