"""Clients of Parley's public event API: ``parley_client`` (a library for bots and scripts) and
short scripts over it and over python-socketio (``bot.py``, ``chat_client.py``)."""
