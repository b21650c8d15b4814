"""The engine: everything that knows eventlet or reaches into python-engineio, python-socketio or
Flask-SocketIO internals, in one folder (the rest of Parley never does).

- ``serving``: how ``python wsgi.py`` serves: its own listener, eventlet's WSGI server, the
  WebSocket hardening, the SQLite checkpoint thread, and ``install`` of all of the below.
- ``connections``: idle WebSockets without a greenlet of their own, pings from the hub's timers,
  the long-polling batch limit, the bound on bytes queued per connection.
- ``fanout``: the last mile of a broadcast: framed once, written straight to idle WebSockets.
- ``protocol``: python-engineio's and python-socketio's servers, made to follow the protocols.
- ``websocket``: eventlet's WebSocket for the plain gateway (``/ws``), bounded and hardened.
- ``messagequeue``: the Redis message queue that survives Redis trouble.
- ``eventcontext``: Socket.IO events without Flask's per-request work they never use.
- ``offload``: CPU-heavy calls (password hashes) on native threads, off the event loop.
- ``lifecycle``: the process's duties (presence heartbeat, moderation listener) and its graceful
  exit on SIGTERM.
- ``compat``: the exact versions and private names all this was written for, checked at start.
"""
