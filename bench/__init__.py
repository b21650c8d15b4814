"""Parley's benchmark: a lean Socket.IO load generator, a naive baseline app, and the report."""
