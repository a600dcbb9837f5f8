#!/usr/bin/python3
"""A contact that stays online and chats when told (driven through stdin).

Logs in, fetches the roster, sends available presence and prints `ready`; then every stdin
line `send JID BODY...` sends a chat message (printed as `sent`). Every presence and message
received is printed (see xmpp_common.Client). Ends at end of input or `quit`.
"""

import xmpp_common as common


async def scenario(args):
    client = common.Client(args, resource=args.resource)
    await client.login()
    await client.get_roster(timeout=5)
    client.send_presence()
    common.emit("ready", jid=str(client.boundjid))
    reader = await common.stdin_lines()
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            break
        cmd, _, rest = line.partition(" ")
        if cmd == "send":
            to, _, body = rest.partition(" ")
            client.send_message(mto=to, mbody=body, mtype="chat")
            common.emit("sent", to=to, body=body)
    await client.close()


if __name__ == "__main__":
    parser = common.base_parser(__doc__)
    parser.add_argument("--resource")
    common.run(parser.parse_args(), scenario)
