// "X is typing...": telling others while we type, and forgetting others who went quiet.

const REPEAT_MS = 2000; // resend "typing" at most this often while keys keep coming
const IDLE_MS = 3000; // no key for this long means we stopped
// Others resend every ~2 s while typing; if nothing comes for this long they stopped (or vanished).
export const OTHERS_EXPIRE_MS = 6000;

/** Sends typing true (throttled) while the user types in a room, and false when they stop. */
export class TypingNotifier {
  constructor(send) {
    this.send = send; // (room, typing) => void
    this.room = null;
    this.lastSent = 0;
    this.idleTimer = null;
  }

  /** Call on every input in the composer of `room`. */
  input(room) {
    if (this.room && this.room !== room) this.stop();
    this.room = room;
    const now = Date.now();
    if (now - this.lastSent >= REPEAT_MS) {
      this.lastSent = now;
      this.send(room, true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** We sent, switched rooms or went idle: say so once. */
  stop() {
    clearTimeout(this.idleTimer);
    if (this.room && this.lastSent) this.send(this.room, false);
    this.room = null;
    this.lastSent = 0;
  }
}
