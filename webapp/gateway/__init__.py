"""The plain WebSocket gateway: ``/ws`` speaks JSON text frames to any WebSocket client.

Same process, rooms, operations, storage and authorization as the Socket.IO side
(docs/websocket.md). ``create_app`` builds the ``Hub`` (hub.py), hands ``client_manager(hub,
...)`` to Flask-SocketIO so every room event reaches both kinds of client, and calls
``middleware.init_app`` to serve the path; each connection is a ``Connection``
(connection.py) speaking ``protocol.py``'s frames.
"""
