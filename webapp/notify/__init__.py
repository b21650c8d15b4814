"""Notifications (issue 18): per-room settings, Web Push, e-mail digests and their durable outbox.

models.py     the tables (imported by webapp/models.py)
settings.py   per-room levels and mutes, account preferences, e-mail address, push subscriptions
outbox.py     who is told of a new message (a watermark over messages) and the delivery queue
webpush.py    VAPID and aes128gcm: one encrypted push to one browser subscription
digest.py     the e-mail digest of unread mentions and DMs, and its unsubscribe token
"""
