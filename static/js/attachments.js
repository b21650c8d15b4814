// The files a message carries (protocol v2 `files`): images as previews (their thumbnail, its
// space reserved from the width and height the server measured, so the timeline does not jump)
// that open full size in a dialog, other files as cards with an icon, the name, the size and a
// download link; elsewhere (search results, pins, messages on their way) a short summary.
// Names go in through textContent only.
import { modal } from "./dialogs.js";
import { el } from "./dom.js";
import { humanSize } from "./format.js";

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
// The largest a preview is drawn in a message (CSS pixels); thumbnails are at most 480x480.
const PREVIEW_WIDTH = 320;
const PREVIEW_HEIGHT = 240;

/** A kind (it colours the icon), a word and a short tag for a file's type (the server decides it from the content). */
const KINDS = [
  [(type) => IMAGE_TYPES.has(type), "image", "Image", "IMG"],
  [(type) => type === "application/pdf", "pdf", "PDF document", "PDF"],
  [(type) => /zip|gzip|x-tar|7z/.test(type), "archive", "Archive", "ZIP"],
  [(type) => type.startsWith("audio/"), "audio", "Audio", "AUDIO"],
  [(type) => type.startsWith("video/"), "video", "Video", "VIDEO"],
  [(type) => type.startsWith("text/"), "text", "Text", "TXT"],
];

export function fileKind(type) {
  const found = KINDS.find(([test]) => test(String(type || "")));
  return found ? { kind: found[1], label: found[2], tag: found[3] } : { kind: "other", label: "File", tag: "FILE" };
}

/**
 * The icon of a file: a page with its extension on it ("PDF", "MP3"), coloured by its kind;
 * drawn with CSS, no emoji font needed.
 */
export function fileIcon(name, type) {
  const { kind, tag } = fileKind(type);
  const ext = /\.([A-Za-z0-9]{1,4})$/.exec(name || "");
  return el("span", { className: "file-icon", dataset: { kind }, text: ext ? ext[1].toUpperCase() : tag, attrs: { "aria-hidden": "true" } });
}

export function isImage(file) {
  return IMAGE_TYPES.has(file.type) && Boolean(file.thumbnail_url || file.url);
}

/** The size to draw an image of width x height at, at most max (keeping its shape). */
export function fitted(width, height, maxWidth = PREVIEW_WIDTH, maxHeight = PREVIEW_HEIGHT) {
  if (!width || !height) return null;
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** "photo.png", "photo.png and notes.txt", "3 files: a.png, b.txt, c.pdf". */
export function filesSummary(files) {
  if (!files || !files.length) return "";
  const names = files.map((file) => file.name);
  if (names.length === 1) return names[0];
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names.length} files: ${names.join(", ")}`;
}

/** A one-line mention of a message's files (search results, pins, dialogs, pending messages). */
export function filesLine(files) {
  if (!files || !files.length) return null;
  const label = files.length === 1 ? "1 file" : `${files.length} files`;
  return el("span", { className: "files-line", title: files.map((file) => `${file.name} (${humanSize(file.size)})`).join("\n") },
    el("span", { className: "visually-hidden", text: `${label}: ` }),
    filesSummary(files));
}

/** When an image (or its thumbnail) cannot be loaded, its name shows instead. */
function onBroken(img, node) {
  img.addEventListener("error", () => node.classList.add("broken"), { once: true });
}

function previewNode(file) {
  const size = fitted(file.width, file.height);
  const img = el("img", {
    src: file.thumbnail_url || file.url, alt: file.name, decoding: "async",
    ...(size ? { width: size.width, height: size.height } : {}),
  });
  const button = el("button", {
    type: "button", className: size ? "file-preview" : "file-preview unsized", title: `${file.name}: open full size`,
    dataset: { action: "view-file", file: String(file.id), focus: `file-${file.id}` },
    attrs: { "aria-label": `${file.name}, image, ${humanSize(file.size)}: open full size` },
  }, img, el("span", { className: "file-preview-name", text: file.name, attrs: { "aria-hidden": "true" } }));
  onBroken(img, button);
  return button;
}

/**
 * A file that is not shown as a picture. `locked`: the viewer cannot download it (a guest:
 * file addresses answer only to logged-in accounts), so the card says so instead of a link.
 */
function cardNode(file, locked) {
  const kind = fileKind(file.type);
  const link = locked
    ? el("span", { className: "file-locked", text: "Log in to open" })
    : el("a", {
      className: "file-download", href: file.url, text: "Download",
      dataset: { focus: `download-${file.id}` },
      attrs: { download: file.name, "aria-label": `Download ${file.name} (${humanSize(file.size)})` },
    });
  return el("div", { className: "file-card", dataset: { file: String(file.id), type: file.type || "" } },
    fileIcon(file.name, file.type),
    el("span", { className: "file-info" },
      el("span", { className: "file-name", text: file.name, title: file.name }),
      el("span", { className: "file-meta", text: `${kind.label} · ${humanSize(file.size)}` })),
    link);
}

/** The files of a message, as previews and cards; null without any. canOpen: false for a guest. */
export function attachmentsNode(files, { canOpen = true } = {}) {
  if (!files || !files.length) return null;
  const label = files.length === 1 ? "1 file" : `${files.length} files`;
  return el("div", { className: "msg-files", attrs: { role: "group", "aria-label": `Attached: ${label}` } },
    ...files.map((file) => (canOpen && isImage(file) ? previewNode(file) : cardNode(file, !canOpen))));
}

/** The full-size image in a dialog: its name, size and a download link; Escape closes it. */
export function viewImage(file) {
  const size = fitted(file.width, file.height, 4096, 4096);
  const image = el("img", {
    className: "viewer-image", src: file.url, alt: file.name,
    ...(size ? { width: size.width, height: size.height } : {}),
  });
  const facts = [humanSize(file.size), file.width && file.height ? `${file.width} × ${file.height}` : null].filter(Boolean);
  const frame = el("div", { className: "viewer-frame" }, image);
  onBroken(image, frame);
  const download = el("a", { className: "btn", href: file.url, text: "Download", attrs: { download: file.name } });
  const close = el("button", { type: "button", className: "btn btn-primary", text: "Close" });
  const { done, closed } = modal(file.name, [
    frame,
    el("p", { className: "viewer-meta", text: facts.join(" · ") }),
    el("div", { className: "dialog-actions" }, download, close),
  ], { className: "viewer-dialog" });
  close.addEventListener("click", () => done(null));
  close.focus();
  return closed;
}
