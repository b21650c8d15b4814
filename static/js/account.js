// The account pages (log in, register, settings): password rules ticked off while typing, the
// new token's Copy button, token dates in the browser's own time zone, and no form sent twice.
import { hueOf, initial } from "./format.js";

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

/** <time datetime="ISO" data-local>: the server writes UTC, the reader wants their own clock. */
function localDates() {
  for (const node of document.querySelectorAll("time[data-local]")) {
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    node.textContent = dateFormat.format(date);
    node.title = fullFormat.format(date);
  }
}

/** Each rule of a new password says whether it is met, once the person has typed something. */
function passwordRules() {
  for (const rule of document.querySelectorAll(".rules li[data-rule]")) {
    const password = document.getElementById(rule.dataset.for);
    const confirm = rule.dataset.confirm ? document.getElementById(rule.dataset.confirm) : null;
    if (!password) continue;
    const check = () => {
      let met;
      if (rule.dataset.rule === "length") met = password.value.length >= Number(rule.dataset.min);
      else met = Boolean(confirm) && confirm.value !== "" && confirm.value === password.value;
      // Untouched, a rule is just a rule: nothing is marked before its field has been typed in.
      const touched = (rule.dataset.rule === "match" ? confirm : password)?.value !== "";
      rule.dataset.met = touched ? String(met) : "";
    };
    password.addEventListener("input", check);
    if (confirm) confirm.addEventListener("input", check);
    check();
  }
}

async function copyText(text, source) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (not a secure context, or refused): copy the selection the old way.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = button.closest(".new-token")?.querySelector(".copy-status");
    if (!source) continue;
    button.addEventListener("click", async () => {
      const copied = await copyText(source.textContent.trim(), source);
      button.textContent = copied ? "Copied" : "Copy";
      if (status) status.textContent = copied ? "Copied to the clipboard." : "Select the token and copy it yourself.";
    });
  }
}

function avatars() {
  for (const node of document.querySelectorAll(".avatar[data-name]")) {
    node.textContent = initial(node.dataset.name);
    node.dataset.hue = String(hueOf(node.dataset.name));
  }
}

/** The page answers a POST: make reloading it a GET, so a form (a new token) is never sent twice. */
function forgetPost() {
  const url = document.body.dataset.reloadUrl;
  if (url) window.history.replaceState(null, "", url);
}

localDates();
passwordRules();
copyButtons();
avatars();
forgetPost();
