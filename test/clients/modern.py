#!/usr/bin/python3
"""What today's clients rely on beyond RFC 6121: message carbons (XEP-0280), PEP (XEP-0163)
with entity capabilities (XEP-0115), the blocking command (XEP-0191) and vCards (XEP-0054),
through slixmpp's own
plugins.

Logs in (resource --resource), enables carbons with --carbons, announces `NODE+notify` in its
caps for each --notify NODE, goes available, prints `ready`, then runs one command per stdin
line and prints a `result` event for each:
  send JID TEXT          a chat message
  publish NODE ID TEXT   publish <note xmlns='urn:example:note'>TEXT</note> as item ID
  block JID              add JID to the blocklist
  setvcard NAME          publish our vCard (XEP-0054) with this full name
  vcard JID              read JID's vCard
  status TEXT            a new available presence
  quit                   log out (also at end of input)
Every presence and message received is printed; carbon copies as `carbon` (kind sent or
received, with the inner message), PEP notifications as `pep`, and the server's XEP-0115
disco#info queries as `caps_query`.
"""

import xmpp_common as common
from slixmpp.xmlstream import ET

NOTE_NS = "urn:example:note"


def install(client, args):
    for plugin in ("xep_0054", "xep_0060", "xep_0115", "xep_0163", "xep_0191", "xep_0280"):
        client.register_plugin(plugin)

    def carbon(kind):
        def handler(msg):
            inner = msg["carbon_%s" % kind]
            common.emit("carbon", kind=kind, body=inner["body"], **{
                "from": str(inner["from"]), "to": str(inner["to"]), "outer_from": str(msg["from"])})
        return handler

    client.add_event_handler("carbon_received", carbon("received"))
    client.add_event_handler("carbon_sent", carbon("sent"))

    def on_publish(msg):
        item = msg["pubsub_event"]["items"]["item"]
        note = item.xml.find("{%s}note" % NOTE_NS)
        common.emit("pep", node=msg["pubsub_event"]["items"]["node"], id=item["id"],
                    text=None if note is None else note.text, **{"from": str(msg["from"])})

    client.add_event_handler("pubsub_publish", on_publish)

    def watch_caps_queries(stanza):
        query = stanza.xml.find("{http://jabber.org/protocol/disco#info}query")
        if stanza.name == "iq" and stanza["type"] == "get" and query is not None \
                and "#" in (query.get("node") or ""):
            common.emit("caps_query", **{"from": str(stanza["from"])})
        return stanza

    client.add_filter("in", watch_caps_queries)


async def command(client, line):
    name, _, rest = line.partition(" ")
    if name == "send":
        to, _, text = rest.partition(" ")
        client.send_message(mto=to, mbody=text, mtype="chat")
        return {}
    if name == "publish":
        node, item_id, text = rest.split(" ", 2)
        note = ET.Element("{%s}note" % NOTE_NS)
        note.text = text
        return await common.outcome(
            client["xep_0060"].publish(client.boundjid.bare, node, id=item_id, payload=note))
    if name == "block":
        return await common.outcome(client["xep_0191"].block(rest))
    if name == "setvcard":
        vcard = client["xep_0054"].make_vcard()
        vcard["FN"] = rest
        return await common.outcome(client["xep_0054"].publish_vcard(vcard))
    if name == "vcard":
        return await common.outcome(client["xep_0054"].get_vcard(rest, local=False))
    if name == "status":
        client.send_presence(pstatus=rest)
        return {}
    raise common.ScenarioFailed("unknown command %r" % line)


async def scenario(args):
    client = common.Client(args, resource=args.resource)
    install(client, args)
    await client.login()
    await client.get_roster(timeout=5)
    if args.carbons:
        await client["xep_0280"].enable(timeout=5)
    for node in args.notify or []:
        client["xep_0030"].add_feature("%s+notify" % node)
    await client["xep_0115"].update_caps(broadcast=False)
    client.send_presence()
    common.emit("ready", jid=str(client.boundjid))
    await common.command_loop(client, lambda line: command(client, line))
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("--resource")
    parser.add_argument("--carbons", action="store_true")
    parser.add_argument("--notify", action="append")
    args = parser.parse_args()
    common.run(args, scenario)
