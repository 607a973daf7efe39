"""The echo server the Autobahn suite runs against: every text and binary message back, empty ones too."""


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "bytes": message["bytes"], "text": message["text"]})
