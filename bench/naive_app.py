"""The baseline: Flask-SocketIO's documented chat example, grown up the way most apps grow it.

One file, module-level app, Flask-SQLAlchemy with one commit per message, ``emit(..., to=room)``
and ``socketio.run``. It speaks the same events as Parley (guest auth ``{"name"}``, ``join``,
``message`` with acks) so the same load generator drives both. It is deliberately *not* tuned:
it is what Parley is measured against. Run: ``python bench/naive_app.py`` with PORT and
DATABASE_URL in the environment.
"""
import eventlet

eventlet.monkey_patch()

import os
from datetime import UTC, datetime

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SECRET_KEY"] = "naive"
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///naive.db")
db = SQLAlchemy(app)
socketio = SocketIO(app)
names = {}  # sid -> name
rooms = {}  # room -> set of names


class Message(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    room = db.Column(db.String(64), index=True)
    author = db.Column(db.String(32))
    text = db.Column(db.Text)
    client_id = db.Column(db.String(64))
    created_at = db.Column(db.DateTime, default=lambda: datetime.now(UTC))

    def to_dict(self):
        return {"id": self.id, "room": self.room, "author": self.author, "text": self.text,
                "created_at": self.created_at.isoformat(), "client_id": self.client_id}


@app.route("/healthz")
def healthz():
    return {"ok": True}


@socketio.on("connect")
def on_connect(auth=None):
    name = (auth or {}).get("name")
    if not name or name in names.values():
        raise ConnectionRefusedError({"code": "name_taken"})
    names[request.sid] = name


@socketio.on("disconnect")
def on_disconnect(reason=None):
    name = names.pop(request.sid, None)
    for members in rooms.values():
        members.discard(name)


@socketio.on("join")
def on_join(data):
    room = data["room"]
    join_room(room)
    rooms.setdefault(room, set()).add(names[request.sid])
    history = Message.query.filter_by(room=room).order_by(Message.id.desc()).limit(50).all()
    return {"ok": True, "room": {"name": room}, "members": sorted(rooms[room]),
            "history": [m.to_dict() for m in reversed(history)]}


@socketio.on("message")
def on_message(data):
    message = Message(room=data["room"], author=names[request.sid], text=data["text"],
                      client_id=data.get("client_id"))
    db.session.add(message)
    db.session.commit()
    emit("message", message.to_dict(), to=data["room"])
    return {"ok": True, "message": message.to_dict()}


with app.app_context():
    db.create_all()

if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
