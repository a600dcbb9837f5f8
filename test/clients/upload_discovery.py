#!/usr/bin/python3
"""Find the HTTP upload service the way slixmpp's xep_0363 does, and ask it for a slot.

slixmpp's xep_0363 plugin needs aiohttp (not in Debian's python3-slixmpp dependencies) for its
PUT, and the disco helper it calls (`get_info_from_domain`) passes coroutines to asyncio.wait,
which Python 3.11 refuses. So this script runs the same discovery with slixmpp's disco plugin
step by step: disco#info of the domain and of each of its disco#items, the first with identity
store/file and feature urn:xmpp:http:upload:0, its max-file-size form field; then a slot.
Prints `service` (jid, max_file_size) and `slot` (put, get, headers); the test does the HTTP.
"""

import xmpp_common as common
from slixmpp.xmlstream import ET

NS = "urn:xmpp:http:upload:0"


async def scenario(args):
    client = common.Client(args)
    client.register_plugin("xep_0128")  # parses the disco#info form (max-file-size)
    await client.login()
    disco = client["xep_0030"]
    domain = client.boundjid.domain
    infos = [await disco.get_info(jid=domain, timeout=5)]
    items = await disco.get_items(jid=domain, timeout=5)
    for item in items["disco_items"]["items"]:
        infos.append(await disco.get_info(jid=item[0], timeout=5))
    service = None
    for info in infos:
        disco = info["disco_info"]
        is_store = any(i[0] == "store" and i[1] == "file" for i in disco["identities"])
        if is_store and NS in disco["features"]:
            service = info
            break
    if service is None:
        raise common.ScenarioFailed("no upload service found in disco")
    max_size = None
    for form in service["disco_info"].iterables:
        values = form["values"]
        if values.get("FORM_TYPE") in ([NS], NS):
            max_size = int(values["max-file-size"])
    common.emit("service", jid=str(service["from"]), max_file_size=max_size)

    iq = client.make_iq_get(ito=service["from"])
    request = ET.Element("{%s}request" % NS, filename=args.filename, size=str(args.size))
    request.set("content-type", "text/plain")
    iq.xml.append(request)
    reply = await iq.send(timeout=5)
    slot = reply.xml.find("{%s}slot" % NS)
    put = slot.find("{%s}put" % NS)
    get = slot.find("{%s}get" % NS)
    headers = {h.get("name"): h.text for h in put.findall("{%s}header" % NS)}
    common.emit("slot", put=put.get("url"), get=get.get("url"), headers=headers)
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("--filename", default="notes.txt")
    parser.add_argument("--size", type=int, default=0)
    common.run(parser.parse_args(), scenario)
