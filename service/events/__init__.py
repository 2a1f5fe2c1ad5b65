"""`agno-session serve-events`: the change feed as server-sent events, from a process of its own (aiohttp on one
event loop), where one poller per database reads the change log and fans each page out to every open stream."""
