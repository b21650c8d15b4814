"""Console pages for rooms: list and search, archive (read-only), delete, change the owner, and
the members of private rooms. Every change is audited."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import delete, func, select

from webapp import accounts, audit
from webapp.admin.forms import EmptyForm, NameForm
from webapp.admin.views import _csrf_refused, _done, _failed, admin, bp
from webapp.chat import archive, broadcast, cluster, files
from webapp.errors import AppError, NotFound
from webapp.extensions import db, presence
from webapp.models import File, Room, RoomMember, User, utcnow

PAGE = 50


def _room(room_id: int) -> Room:
    """A public or private room; conversations (DMs) are their two people's, not the console's."""
    room = db.session.get(Room, room_id)
    if room is None or room.kind == "dm":
        raise NotFound("No such room.")
    return room


@bp.get("/rooms")
def rooms():
    query = request.args.get("q", "").strip()[:64]
    after = request.args.get("after", "")
    rows = select(Room, User.name).outerjoin(User, Room.owner_id == User.id).where(
        Room.kind != "dm", Room.name > after)
    if query:
        rows = rows.where(Room.name.contains(query.lower(), autoescape=True))
    found = db.session.execute(rows.order_by(Room.name).limit(PAGE)).all()
    more = len(found) == PAGE
    return render_template("admin/rooms.html", rooms=found, query=query, form=EmptyForm(),
                           next_after=found[-1][0].name if more else None)


@bp.get("/rooms/<int:room_id>")
def room(room_id: int):
    found = _room(room_id)
    members = db.session.scalars(
        select(User).join(RoomMember, RoomMember.user_id == User.id)
        .where(RoomMember.room_id == found.id).order_by(User.name_key)).all()
    owner = db.session.get(User, found.owner_id) if found.owner_id else None
    count = db.session.scalar(select(func.count()).select_from(RoomMember)
                              .where(RoomMember.room_id == found.id))
    return render_template("admin/room.html", room=found, owner=owner, members=members,
                           count=count, online=presence.members(found.name),
                           form=EmptyForm(), owner_form=NameForm(formdata=None))


@bp.post("/rooms/<int:room_id>/archive")
def archive_room(room_id: int):
    return _archive(room_id, True)


@bp.post("/rooms/<int:room_id>/unarchive")
def unarchive_room(room_id: int):
    return _archive(room_id, False)


def _archive(room_id: int, archiving: bool):
    """Make a room read-only (``room_archived`` on every write), or writable again."""
    EmptyForm().validate_on_submit() or _csrf_refused()
    found = _room(room_id)
    found.archived_at = utcnow() if archiving else None
    db.session.commit()
    archive.forget()
    broadcast.archived(found.name, archiving)
    audit.record("room_archived" if archiving else "room_unarchived", actor=admin(),
                 target=f"room:{found.name}")
    state = "archived: read-only" if archiving else "open again"
    return _done(f"#{found.name} is {state}.", "admin.room", room_id=found.id)


@bp.post("/rooms/<int:room_id>/owner")
def change_owner(room_id: int):
    form = NameForm()
    form.validate_on_submit() or _csrf_refused()
    found = _room(room_id)
    new_owner = accounts.find_user(form.name.data.strip())
    if new_owner is None:
        return _failed(NotFound("No registered user by that name."), "admin.room", room_id=room_id)
    if found.kind == "private" and db.session.get(RoomMember, (found.id, new_owner.id)) is None:
        db.session.add(RoomMember(room_id=found.id, user_id=new_owner.id))  # an owner is in it
    found.owner_id = new_owner.id
    db.session.commit()
    audit.record("room_owner_changed", actor=admin(), target=f"room:{found.name}",
                 details={"owner": new_owner.name})
    return _done(f"#{found.name} now belongs to {new_owner.name}.", "admin.room", room_id=room_id)


@bp.post("/rooms/<int:room_id>/members/<int:user_id>/remove")
def remove_member(room_id: int, user_id: int):
    EmptyForm().validate_on_submit() or _csrf_refused()
    found = _room(room_id)
    member = db.session.get(User, user_id)
    if member is None or db.session.get(RoomMember, (found.id, user_id)) is None:
        return _failed(NotFound("Not a member."), "admin.room", room_id=room_id)
    if found.owner_id == user_id:
        return _failed(AppError("Give the room another owner first.", code="owner"),
                       "admin.room", room_id=room_id)
    db.session.execute(delete(RoomMember).where(RoomMember.room_id == found.id,
                                                RoomMember.user_id == user_id))
    db.session.commit()
    me = admin()
    cluster.kick_everywhere(found.name, f"user:{user_id}", member.name, by=me.name)
    audit.record("room_member_removed", actor=me, target=f"room:{found.name}",
                 details={"user": member.name})
    return _done(f"{member.name} is no longer in #{found.name}.", "admin.room", room_id=room_id)


@bp.post("/rooms/<int:room_id>/delete")
def delete_room(room_id: int):
    """Delete a room with its messages and files. Everyone in it is put out (``kicked``); the
    name is free again, and a later join makes a new, empty public room of it."""
    EmptyForm().validate_on_submit() or _csrf_refused()
    found = _room(room_id)
    name, me = found.name, admin()
    keys = [k for row in db.session.scalars(select(File).where(File.room_id == found.id))
            for k in (row.key, row.thumbnail_key) if k]
    # Messages, files' rows, members, room bans: ON DELETE CASCADE in the database.
    db.session.execute(delete(Room).where(Room.id == found.id))
    db.session.commit()
    files.delete_stored(keys)
    for person in presence.members(name):
        user = accounts.find_user(person)
        key = f"user:{user.id}" if user is not None else f"guest:{person.casefold()}"
        cluster.kick_everywhere(name, key, person, by=me.name)
    cluster.forget_room_everywhere(name)
    audit.record("room_deleted", actor=me, target=f"room:{name}")
    return _done(f"#{name} was deleted.", "admin.rooms")

