"""Requesting a movie or show from chat, and telling the requester how it went.

``service`` is the interface to Overseerr/Jellyseerr (implemented by an
adapter, injected by ``bot/``), ``intent`` recognises a request in plain
words, ``pending`` keeps a request in progress in the database, ``flow`` is
the conversation (pick, seasons, confirm), ``notifications`` the outbox of
"your request is ready" messages.
"""
