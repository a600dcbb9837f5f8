#!/usr/bin/python3
"""Log in, fetch the roster, ping the server, log out.

Prints `session` (bound JID, SASL mechanism, TLS version), `roster` and `ping`; exits 0 only
if all of them worked.
"""

import xmpp_common as common


async def scenario(args):
    client = common.Client(args)
    await client.login()
    roster = await client.get_roster(timeout=5)
    common.emit("roster", type=roster["type"], items=sorted(str(j) for j in roster["roster"]["items"]))
    kind, condition, raw = await client.query(client.boundjid.domain, "urn:xmpp:ping", name="ping")
    common.emit("ping", type=kind, condition=condition, raw=raw)
    if kind != "result":
        raise common.ScenarioFailed("ping to the server was not answered with a result")
    await client.close()


if __name__ == "__main__":
    common.run(common.base_parser(__doc__).parse_args(), scenario)
