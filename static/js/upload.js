// Uploading one file to a room (POST /api/rooms/<room>/files, docs/api.md "Files") with the
// page's session and its CSRF token; XMLHttpRequest, for its upload progress events. The
// answer is {ok: true, file} or {ok: false, error: {code, message, ...}}, like an ack.
import { humanSize } from "./format.js";

const TOKEN_META = 'meta[name="csrf-token"]';
// Worth trying again by hand (the Retry button): the trouble was the connection or the moment.
const TRANSIENT = new Set(["network", "rate_limited", "internal", "unavailable", "csrf_failed"]);

function csrfToken() {
  const meta = document.querySelector(TOKEN_META);
  return meta ? meta.content : "";
}

/**
 * The CSRF token in the page expires (Flask-WTF signs it with a time: an hour by default), so a
 * page open for longer asks for a fresh one: the page itself, read as an inert document.
 */
async function refreshToken() {
  try {
    const response = await fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(TOKEN_META);
    const meta = document.querySelector(TOKEN_META);
    if (!fresh || !fresh.content || !meta) return false;
    meta.content = fresh.content;
    return true;
  } catch {
    return false;
  }
}

/** An error the server did not describe (a proxy's page, a dropped connection). */
function errorOf(status, body) {
  if (body && body.error && typeof body.error.code === "string") return body.error;
  if (status === 0) return { code: "network", message: "The connection failed." };
  if (status === 413) return { code: "too_large", message: "The file is too large." };
  if (status === 415) return { code: "unsupported_type", message: "This kind of file is not accepted." };
  if (status === 429) return { code: "rate_limited", message: "Too many uploads." };
  if (status >= 500) return { code: "internal", message: "The server failed." };
  return { code: "http", message: `The server answered ${status}.` };
}

function send(room, file, onProgress, setAbort) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/rooms/${encodeURIComponent(room)}/files`);
    xhr.responseType = "json";
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201 && xhr.response && xhr.response.file) resolve({ ok: true, file: xhr.response.file });
      else resolve({ ok: false, error: errorOf(xhr.status, xhr.response) });
    });
    xhr.addEventListener("error", () => resolve({ ok: false, error: errorOf(0, null) }));
    xhr.addEventListener("abort", () => resolve({ ok: false, error: { code: "aborted", message: "Cancelled." } }));
    const body = new FormData();
    body.append("file", file, file.name);
    setAbort(() => xhr.abort());
    xhr.send(body);
  });
}

/**
 * Upload `file` (a File or Blob with a name) to room `room`. onProgress(fraction) follows the
 * bytes going out. Answers {promise, abort()}; the promise never rejects.
 */
export function uploadFile(room, file, onProgress = () => {}) {
  let abort = () => {};
  let aborted = false;
  const setAbort = (fn) => {
    abort = fn;
  };
  const promise = (async () => {
    let answer = await send(room, file, onProgress, setAbort);
    // An expired token: once more with a fresh one.
    if (!answer.ok && answer.error.code === "csrf_failed" && !aborted && await refreshToken() && !aborted) {
      onProgress(0);
      answer = await send(room, file, onProgress, setAbort);
    }
    return answer;
  })();
  return {
    promise,
    abort() {
      aborted = true;
      abort();
    },
  };
}

/** Whether trying the same upload again may work. */
export function retryable(error) {
  return TRANSIENT.has(error.code);
}

/** What went wrong with an upload, for the person who tried. */
export function uploadErrorText(error) {
  switch (error.code) {
    case "too_large":
      return error.limit ? `Too large: a file may be at most ${humanSize(error.limit)}.` : `Too large: ${error.message}`;
    case "quota_exceeded":
      return error.quota ? `Not enough space left: your files may take ${humanSize(error.quota)} in all`
        + `${typeof error.used === "number" ? ` (${humanSize(error.used)} used)` : ""}.` : `Not enough space left: ${error.message}`;
    case "unsupported_type":
      return error.message || "This kind of file is not accepted.";
    case "rate_limited": {
      const wait = Math.max(1, Math.ceil(Number(error.retry_after) || 0));
      return error.retry_after ? `Too many uploads: try again in ${wait} second${wait === 1 ? "" : "s"}.` : "Too many uploads: try again later.";
    }
    case "network":
      return "The upload failed: the connection was lost.";
    default:
      return `Could not upload: ${error.message}`;
  }
}
