"""Request validation as AgentOS 3.1.10 (FastAPI 0.165, pydantic 2.14) does it: pure functions, no I/O.

Two phases: first FastAPI's own checks, reproduced byte for byte (`RequestInvalid` at once); then, only when those
pass, our checks for inputs on which AgentOS answers 500 later (page=0, bigint overflow, NUL bytes, lone
surrogates, NaN/Infinity) or which only our extensions read (`runs`, `summary` on create). Those come back in
`Parsed.deferred`, to be answered after the request's database is resolved, as AgentOS would order them.
`parsers` holds one parser per route; the other modules are the rules those parsers are built from.
"""
