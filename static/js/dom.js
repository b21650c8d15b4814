// Small DOM helpers. Text always goes in through textContent, never as markup.

export const byId = (id) => document.getElementById(id);

/**
 * Create an element: el("li", {className: "x", text: userText, dataset: {id: 1}}, child, ...).
 * `text` becomes textContent; children may be nodes or strings (added as text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { text, dataset, attrs, className, ...rest } = props;
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  Object.assign(node.dataset, dataset || {});
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  Object.assign(node, rest);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Replace all children of `node` with `children`. */
export function fill(node, children) {
  node.replaceChildren(...children);
}
