"""The framework workloads: a Starlette app and a FastAPI app, written as their users write them.

    /starlette/plaintext  a PlainTextResponse from an async endpoint
    /starlette/json       a JSONResponse
    /fastapi/json         a pydantic response model, validated and serialized by FastAPI
    /fastapi/plaintext    a PlainTextResponse from a FastAPI route

``apps.py`` hands these paths over (importing this module at the first such request, so the other
workloads' servers never load a framework).
"""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse as FastAPIPlainText
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def starlette_plaintext(request):
    return PlainTextResponse("Hello, world!")


async def starlette_json(request):
    return JSONResponse({"message": "Hello, world!"})


starlette_app = Starlette(routes=[Route("/starlette/plaintext", starlette_plaintext),
                                  Route("/starlette/json", starlette_json)])


class Message(BaseModel):
    message: str
    count: int


fastapi_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_app.get("/fastapi/json", response_model=Message)
async def fastapi_json() -> Message:
    return Message(message="Hello, world!", count=1)


@fastapi_app.get("/fastapi/plaintext", response_class=FastAPIPlainText)
async def fastapi_plaintext() -> str:
    return "Hello, world!"
